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


def _drop_session_token():
    """Drop users.session_token without rebuilding `users`.

    On SQLite a batch operation rebuilds the table (copy, DROP, rename); with foreign keys on,
    dropping `users` cascades: memberships, API tokens and other rows pointing at users would be
    deleted. SQLite 3.35+ drops a plain column in place, which is what runs here.
    """
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.drop_column('users', 'session_token')
        return
    import sqlite3

    if sqlite3.sqlite_version_info < (3, 35, 0):
        raise RuntimeError(
            'SQLite 3.35 or newer is needed to drop users.session_token in place '
            f'(this one is {sqlite3.sqlite_version}); upgrade SQLite (or Python) and run again'
        )
    op.execute('ALTER TABLE users DROP COLUMN session_token')


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
    _drop_session_token()


def downgrade():
    # ADD COLUMN works in place everywhere; any value ends the old cookies (the old code compares
    # the cookie with it)
    op.add_column(
        'users',
        sa.Column('session_token', sa.String(length=32), nullable=False, server_default='-'),
    )
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
