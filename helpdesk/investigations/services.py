"""Investigation rules: the status machine, closing checks, linking, recurrence, 5 whys, CAPA,
effectiveness, customer notices, suggestions and overdue actions.

Every function takes an actor (`by`; None = the system, e.g. an escalation rule), checks the named
permission, flushes (never commits) and appends an InvestigationEvent for each change.

Who may do what ("propose" defined):
- supervisors and admins own investigations: create, edit, change status, close, reopen, cancel,
  accept or reject proposals, tell the customers;
- agents see every investigation, link and unlink tickets they can work, and *propose*: a why
  (shown as "proposed" until a supervisor accepts it into the 5 whys) and an action (status
  "proposed" until a supervisor accepts it as open, or rejects it); the owner of an action marks it
  done with its evidence;
- customers never see any of it (only the public message the notice adds to their ticket).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, load_only, selectinload

from ..accounts.models import Department, User
from ..core.clock import now
from ..core.errors import Conflict, NotAllowed, NotFound, ValidationError
from ..core.permissions import can_work_ticket, is_staff, is_supervisor
from ..core.text import MAX_ID, ascii_digits, clean_text, id_number
from ..customers.models import Customer
from ..extensions import db
from ..notifications.services import queue_email
from ..tickets import services as tickets
from ..tickets.events import record_event
from ..tickets.models import Category, Ticket
from .models import (
    ACTION_KINDS,
    ACTION_OPEN_STATUSES,
    ACTIVE_STATUSES,
    ISHIKAWA,
    LEVELS,
    NOTICE_LANGUAGE_LABELS,
    NOTICE_LANGUAGES,
    STATUSES,
    VERDICTS,
    CapaAction,
    Investigation,
    InvestigationEvent,
    InvestigationTicket,
    InvestigationWhy,
    IshikawaSubcategory,
    NoticeBroadcast,
    NoticeDelivery,
)

MAX_TITLE = 200
MAX_TEXT = 20000
SUGGESTION_DAYS = 180  # closed investigations stay suggestable this long (a recurrence)

TRANSITIONS = {
    "open": {"analysing", "cancelled"},
    "analysing": {"acting", "cancelled"},
    "acting": {"verifying", "analysing", "cancelled"},
    "verifying": {"closed", "acting", "cancelled"},
    "closed": {"analysing"},  # reopen
    "cancelled": {"open"},  # reopen
}

# what people write when they have no result yet: never accepted as an effectiveness result
PLACEHOLDERS = {
    "n/a", "na", "n.a", "n.a.", "n/d", "nd", "-", "--", "---", "—", "–", ".", "..", "...", "?",
    "??", "none", "null", "nil", "tbd", "todo", "to do", "pending", "x", "xx", "xxx", "ok",
    "nenhum", "nenhuma", "nada", "pendente", "ninguno", "ninguna", "pendiente", "s/r", "s/n",
    "sem resultado", "sin resultado", "não se aplica", "nao se aplica", "no aplica", "no aplica.",
}  # fmt: skip


class TransitionRefused(Conflict):
    """A status change whose conditions are not met; `errors` says why, field by field."""

    code = "investigation-transition-refused"
    default_message = _l("This status change is not possible yet: %(reasons)s")

    def __init__(self, errors: dict, message=None):
        reasons = " ".join(str(v) for v in errors.values())
        super().__init__(message, reasons=reasons)
        self.errors = errors
        self.field = next(iter(errors), None)


class CloseRefused(TransitionRefused):
    code = "investigation-close-refused"
    default_message = _l("This investigation cannot be closed yet: %(reasons)s")


# time -----------------------------------------------------------------------------------------


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def today() -> date:
    return now().astimezone(local_zone()).date()


def day_start(value: date) -> datetime:
    """The UTC instant where this local day begins."""
    return datetime(value.year, value.month, value.day, tzinfo=local_zone()).astimezone(
        ZoneInfo("UTC")
    )


# permissions ----------------------------------------------------------------------------------


def can_see(user) -> bool:
    return is_staff(user)


def can_manage(user) -> bool:
    return is_supervisor(user)


def can_complete(user, action: CapaAction) -> bool:
    return can_manage(user) or (is_staff(user) and action.owner_id == user.id)


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed()


def _manage(by) -> None:
    if by is not None:
        _require(can_manage(by))


def _see(by) -> None:
    if by is not None:
        _require(can_see(by))


# history --------------------------------------------------------------------------------------


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


# lookups --------------------------------------------------------------------------------------


def get_by_number(number: str) -> Investigation:
    value = (number or "").strip().upper()
    if ascii_digits(value):
        value = f"INV-{int(value):05d}"
    inv = db.session.scalar(sa.select(Investigation).where(Investigation.number == value))
    if inv is None:
        raise NotFound(_l("No investigation has this number."), field="number")
    return inv


def link_of(ticket: Ticket) -> InvestigationTicket | None:
    return db.session.scalar(
        sa.select(InvestigationTicket)
        .where(InvestigationTicket.ticket_id == ticket.id)
        .options(joinedload(InvestigationTicket.investigation))
    )


def recurrence_count(inv: Investigation) -> int:
    return sum(1 for link in inv.links if link.is_recurrence)


# fields ---------------------------------------------------------------------------------------


def _text(value, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    return clean_text(value, field, required=required, limit=limit)


def _number(value, field: str):
    if value in (None, ""):
        return None
    # INTEGER columns: PostgreSQL refuses more than 2**31 - 1
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise ValidationError(_l("Give a whole number, zero or more."), field=field)
    return value


def _level(value, field: str) -> int:
    if value not in LEVELS:
        raise ValidationError(_l("Choose low, medium or high."), field=field)
    return value


def _date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(_l("Give a date as YYYY-MM-DD."), field=field) from None


def _user(value, field: str) -> User | None:
    if value in (None, ""):
        return None
    user = value if isinstance(value, User) else db.session.get(User, id_number(value) or 0)
    if user is None or not user.active or not user.is_staff:
        raise ValidationError(_l("Choose an active member of staff."), field=field)
    return user


def _owner(value) -> User | None:
    user = _user(value, "owner")
    if user is not None and not user.is_supervisor:
        raise ValidationError(
            _l("Investigations are owned by a supervisor or an administrator."), field="owner"
        )
    return user


def _department(value) -> Department | None:
    if value in (None, ""):
        return None
    dept = (
        value
        if isinstance(value, Department)
        else db.session.get(Department, id_number(value) or 0)
    )
    if dept is None or not dept.active:
        raise ValidationError(_l("Choose an active department."), field="department")
    return dept


def _category(value) -> Category | None:
    if value in (None, ""):
        return None
    cat = value if isinstance(value, Category) else db.session.get(Category, id_number(value) or 0)
    if cat is None:
        raise ValidationError(_l("Unknown category."), field="category")
    return cat


def _ishikawa(value) -> str | None:
    if value in (None, ""):
        return None
    if value not in ISHIKAWA:
        raise ValidationError(_l("Choose one of the six Ishikawa categories."), field="ishikawa")
    return value


def _subcategory(value, ishikawa: str | None) -> IshikawaSubcategory | None:
    if value in (None, ""):
        return None
    sub = (
        value
        if isinstance(value, IshikawaSubcategory)
        else db.session.get(IshikawaSubcategory, id_number(value) or 0)
    )
    if sub is None or not sub.active:
        raise ValidationError(_l("Unknown sub-category."), field="subcategory")
    if sub.category != ishikawa:
        raise ValidationError(
            _l("This sub-category belongs to another Ishikawa category."), field="subcategory"
        )
    return sub


def _keywords(value) -> str:
    if isinstance(value, list | tuple):
        value = ",".join(value)
    words = [w.strip() for w in (value or "").replace(";", ",").split(",")]
    words = [w for w in dict.fromkeys(words) if w]
    text = ", ".join(words)
    if len(text) > 500:
        raise ValidationError(
            _l("This text is too long (at most %(n)s characters)."), field="keywords", n=500
        )
    return text


def _verdict(value) -> str | None:
    if value in (None, ""):
        return None
    if value not in VERDICTS:
        raise ValidationError(_l("Choose effective or not effective."), field="verdict")
    return value


# field name -> cleaner(value, values) ; long texts are recorded without their values
FIELDS = {
    "title": lambda v, _: _text(v, "title", required=True, limit=MAX_TITLE),
    "statement": lambda v, _: _text(v, "statement"),
    "location": lambda v, _: _text(v, "location", limit=200),
    "since": lambda v, _: _date(v, "since"),
    "customers_affected": lambda v, _: _number(v, "customers_affected"),
    "estimated_cost": lambda v, _: _number(v, "estimated_cost"),
    "impact": lambda v, _: _level(v, "impact"),
    "urgency": lambda v, _: _level(v, "urgency"),
    "owner": lambda v, _: _owner(v),
    "department": lambda v, _: _department(v),
    "category": lambda v, _: _category(v),
    "keywords": lambda v, _: _keywords(v),
    "containment": lambda v, _: _text(v, "containment"),
    "ishikawa": lambda v, _: _ishikawa(v),
    "subcategory": lambda v, values: _subcategory(v, values.get("ishikawa")),
    "root_cause": lambda v, _: _text(v, "root_cause"),
    "evidence": lambda v, _: _text(v, "evidence"),
    "metric": lambda v, _: _text(v, "metric", limit=300),
    "baseline": lambda v, _: _text(v, "baseline", limit=100),
    "target": lambda v, _: _text(v, "target", limit=100),
    "check_on": lambda v, _: _date(v, "check_on"),
    "result": lambda v, _: _text(v, "result"),
    "verdict": lambda v, _: _verdict(v),
    "notice_pt_br": lambda v, _: _text(v, "notice_pt_br", limit=5000),
    "notice_es": lambda v, _: _text(v, "notice_es", limit=5000),
    "notice_en": lambda v, _: _text(v, "notice_en", limit=5000),
}
RELATIONS = {"owner", "department", "category", "subcategory"}
LONG_TEXTS = {
    "statement",
    "containment",
    "root_cause",
    "evidence",
    "result",
    "notice_pt_br",
    "notice_es",
    "notice_en",
}


def _shown(name: str, value):
    if value is None:
        return None
    if name in RELATIONS:
        return getattr(value, "name", value)
    return value


def _apply(inv: Investigation, by, values: dict, *, created: bool = False) -> None:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationError(_l("Unknown field."), field=sorted(unknown)[0])
    merged = {"ishikawa": inv.ishikawa, **values}
    cleaned = {name: FIELDS[name](value, merged) for name, value in values.items()}
    sub = inv.subcategory
    if "ishikawa" in cleaned and "subcategory" not in cleaned and sub is not None:
        cleaned["subcategory"] = sub if sub.category == cleaned["ishikawa"] else None
    for name, value in cleaned.items():
        old = getattr(inv, name)
        if name in RELATIONS:
            if (old.id if old else None) == (value.id if value else None):
                continue
            setattr(inv, f"{name}_id", value.id if value else None)
        elif old == value:
            continue
        setattr(inv, name, value)
        if not created:
            long = name in LONG_TEXTS
            record(
                inv,
                by,
                "updated",
                field=name,
                old=None if long else _shown(name, old),
                new=None if long else _shown(name, value),
            )


# create and edit ------------------------------------------------------------------------------


def open_investigation(
    *,
    by: User | None,
    title: str,
    from_ticket: Ticket | None = None,
    tickets_to_link=(),
    **values,
) -> Investigation:
    """Open a new investigation (supervisors, admins, or the system when by is None), linking
    `from_ticket` and `tickets_to_link`. The owner defaults to the supervisor who opens it; the
    category and department default to the first ticket's."""
    _manage(by)
    first = from_ticket or next(iter(tickets_to_link), None)
    values.setdefault("owner", by)
    if first is not None:
        values.setdefault("category", first.category_id)
        values.setdefault("department", first.department_id)
    inv = Investigation(
        title="",
        status="open",
        created_by_id=by.id if by is not None else None,
        created_at=now(),
        updated_at=now(),
    )
    _apply(inv, by, {"title": title, **values}, created=True)
    db.session.add(inv)
    db.session.flush()
    inv.number = f"INV-{inv.id:05d}"
    record(inv, by, "created", new=inv.number)
    seen = set()
    for ticket in [t for t in (from_ticket, *tickets_to_link) if t is not None]:
        if ticket.id not in seen:
            seen.add(ticket.id)
            link_ticket(inv, ticket, by=by)
    db.session.flush()
    return inv


