"""Collision detection: who else has a ticket open in the workspace, who is typing a reply, and
whether someone answered since a page was loaded.

Kept in the database (ticket_presence), so it holds across several application servers: each
workspace polls every few seconds and `touch_presence` upserts its row (one statement on SQLite
and PostgreSQL alike, INSERT … ON CONFLICT DO UPDATE); a row older than VIEWING_SECONDS counts as
gone. Stale rows are deleted by the polls themselves: this ticket's (on its index) and the
poller's own, so the table holds only what was seen in the last minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.clock import as_utc, now
from ..extensions import db
from .models import Message, Ticket, TicketPresence

VIEWING_SECONDS = 30  # seen within: still has the ticket open (the page polls every ~12 s)
TYPING_SECONDS = 15  # typed within: still typing
PURGE_SECONDS = 120  # rows older than this are deleted


@dataclass
class Presence:
    viewing: list[str] = field(default_factory=list)  # other staff with the ticket open
    typing: list[str] = field(default_factory=list)  # of those, who is typing a reply
    last_public_id: int = 0  # the newest public message (customer's or agent's)


def _insert(session):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(TicketPresence)


def touch_presence(ticket: Ticket, user: User, *, typing: bool = False, session=None) -> None:
    """Record that `user` has `ticket` open now (and is typing, if so): one upsert."""
    session = session or db.session
    at = now()
    values = {"ticket_id": ticket.id, "user_id": user.id, "seen_at": at}
    update = {"seen_at": at}
    if typing:
        values["typing_at"] = update["typing_at"] = at
    stmt = _insert(session).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=["ticket_id", "user_id"], set_=update)
    session.execute(stmt)


def purge_presence(ticket: Ticket, user: User, *, session=None) -> None:
    """Forget rows nobody refreshed lately: this ticket's, and `user`'s on any ticket."""
    session = session or db.session
    cutoff = now() - timedelta(seconds=PURGE_SECONDS)
    session.execute(
        sa.delete(TicketPresence).where(
            sa.or_(TicketPresence.ticket_id == ticket.id, TicketPresence.user_id == user.id),
            TicketPresence.seen_at < cutoff,
        )
    )


def last_public_message_id(ticket: Ticket, *, session=None) -> int:
    session = session or db.session
    return (
        session.scalar(
            sa.select(sa.func.max(Message.id)).where(
                Message.ticket_id == ticket.id, Message.is_internal.is_(False)
            )
        )
        or 0
    )


def ticket_presence(ticket: Ticket, user: User, *, session=None) -> Presence:
    """The other staff on `ticket` now (not `user`), and the newest public message's id."""
    session = session or db.session
    at = now()
    rows = session.scalars(
        sa.select(TicketPresence)
        .where(
            TicketPresence.ticket_id == ticket.id,
            TicketPresence.user_id != user.id,
            TicketPresence.seen_at >= at - timedelta(seconds=VIEWING_SECONDS),
        )
        .options(joinedload(TicketPresence.user))
        .order_by(TicketPresence.seen_at.desc())
    ).all()
    typing_since = at - timedelta(seconds=TYPING_SECONDS)
    presence = Presence(last_public_id=last_public_message_id(ticket, session=session))
    for row in rows:
        if row.typing_at is not None and as_utc(row.typing_at) >= typing_since:
            presence.typing.append(row.user.name)
        else:
            presence.viewing.append(row.user.name)
    return presence


def answers_since(ticket: Ticket, seen_last: int, user: User, *, session=None) -> list[Message]:
    """Public messages added after the one a page showed last, by anyone but `user` (a
    colleague's answer or the customer's reply): what a reply written meanwhile has not read."""
    session = session or db.session
    return list(
        session.scalars(
            sa.select(Message)
            .where(
                Message.ticket_id == ticket.id,
                Message.is_internal.is_(False),
                Message.id > seen_last,
                sa.or_(Message.author_id.is_(None), Message.author_id != user.id),
            )
            .order_by(Message.id)
            .limit(5)
        )
    )
