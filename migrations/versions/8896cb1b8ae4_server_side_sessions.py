"""server-side sessions (issue 9, stream C): user_sessions replaces users.session_token

Every browser session is a row; logout, deactivation and a new password revoke rows. The old
per-user token is dropped, so cookies issued before this upgrade sign their holders out once.

Revision ID: 8896cb1b8ae4
Revises: 1cc438e9823f
Create Date: 2026-12-02 17:50:14.912402

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8896cb1b8ae4'
down_revision = '1cc438e9823f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'], unique=False)
    # batch mode on SQLite rebuilds `users`; migrations/env.py turns foreign keys off meanwhile,
    # so the rows that point at users survive (tests/test_migration_sessions.py)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_token')


def downgrade():
    # any value ends the old cookies (the old code compares the cookie with it)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_token', sa.String(length=32), nullable=False, server_default='-')
        )
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