def update_investigation(inv: Investigation, by: User | None, **values) -> Investigation:
    _manage(by)
    if inv.status == "cancelled":
        raise Conflict(_l("This investigation was cancelled; reopen it to change it."))
    _apply(inv, by, values)
    db.session.flush()
    return inv


# status machine -------------------------------------------------------------------------------


def is_real_result(text: str | None) -> bool:
    """An effectiveness result is real when it says something: not empty, not "N/A" or "-"."""
    value = " ".join((text or "").split()).strip().lower()
    if not value or value in PLACEHOLDERS or value.rstrip(".!") in PLACEHOLDERS:
        return False
    letters = sum(ch.isalpha() for ch in value)
    return any(ch.isdigit() for ch in value) or letters >= 3


def blockers(inv: Investigation, status: str) -> dict:
    """Why the investigation cannot move to `status` now ({} when it can)."""
    errors: dict = {}
    if status == "acting":
        if not inv.root_cause.strip():
            errors["root_cause"] = _l("Record the confirmed root cause.")
        if not inv.ishikawa:
            errors["ishikawa"] = _l("Choose the Ishikawa category of the root cause.")
    if status == "verifying":
        if not any(a.status != "cancelled" for a in inv.actions):
            errors["actions"] = _l("Plan at least one corrective or preventive action.")
        if not inv.metric.strip():
            errors["metric"] = _l("Define the effectiveness metric.")
        if not inv.check_on:
            errors["check_on"] = _l("Set the date of the effectiveness check.")
    if status == "closed":
        still_open = [a for a in inv.actions if a.status in ACTION_OPEN_STATUSES]
        if still_open:
            errors["actions"] = _l(
                "%(n)s action(s) are still open or proposed; finish or cancel them.",
                n=len(still_open),
            )
        if not inv.metric.strip():
            errors["metric"] = _l("Define the effectiveness metric.")
        if not is_real_result(inv.result):
            errors["result"] = _l(
                "Record the effectiveness result (a measured value; “N/A” is not a result)."
            )
        elif inv.verdict != "effective":
            errors["verdict"] = _l(
                "The effectiveness check must show the actions were effective; "
                "if they were not, go back to acting."
            )
    return errors


