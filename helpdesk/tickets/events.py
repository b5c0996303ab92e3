"""The audit trail of a ticket: one TicketEvent per change, the primitive every package writes.

Below every service (it imports models and core only), so tickets, SLA, routing, escalations,
investigations and channels record their changes here without reaching up into the ticket
services. `record_event` adds one event to the session (and touches the ticket's `updated_at`);
`event_row` and `record_events` are its set-based form, for the sweep's bulk inserts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from ..accounts.models import User
from ..core.clock import now
from ..extensions import db
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
    if rows:
        db.session.execute(sa.insert(TicketEvent.__table__), rows)
    return len(rows)
