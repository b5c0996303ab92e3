"""CAPA actions: plan (supervisors) or propose (agents), accept, complete with evidence, cancel;
the scheduler's overdue reminder (each overdue action's owner is emailed once).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.clock import now
from ..core.errors import Conflict, NotFound, ValidationError
from ..core.logs import who
from ..extensions import db
from ..notifications.services import queue_email
from .dates import today
from .fields import date_value, staff_user, text_value
from .history import record
from .models import (
    ACTION_KINDS,
    ACTION_OPEN_STATUSES,
    CapaAction,
    Investigation,
)
from .permissions import can_complete, can_manage, require, require_manager, require_viewer

log = logging.getLogger(__name__)


def add_action(
    inv: Investigation,
    by: User,
    *,
    description: str,
    kind: str = "corrective",
    owner=None,
    due_on=None,
) -> CapaAction:
    """A supervisor plans an action (open; owner defaults to them, due date required); an agent
    proposes one (proposed: owner and due date may wait for the supervisor who accepts it)."""
    require_viewer(by)
    if not inv.is_active:
        raise Conflict(_l("This investigation is not active."))
    description = text_value(description, "description", required=True, limit=2000)
    if kind not in ACTION_KINDS:
        raise ValidationError(_l("Choose corrective or preventive."), field="kind")
    owner_user = staff_user(owner, "owner")
    due = date_value(due_on, "due_on")
    manager = by is None or can_manage(by)
    if manager and owner_user is None and by is not None:
        owner_user = by  # a supervisor's action without an owner is theirs
    if manager and (owner_user is None or due is None):
        errors = {}
        if owner_user is None:
            errors["owner"] = _l("Every action needs an owner.")
        if due is None:
            errors["due_on"] = _l("Every action needs a due date.")
        field = next(iter(errors))
        raise ValidationError(errors[field], field=field)
    action = CapaAction(
        investigation=inv,
        description=description,
        kind=kind,
        owner_id=owner_user.id if owner_user else None,
        owner=owner_user,
        due_on=due,
        status="open" if manager else "proposed",
        proposed_by_id=by.id if by is not None else None,
        created_at=now(),
    )
    db.session.add(action)
    record(inv, by, "action_added" if manager else "action_proposed", detail=description)
    db.session.flush()
    log.info("Investigation %s: action %s %s by %s", inv.number, action.id, action.status, who(by))
    return action


def get_action(inv: Investigation, action_id: int) -> CapaAction:
    action = next((a for a in inv.actions if a.id == action_id), None)
    if action is None:
        raise NotFound()
    return action


def accept_action(action: CapaAction, by: User, *, owner=None, due_on=None) -> None:
    require_manager(by)
    if action.status != "proposed":
        raise Conflict(_l("Only a proposed action can be accepted."))
    owner_user = staff_user(owner, "owner") if owner not in (None, "") else action.owner
    due = date_value(due_on, "due_on") if due_on not in (None, "") else action.due_on
    if owner_user is None:
        raise ValidationError(_l("Every action needs an owner."), field="owner")
    if due is None:
        raise ValidationError(_l("Every action needs a due date."), field="due_on")
    action.owner_id, action.owner, action.due_on = owner_user.id, owner_user, due
    action.status = "open"
    record(action.investigation, by, "action_accepted", detail=action.description)
    db.session.flush()
    log.info(
        "Investigation %s: action %s accepted by %s",
        action.investigation.number,
        action.id,
        who(by),
    )


def complete_action(action: CapaAction, by: User, evidence: str) -> None:
    """The owner (or a supervisor) marks the action done with its evidence."""
    if by is not None:
        require(can_complete(by, action))
    if action.status != "open":
        raise Conflict(_l("Only an open action can be marked done."))
    action.evidence = text_value(evidence, "evidence", required=True, limit=5000)
    action.status = "done"
    action.done_at = now()
    record(action.investigation, by, "action_done", detail=action.description)
    db.session.flush()
    log.info(
        "Investigation %s: action %s done by %s", action.investigation.number, action.id, who(by)
    )


def cancel_action(action: CapaAction, by: User, reason: str) -> None:
    """Reject a proposal or drop a planned action (supervisors), with a reason."""
    require_manager(by)
    if action.status not in ACTION_OPEN_STATUSES:
        raise Conflict(_l("This action is already finished."))
    reason = text_value(reason, "reason", required=True, limit=2000)
    old = action.status
    action.status = "cancelled"
    record(
        action.investigation,
        by,
        "action_rejected" if old == "proposed" else "action_cancelled",
        detail=f"{action.description} — {reason}",
    )
    db.session.flush()
    log.info(
        "Investigation %s: action %s %s by %s",
        action.investigation.number,
        action.id,
        "rejected" if old == "proposed" else "cancelled",
        who(by),
    )


def notify_overdue_actions(limit: int = 500) -> int:
    """Scheduler job: email each overdue action's owner (else the investigation's owner) once.

    The claim is an UPDATE ... WHERE overdue_notified_at IS NULL: two schedulers never both send.
    """
    sent = 0
    candidates = db.session.scalars(
        sa.select(CapaAction)
        .where(
            CapaAction.status == "open",
            CapaAction.due_on < today(),
            CapaAction.overdue_notified_at.is_(None),
        )
        .options(
            joinedload(CapaAction.investigation).joinedload(Investigation.owner),
            joinedload(CapaAction.owner),
        )
        .order_by(CapaAction.id)
        .limit(limit)
    ).all()
    for action in candidates:
        claimed = db.session.execute(
            sa.update(CapaAction)
            .where(CapaAction.id == action.id, CapaAction.overdue_notified_at.is_(None))
            .values(overdue_notified_at=now())
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        recipient = action.owner or action.investigation.owner
        if recipient is None or not recipient.active:
            continue
        queue_email(
            kind="capa_overdue",
            to=recipient.email,
            to_name=recipient.name,
            template="capa_overdue",
            locale=recipient.locale,
            action=action,
            investigation=action.investigation,
        )
        record(action.investigation, None, "action_overdue_notified", detail=action.description)
        sent += 1
    db.session.flush()
    if sent:
        log.info("Overdue CAPA actions: %s owner(s) emailed", sent)
    return sent
