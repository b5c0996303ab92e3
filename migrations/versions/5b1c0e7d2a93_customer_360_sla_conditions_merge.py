"""customer 360: SLA policies match the relationship; merged customer records; feedback list

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
    op.create_table('feedback_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_key', sa.String(length=200), nullable=False),
    sa.Column('customer_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_feedback_topics_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_topics')),
    sa.UniqueConstraint('title_key', name=op.f('uq_feedback_topics_title_key'))
    )
    with op.batch_alter_table('feedback_topics', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_topics_count', ['customer_count', 'id'], unique=False)

    op.create_table('feedback_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_feedback_items_added_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_feedback_items_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_feedback_items_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['feedback_topics.id'], name=op.f('fk_feedback_items_topic_id_feedback_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_items')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_feedback_items_ticket_id'))
    )
    with op.batch_alter_table('feedback_items', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_items_topic_customer', ['topic_id', 'customer_id'], unique=False)

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

    with op.batch_alter_table('feedback_items', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_items_topic_customer')
    op.drop_table('feedback_items')
    with op.batch_alter_table('feedback_topics', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_topics_count')
    op.drop_table('feedback_topics')