def change_status(inv: Investigation, by: User | None, status: str, *, reason: str = "") -> None:
    """Move along open → analysing → acting → verifying → closed (or cancelled with a reason);
    a closed investigation reopens to analysing, a cancelled one to open (with a reason)."""
    _manage(by)
    if status not in STATUSES:
        raise ValidationError(_l("Unknown status."), field="status")
    if status == inv.status:
        return
    if status not in TRANSITIONS[inv.status]:
        raise ValidationError(_l("This status change is not possible."), field="status")
    reopening = inv.status in ("closed", "cancelled")
    reason = _text(reason, "reason", required=status == "cancelled" or reopening, limit=2000)
    errors = blockers(inv, status)
    if errors:
        raise (CloseRefused if status == "closed" else TransitionRefused)(
            {k: str(v) for k, v in errors.items()}
        )
    old = inv.status
    inv.status = status
    if status == "closed":
        inv.closed_at = now()
    if status == "cancelled":
        inv.cancel_reason = reason
        inv.closed_at = now()
    if reopening:
        inv.closed_at = None
        inv.reopened_count += 1
        inv.verdict = None  # a reopened investigation needs a new check
    record(inv, by, "status", field="status", old=old, new=status, detail=reason)
    db.session.flush()


def reopen_investigation(inv: Investigation, by: User | None, reason: str) -> None:
    target = "analysing" if inv.status == "closed" else "open"
    if inv.status not in ("closed", "cancelled"):
        raise ValidationError(_l("Only a closed or cancelled investigation reopens."))
    change_status(inv, by, target, reason=reason)


