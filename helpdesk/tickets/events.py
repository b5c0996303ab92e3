"""The audit trail of a ticket: one TicketEvent per change, the primitive every package writes.

Below every service (it imports models and core only), so tickets, SLA, routing, escalations,
investigations and channels record their changes here without reaching up into the ticket
services. `record_event` adds one event to the session (and touches the ticket's `updated_at`);
`event_row` and `record_events` are its set-based form, for the sweep's bulk inserts.

Both write each event's link in its ticket's hash chain (tickets/trail.py), here and nowhere
else: an ORM event gets it just before its INSERT (the `before_insert` hook below, which locks the
ticket row on PostgreSQL and reads the ticket's last link once per flush), a bulk batch in
`record_events` (the batch's tickets locked and their last links read in one statement each,
chained in Python, one executemany). Two transactions adding events to one ticket therefore
chain one after the other instead of forking.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from ..accounts.models import User
from ..core.clock import now
from ..extensions import db
from . import trail
from .models import Ticket, TicketEvent


def _shown(value) -> str | None:
    return None if value is None else str(value)[:255]


def record_event(
    ticket: Ticket,
    actor: User | None,
    action: str,
    *,
    field: str | None = None,
    old=None,
    new=None,
    detail: str = "",
    public: bool = False,
) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket,
        actor_id=actor.id if actor else None,
        action=action,
        field=field,
        old_value=_shown(old),
        new_value=_shown(new),
        detail=detail,
        is_public=public,
        created_at=now(),
    )
    db.session.add(event)
    ticket.updated_at = event.created_at
    return event


def event_row(
    ticket_id: int,
    action: str,
    at: datetime,
    *,
    field: str | None = None,
    old=None,
    new=None,
    detail: str = "",
    actor_id: int | None = None,
    public: bool = False,
) -> dict:
    """The values of one TicketEvent row, for `record_events` (no ORM object is built)."""
    return {
        "ticket_id": ticket_id,
        "actor_id": actor_id,
        "action": action,
        "field": field,
        "old_value": _shown(old),
        "new_value": _shown(new),
        "detail": detail,
        "is_public": public,
        "created_at": at,
    }


def record_events(rows: Iterable[dict]) -> int:
    """Insert many events built by `event_row` in one statement (executemany); returns how many.
    The tickets' `updated_at` is the caller's to set (the sweep does it in its own UPDATE)."""
    rows = list(rows)
    if not rows:
        return 0
    db.session.flush()  # events of these tickets pending in the session come first in the chain
    connection = db.session.connection()
    ticket_ids = {row["ticket_id"] for row in rows}
    trail.lock_tickets(connection, ticket_ids)
    heads = trail.heads_for_writing(connection, ticket_ids)
    for row in rows:  # inserted in this order, so their ids follow the chain
        row["chain_hash"] = heads[row["ticket_id"]] = trail.event_hash(
            row, heads.get(row["ticket_id"])
        )
    db.session.execute(sa.insert(TicketEvent.__table__), rows)
    return len(rows)


# the ORM path: each new TicketEvent gets its link just before its INSERT ----------------------

_HEADS = "helpdesk_trail_heads"  # session.info: ticket id -> last link, for one flush
_NEW = "helpdesk_trail_new_tickets"  # session.info: tickets this flush inserts (no events yet)


@sa.event.listens_for(TicketEvent, "before_insert")
def _chain_event(mapper, connection, event: TicketEvent) -> None:
    session = object_session(event)
    heads = session.info.setdefault(_HEADS, {}) if session is not None else {}
    ticket_id = event.ticket_id
    if ticket_id not in heads:  # first event of this ticket in this flush
        new = session.info.get(_NEW, ()) if session is not None else ()
        if any(event.ticket is t for t in new):
            heads[ticket_id] = None  # inserted by this flush: no other transaction sees it yet
        else:
            trail.lock_tickets(connection, [ticket_id])
            heads[ticket_id] = trail.heads_for_writing(connection, [ticket_id]).get(ticket_id)
    if event.created_at is None:
        event.created_at = now()
    event.chain_hash = heads[ticket_id] = trail.event_hash(event, heads[ticket_id])


@sa.event.listens_for(Session, "before_flush")
@sa.event.listens_for(Session, "after_flush_postexec")
def _forget_heads(session, *args) -> None:
    """The cache lives for one flush only (a rolled-back savepoint must not leave stale links)."""
    session.info.pop(_HEADS, None)
    session.info.pop(_NEW, None)


@sa.event.listens_for(Session, "before_flush")
def _note_new_tickets(session, *args) -> None:
    """Tickets inserted by this flush have no event stored yet: their chains start here, without
    a lock or a read of the last link (one SELECT less per registration)."""
    new = [obj for obj in session.new if isinstance(obj, Ticket)]
    if new:
        session.info[_NEW] = new
