"""tickets: an index for the channel= filter of the ticket lists

Revision ID: a7d4c2e91b30
Revises: 7e1a9c4d2b10
Create Date: 2026-12-02 18:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7d4c2e91b30'
down_revision = '7e1a9c4d2b10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(
            'ix_tickets_channel_created', ['channel', 'created_at', 'id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_channel_created')