# linking --------------------------------------------------------------------------------------


def link_ticket(inv: Investigation, ticket: Ticket, *, by: User | None) -> InvestigationTicket:
    """Link a ticket (staff who can work it, or the system). A ticket linked after the
    investigation was closed is a recurrence. Linking twice to the same one changes nothing."""
    _see(by)
    if by is not None and not can_work_ticket(by, ticket):
        raise NotAllowed(_l("You cannot work this demand."))
    if inv.status == "cancelled":
        raise Conflict(_l("This investigation was cancelled; tickets cannot be linked to it."))
    current = link_of(ticket)
    if current is not None:
        if current.investigation_id == inv.id:
            return current
        raise Conflict(
            _l(
                "Demand %(protocol)s is already linked to %(number)s; unlink it there first.",
            ),
            field="protocol",
            protocol=ticket.protocol,
            number=current.investigation.number,
        )
    recurrence = inv.status == "closed"
    link = InvestigationTicket(
        investigation=inv,
        ticket_id=ticket.id,
        ticket=ticket,
        linked_by_id=by.id if by is not None else None,
        linked_at=now(),
        is_recurrence=recurrence,
    )
    db.session.add(link)
    record(
        inv,
        by,
        "recurrence" if recurrence else "linked",
        new=ticket.protocol,
    )
    record_event(ticket, by, "investigation_linked", new=inv.number)
    db.session.flush()
    return link


