"""Reading inbound and outbound email for pages: the problems an admin works on (outbound dead
letters, inbound messages that failed or are held, newest first, each list bounded) and, for a
ticket's thread, which messages came by email and which attachments were refused."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..notifications.models import OutboxMessage
from ..tickets.models import Ticket
from .models import InboundMessage


@dataclass
class MailProblems:
    dead: list[OutboxMessage]
    failed: list[InboundMessage]
    held: list[InboundMessage]
    protocols: dict[int, str]  # ticket id -> protocol, for the held replies to a known ticket


def _inbound(state: str, limit: int) -> list[InboundMessage]:
    return list(
        db.session.scalars(
            sa.select(InboundMessage)
            .options(selectinload(InboundMessage.mailbox))
            .where(InboundMessage.state == state)
            .order_by(InboundMessage.id.desc())
            .limit(limit)
        )
    )


def mail_problems(limit: int) -> MailProblems:
    """Up to `limit` rows of each kind, and the protocols the held rows refer to."""
    dead = list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.status == "dead")
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
    failed, held = _inbound("failed", limit), _inbound("held", limit)
    ticket_ids = {row.ticket_id for row in held if row.ticket_id}
    protocols = (
        dict(
            db.session.execute(
                sa.select(Ticket.id, Ticket.protocol).where(Ticket.id.in_(ticket_ids))
            ).all()
        )
        if ticket_ids
        else {}
    )
    return MailProblems(dead=dead, failed=failed, held=held, protocols=protocols)


def email_links(ticket_id: int) -> dict[int, int]:
    """{thread message id (0 = the description): inbound email id} for a ticket (one query)."""
    rows = db.session.execute(
        sa.select(InboundMessage.ticket_message_id, InboundMessage.id).where(
            InboundMessage.ticket_id == ticket_id,
            InboundMessage.state.in_(("created", "appended")),
        )
    ).all()
    return {message_id or 0: inbound_id for message_id, inbound_id in rows}


def refused_attachments(ticket_id: int) -> dict[int, list[dict]]:
    """{thread message id (0 = the description): [{name, reason}]} of the attachments an inbound
    email brought that the upload rules refused (too big, a forbidden type, too many)."""
    rows = db.session.execute(
        sa.select(InboundMessage.ticket_message_id, InboundMessage.refused_attachments).where(
            InboundMessage.ticket_id == ticket_id,
            InboundMessage.state.in_(("created", "appended")),
        )
    ).all()
    return {message_id or 0: refused for message_id, refused in rows if refused}
