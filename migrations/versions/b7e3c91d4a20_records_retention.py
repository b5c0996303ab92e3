"""records: data requests, legal hold, anonymised instants

Revision ID: b7e3c91d4a20
Revises: 032b53f1c5e8
Create Date: 2026-12-05 03:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b7e3c91d4a20"
down_revision = "032b53f1c5e8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "data_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("document_pdf", sa.LargeBinary(), nullable=True),
        sa.Column("document_html", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"],
            name=op.f("fk_data_requests_customer_id_customers"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"],
            name=op.f("fk_data_requests_requested_by_id_users"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"],
            name=op.f("fk_data_requests_ticket_id_tickets"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_requests")),
    )
    op.create_index(
        "ix_data_requests_customer", "data_requests", ["customer_id", "requested_at"]
    )
    op.create_index(op.f("ix_data_requests_ticket_id"), "data_requests", ["ticket_id"])
    for table in ("customers", "tickets"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("legal_hold", sa.Boolean(), server_default=sa.false(), nullable=False)
            )
            batch.add_column(
                sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True)
            )


def downgrade():
    for table in ("tickets", "customers"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("anonymised_at")
            batch.drop_column("legal_hold")
    op.drop_index(op.f("ix_data_requests_ticket_id"), table_name="data_requests")
    op.drop_index("ix_data_requests_customer", table_name="data_requests")
    op.drop_table("data_requests")