def unlink_ticket(inv: Investigation, ticket: Ticket, *, by: User | None) -> None:
    _see(by)
    if by is not None and not can_work_ticket(by, ticket):
        raise NotAllowed(_l("You cannot work this demand."))
    link = link_of(ticket)
    if link is None or link.investigation_id != inv.id:
        raise NotFound(_l("This demand is not linked to this investigation."), field="protocol")
    inv.links.remove(link)
    db.session.delete(link)
    record(inv, by, "unlinked", old=ticket.protocol)
    record_event(ticket, by, "investigation_unlinked", old=inv.number)
    db.session.flush()


# 5 whys ---------------------------------------------------------------------------------------


def add_why(inv: Investigation, by: User, text: str) -> InvestigationWhy:
    """A supervisor adds a why to the list; an agent's why is a proposal until accepted."""
    _see(by)
    if not inv.is_active:
        raise Conflict(_l("This investigation is not active."))
    text = _text(text, "text", required=True, limit=2000)
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
    return why


def _why(inv: Investigation, why_id: int) -> InvestigationWhy:
    why = next((w for w in inv.whys if w.id == why_id), None)
    if why is None:
        raise NotFound()
    return why


def accept_why(inv: Investigation, by: User, why_id: int) -> None:
    _manage(by)
    why = _why(inv, why_id)
    if not why.accepted:
        why.accepted = True
        record(inv, by, "why_accepted", detail=why.text)
        db.session.flush()


def remove_why(inv: Investigation, by: User, why_id: int) -> None:
    """Reject a proposal or drop a why (supervisors)."""
    _manage(by)
    why = _why(inv, why_id)
    record(inv, by, "why_removed", detail=why.text)
    inv.whys.remove(why)
    db.session.delete(why)
    db.session.flush()


