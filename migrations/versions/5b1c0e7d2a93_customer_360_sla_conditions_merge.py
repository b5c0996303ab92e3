"""customer 360: SLA policies match the relationship; merged customer records

Revision ID: 5b1c0e7d2a93
Revises: 43e80f72c672
Create Date: 2026-12-05 07:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1c0e7d2a93'
down_revision = '43e80f72c672'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relationship_type', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('lifecycle_stage', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('value_tier', sa.String(length=10), nullable=True))

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_customers_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_customers_merged_into_id_customers'), 'customers', ['merged_into_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customers_merged_into_id_customers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_customers_merged_into_id'))
        batch_op.drop_column('merged_at')
        batch_op.drop_column('merged_into_id')

    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.drop_column('value_tier')
        batch_op.drop_column('lifecycle_stage')
        batch_op.drop_column('relationship_type')
