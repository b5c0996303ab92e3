"""The 5 whys: a supervisor adds a why, an agent proposes one that a supervisor accepts or removes."""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core.clock import now
from ..core.errors import Conflict, NotFound
from ..core.logs import who
from ..extensions import db
from .fields import text_value
from .history import record
from .models import (
    Investigation,
    InvestigationWhy,
)
from .permissions import can_manage, require_manager, require_viewer

log = logging.getLogger(__name__)


def add_why(inv: Investigation, by: User, text: str) -> InvestigationWhy:
    """A supervisor adds a why to the list; an agent's why is a proposal until accepted."""
    require_viewer(by)
    if not inv.is_active:
        raise Conflict(_l("This investigation is not active."))
    text = text_value(text, "text", required=True, limit=2000)
    accepted = can_manage(by)
    position = max((w.position for w in inv.whys), default=0) + 1
    why = InvestigationWhy(
        investigation=inv,
        position=position,
        text=text,
        accepted=accepted,
        author_id=by.id,
        created_at=now(),
    )
    db.session.add(why)
    record(inv, by, "why_added" if accepted else "why_proposed", detail=text)
    db.session.flush()
    log.info(
        "Investigation %s: why %s %s by %s",
        inv.number,
        why.id,
        "added" if accepted else "proposed",
        who(by),
    )
    return why


def _why(inv: Investigation, why_id: int) -> InvestigationWhy:
    why = next((w for w in inv.whys if w.id == why_id), None)
    if why is None:
        raise NotFound()
    return why


def accept_why(inv: Investigation, by: User, why_id: int) -> None:
    require_manager(by)
    why = _why(inv, why_id)
    if not why.accepted:
        why.accepted = True
        record(inv, by, "why_accepted", detail=why.text)
        db.session.flush()
        log.info("Investigation %s: why %s accepted by %s", inv.number, why.id, who(by))


def remove_why(inv: Investigation, by: User, why_id: int) -> None:
    """Reject a proposal or drop a why (supervisors)."""
    require_manager(by)
    why = _why(inv, why_id)
    record(inv, by, "why_removed", detail=why.text)
    inv.whys.remove(why)
    db.session.delete(why)
    db.session.flush()
    log.info("Investigation %s: why %s removed by %s", inv.number, why_id, who(by))