# CAPA actions ---------------------------------------------------------------------------------


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
    _see(by)
    if not inv.is_active:
        raise Conflict(_l("This investigation is not active."))
    description = _text(description, "description", required=True, limit=2000)
    if kind not in ACTION_KINDS:
        raise ValidationError(_l("Choose corrective or preventive."), field="kind")
    owner_user = _user(owner, "owner")
    due = _date(due_on, "due_on")
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
    return action


def get_action(inv: Investigation, action_id: int) -> CapaAction:
    action = next((a for a in inv.actions if a.id == action_id), None)
    if action is None:
        raise NotFound()
    return action


def accept_action(action: CapaAction, by: User, *, owner=None, due_on=None) -> None:
    _manage(by)
    if action.status != "proposed":
        raise Conflict(_l("Only a proposed action can be accepted."))
    owner_user = _user(owner, "owner") if owner not in (None, "") else action.owner
    due = _date(due_on, "due_on") if due_on not in (None, "") else action.due_on
    if owner_user is None:
        raise ValidationError(_l("Every action needs an owner."), field="owner")
    if due is None:
        raise ValidationError(_l("Every action needs a due date."), field="due_on")
    action.owner_id, action.owner, action.due_on = owner_user.id, owner_user, due
    action.status = "open"
    record(action.investigation, by, "action_accepted", detail=action.description)
    db.session.flush()


def complete_action(action: CapaAction, by: User, evidence: str) -> None:
    """The owner (or a supervisor) marks the action done with its evidence."""
    if by is not None:
        _require(can_complete(by, action))
    if action.status != "open":
        raise Conflict(_l("Only an open action can be marked done."))
    action.evidence = _text(evidence, "evidence", required=True, limit=5000)
    action.status = "done"
    action.done_at = now()
    record(action.investigation, by, "action_done", detail=action.description)
    db.session.flush()


def cancel_action(action: CapaAction, by: User, reason: str) -> None:
    """Reject a proposal or drop a planned action (supervisors), with a reason."""
    _manage(by)
    if action.status not in ACTION_OPEN_STATUSES:
        raise Conflict(_l("This action is already finished."))
    reason = _text(reason, "reason", required=True, limit=2000)
    old = action.status
    action.status = "cancelled"
    record(
        action.investigation,
        by,
        "action_rejected" if old == "proposed" else "action_cancelled",
        detail=f"{action.description} — {reason}",
    )
    db.session.flush()


def overdue_actions_query(owner_id: int | None = None):
    stmt = (
        sa.select(CapaAction)
        .where(CapaAction.status == "open", CapaAction.due_on < today())
        .options(joinedload(CapaAction.investigation), joinedload(CapaAction.owner))
        .order_by(CapaAction.due_on, CapaAction.id)
    )
    if owner_id is not None:
        stmt = stmt.where(CapaAction.owner_id == owner_id)
    return stmt


