"""report indexes: demands by registration time, status events by action

Revision ID: 7c3e5a1d9b20
Revises: b7e3c91d4a20
Create Date: 2026-12-05 03:10:00
"""

from alembic import op

revision = "7c3e5a1d9b20"
down_revision = "b7e3c91d4a20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_tickets_created_department", "tickets", ["created_at", "department_id"], unique=False
    )
    op.create_index(
        "ix_ticket_events_action",
        "ticket_events",
        ["action", "new_value", "created_at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_ticket_events_action", table_name="ticket_events")
    op.drop_index("ix_tickets_created_department", table_name="tickets")
