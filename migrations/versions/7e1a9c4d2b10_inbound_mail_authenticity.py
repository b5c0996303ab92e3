"""inbound mail: Authentication-Results, held replies, refused attachments

Revision ID: 7e1a9c4d2b10
Revises: 8896cb1b8ae4
Create Date: 2026-12-02 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7e1a9c4d2b10'
down_revision = '8896cb1b8ae4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mailboxes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_unauthenticated', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_spf', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('auth_dkim', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('auth_dmarc', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('auth_header', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('refused_attachments', sa.JSON(), server_default='[]', nullable=False))


def downgrade():
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('refused_attachments')
        batch_op.drop_column('auth_header')
        batch_op.drop_column('auth_dmarc')
        batch_op.drop_column('auth_dkim')
        batch_op.drop_column('auth_spf')
    with op.batch_alter_table('mailboxes', schema=None) as batch_op:
        batch_op.drop_column('hold_unauthenticated')