def open_actions_of(user: User) -> list[CapaAction]:
    return list(
        db.session.scalars(
            sa.select(CapaAction)
            .where(CapaAction.status == "open", CapaAction.owner_id == user.id)
            .options(joinedload(CapaAction.investigation))
            .order_by(CapaAction.due_on, CapaAction.id)
        )
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
    return sent


# telling the customers ------------------------------------------------------------------------


def customer_language(ticket: Ticket) -> str:
    customer = ticket.customer
    locale = customer.locale or (customer.user.locale if customer.user else None)
    locale = (locale or current_app.config["BABEL_DEFAULT_LOCALE"] or "en").replace("-", "_")
    if locale.lower().startswith("pt"):
        return "pt_BR"
    if locale.lower().startswith("es"):
        return "es"
    return "en"


def _fill(template: str, ticket: Ticket, inv: Investigation) -> str:
    return (
        template.replace("{protocol}", ticket.protocol)
        .replace("{name}", ticket.customer.name)
        .replace("{number}", inv.number or "")
    )


def broadcast_key(inv: Investigation) -> str:
    """The same texts are the same broadcast: re-running it only tells tickets not told yet."""
    text = "\x1f".join(inv.notice_for(lang) for lang in NOTICE_LANGUAGES)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def notify_customers(
    inv: Investigation,
    by: User | None,
    *,
    resolve: bool = False,
    templates: dict | None = None,
    key: str | None = None,
) -> dict:
    """One public message on every linked ticket, in its customer's language; optionally resolve.

    Idempotent: deliveries are recorded per (broadcast, ticket), and the broadcast is keyed by
    its texts (or `key`), so a retried or repeated run never tells a customer twice.
    """
    _manage(by)
    # two runs at once (a double click on two workers) wait for each other here, so the second
    # sees the first one's deliveries (PostgreSQL row lock; SQLite serializes writers anyway)
    db.session.execute(
        sa.select(Investigation.id).where(Investigation.id == inv.id).with_for_update()
    )
    if templates:
        _apply(inv, by, {f"notice_{k.lower()}": v for k, v in templates.items()})
    links = list(inv.links)
    if not links:
        raise ValidationError(_l("No demand is linked to this investigation."))
    key = key or broadcast_key(inv)
    broadcast = db.session.scalar(
        sa.select(NoticeBroadcast).where(
            NoticeBroadcast.investigation_id == inv.id, NoticeBroadcast.key == key
        )
    )
    if broadcast is None:
        broadcast = NoticeBroadcast(
            investigation_id=inv.id,
            key=key,
            resolve=resolve,
            actor_id=by.id if by is not None else None,
            created_at=now(),
        )
        db.session.add(broadcast)
        db.session.flush()
    told = {d.ticket_id for d in broadcast.deliveries}
    pending = [link.ticket for link in links if link.ticket_id not in told]
    missing: dict[str, int] = {}
    for ticket in pending:
        lang = customer_language(ticket)
        if ticket.status != "closed" and not inv.notice_for(lang).strip():
            missing[lang] = missing.get(lang, 0) + 1
    if missing:
        lang = next(iter(missing))
        raise ValidationError(
            _l("Write the message in %(languages)s: some customers speak it."),
            field=f"notice_{lang.lower()}",
            languages=", ".join(NOTICE_LANGUAGE_LABELS[k] for k in missing),
        )
    counts = {"sent": 0, "skipped": 0, "already": len(links) - len(pending)}
    for ticket in pending:
        lang = customer_language(ticket)
        message = None
        if ticket.status == "closed":
            outcome = "skipped_closed"
            counts["skipped"] += 1
        else:
            message = tickets.add_message(
                ticket,
                by,
                _fill(inv.notice_for(lang), ticket, inv),
                channel="web",
                new_status="resolved" if resolve else None,
            )
            record_event(ticket, by, "investigation_notice", new=inv.number)
            outcome = "sent"
            counts["sent"] += 1
        db.session.add(
            NoticeDelivery(
                broadcast=broadcast,
                ticket_id=ticket.id,
                message_id=message.id if message else None,
                language=lang,
                outcome=outcome,
                created_at=now(),
            )
        )
    record(
        inv,
        by,
        "customers_notified",
        new=counts["sent"],
        detail=f"sent={counts['sent']} skipped={counts['skipped']} already={counts['already']}"
        + (" resolve" if resolve else ""),
    )
    db.session.flush()
    return counts


# suggestions ----------------------------------------------------------------------------------


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", _fold(text)))


def keyword_hits(inv: Investigation, text: str) -> list[str]:
    folded = " " + " ".join(re.findall(r"\w+", _fold(text))) + " "
    hits = []
    for keyword in (k.strip() for k in inv.keywords.split(",")):
        phrase = " ".join(re.findall(r"\w+", _fold(keyword)))
        if phrase and f" {phrase} " in folded:
            hits.append(keyword)
    return hits


def suggestions_for(ticket: Ticket, limit: int = 5) -> list[tuple[Investigation, list[str]]]:
    """Active (and recently closed) investigations whose category and keywords match the ticket:
    (investigation, matched keywords), best first. A category match alone is not enough when the
    investigation has keywords; a keyword match alone is."""
    since = now() - timedelta(days=SUGGESTION_DAYS)
    stmt = (
        sa.select(Investigation)
        .where(
            sa.or_(
                Investigation.status.in_(ACTIVE_STATUSES),
                sa.and_(Investigation.status == "closed", Investigation.closed_at >= since),
            )
        )
        # only rows that could score: a keyword list, or the ticket's category
        .where(
            sa.or_(
                Investigation.keywords != "",
                Investigation.category_id == ticket.category_id
                if ticket.category_id is not None
                else sa.false(),
            )
        )
        # the scoring reads few columns (the text fields of a few winners load when shown)
        .options(
            load_only(
                Investigation.id,
                Investigation.number,
                Investigation.title,
                Investigation.status,
                Investigation.category_id,
                Investigation.keywords,
                Investigation.closed_at,
            )
        )
        .order_by(Investigation.id.desc())
        .limit(300)
    )
    text = f"{ticket.subject} {ticket.description}"
    scored = []
    for inv in db.session.scalars(stmt):
        same_category = ticket.category_id is not None and inv.category_id == ticket.category_id
        hits = keyword_hits(inv, text) if inv.keywords else []
        if hits:
            score = len(hits) * 2 + (3 if same_category else 0)
        elif same_category and not inv.keywords:
            score = 1
        else:
            continue
        active_first = 0 if inv.is_active else 1
        scored.append((active_first, -score, -inv.id, inv, hits))
    scored.sort(key=lambda row: row[:3])
    return [(row[3], row[4]) for row in scored[:limit]]


# Ishikawa sub-categories (admin) --------------------------------------------------------------


def create_subcategory(category: str, name: str) -> IshikawaSubcategory:
    if category not in ISHIKAWA:
        raise ValidationError(_l("Choose one of the six Ishikawa categories."), field="category")
    name = _text(name, "name", required=True, limit=120)
    exists = db.session.scalar(
        sa.select(IshikawaSubcategory.id).where(
            IshikawaSubcategory.category == category,
            sa.func.lower(IshikawaSubcategory.name) == name.lower(),
        )
    )
    if exists:
        raise ValidationError(_l("This sub-category already exists."), field="name")
    sub = IshikawaSubcategory(category=category, name=name, active=True, created_at=now())
    db.session.add(sub)
    db.session.flush()
    return sub


def set_subcategory_active(sub: IshikawaSubcategory, active: bool) -> None:
    sub.active = active
    db.session.flush()


def subcategories(active_only: bool = True) -> list[IshikawaSubcategory]:
    stmt = sa.select(IshikawaSubcategory).order_by(
        IshikawaSubcategory.category, IshikawaSubcategory.name
    )
    if active_only:
        stmt = stmt.where(IshikawaSubcategory.active.is_(True))
    return list(db.session.scalars(stmt))


# loading for pages ----------------------------------------------------------------------------


def load_full(inv_id: int) -> Investigation:
    """The investigation with everything its page shows, in a fixed number of statements."""
    return db.session.scalars(
        sa.select(Investigation)
        .where(Investigation.id == inv_id)
        .options(
            joinedload(Investigation.owner),
            joinedload(Investigation.department),
            joinedload(Investigation.category),
            joinedload(Investigation.subcategory),
            selectinload(Investigation.links).options(
                joinedload(InvestigationTicket.ticket).options(
                    joinedload(Ticket.customer).joinedload(Customer.user),
                    joinedload(Ticket.department),
                ),
            ),
            selectinload(Investigation.whys).joinedload(InvestigationWhy.author),
            selectinload(Investigation.actions).options(
                joinedload(CapaAction.owner), joinedload(CapaAction.proposed_by)
            ),
            selectinload(Investigation.events).joinedload(InvestigationEvent.actor),
        )
    ).one()
