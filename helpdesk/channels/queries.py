"""Read-side queries on channels that other packages need (webhooks' payloads)."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..tickets.models import Ticket
from .models import Conversation


def conversation_of(ticket: Ticket) -> Conversation | None:
    """The ticket's latest connector conversation, if any."""
    return db.session.scalar(
        sa.select(Conversation)
        .where(Conversation.ticket_id == ticket.id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
