"""The investigation's own history: one InvestigationEvent per change (its timeline)."""

from __future__ import annotations

from ..core.clock import now
from ..extensions import db
from .models import (
    Investigation,
    InvestigationEvent,
)


def record(
    inv: Investigation, by, action: str, *, field=None, old=None, new=None, detail: str = ""
) -> InvestigationEvent:
    event = InvestigationEvent(
        investigation=inv,
        actor_id=by.id if by is not None else None,
        action=action,
        field=field,
        old_value=None if old is None else str(old)[:255],
        new_value=None if new is None else str(new)[:255],
        detail=detail,
        created_at=now(),
    )
    db.session.add(event)
    inv.updated_at = event.created_at
    return event
