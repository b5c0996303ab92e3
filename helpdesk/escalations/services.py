"""Escalation services: rules, manual escalation (agent, customer), acknowledgement and decisions.

Services validate, change rows and flush; the surface commits. An escalation never moves a deadline:
raising the priority or moving the ticket by escalation keeps its due instants (a recompute could
give the late ticket a fresh deadline and hide the breach). A supervisor's own decision (reassign,
change priority) goes through the ticket services like any other change and recomputes.
"""

from __future__ import annotations

import heapq
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..accounts.models import Department, User, memberships
from ..core.bulk import insert_many
from ..core.clock import as_utc, now
from ..core.errors import Conflict, NotAllowed, ValidationError
from ..core.logs import who
from ..core.permissions import is_admin, is_supervisor
from ..core.text import clean_text
from ..extensions import db
from ..investigations.operations import link_ticket, open_investigation
from ..investigations.queries import link_of
from ..notifications.services import queue_email
from ..sla.clocks import refresh_schedule, ticket_slas
from ..sla.models import SLA_TARGETS, TicketSla
from ..tickets import services as tickets
from ..tickets.events import record_event
from ..tickets.models import KINDS, OPEN_STATUSES, PRIORITIES, Ticket
from ..tickets.permissions import can_work_ticket, staff_department_ids
from ..tickets.services import ensure_open
from ..webhooks.services import emit_event
from .engine import forget_rules
from .models import (
    AGENT_REASONS,
    DECISIONS,
    LEVEL_LABELS,
    LEVELS,
    OMBUDSMAN_LEVEL,
    REASON_LABELS,
    RULE_TRIGGERS,
    Escalation,
    EscalationRule,
    Notification,
)

log = logging.getLogger(__name__)

MAX_NOTE = 5000


def _text(value, field: str, *, required: bool, limit: int = MAX_NOTE) -> str:
    return clean_text(
        value,
        field,
        required=required,
        limit=limit,
        required_message=_l("Please write a few words."),
    )


# rules --------------------------------------------------------------------------------------------

_RULE_FIELDS = (
    "name",
    "position",
    "active",
    "kind",
    "department_id",
    "priority",
    "target",
    "trigger",
    "percent",
    "offset_minutes",
    "level",
    "notify_assignee",
    "notify_supervisors",
    "notify_user_ids",
    "set_priority",
    "reassign_department_id",
    "reassign_user_id",
    "to_ombudsman",
    "ack_minutes",
)


def _int(value, field: str, lo: int, hi: int, message, *, optional: bool = True):
    if value in (None, "") and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationError(message, field=field)
    return value


def _clean_rule(data: dict, current: EscalationRule | None = None) -> dict:
    unknown = set(data) - set(_RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")
    clean: dict = {}
    if "name" in data:
        name = " ".join((data["name"] or "").split())
        if not name or len(name) > 120:
            raise ValidationError(_l("Please give a name of at most 120 characters."), field="name")
        query = sa.select(EscalationRule.id).where(EscalationRule.name == name)
        if current is not None:
            query = query.where(EscalationRule.id != current.id)
        if db.session.scalar(query):
            raise ValidationError(_l("A rule with this name already exists."), field="name")
        clean["name"] = name
    if "position" in data:
        clean["position"] = _int(
            data["position"],
            "position",
            -(10**6),
            10**6,
            _l("Please give a whole number."),
            optional=False,
        )
    for flag in ("active", "notify_assignee", "notify_supervisors", "to_ombudsman"):
        if flag in data:
            clean[flag] = bool(data[flag])
    if "kind" in data:
        if data["kind"] not in (None, "") and data["kind"] not in KINDS:
            raise ValidationError(_l("Unknown kind of demand."), field="kind")
        clean["kind"] = data["kind"] or None
    for field in ("priority", "set_priority"):
        if field in data:
            if data[field] not in (None, "") and data[field] not in PRIORITIES:
                raise ValidationError(_l("Unknown priority."), field=field)
            clean[field] = data[field] or None
    for field in ("department_id", "reassign_department_id"):
        if field in data:
            value = data[field]
            if value in (None, ""):
                clean[field] = None
                continue
            dept = db.session.get(Department, value) if isinstance(value, int) else None
            if dept is None or not dept.active:
                raise ValidationError(_l("Please choose an active department."), field=field)
            clean[field] = dept.id
    if "reassign_user_id" in data:
        value = data["reassign_user_id"]
        user = db.session.get(User, value) if isinstance(value, int) else None
        if value not in (None, "") and (user is None or not user.active or not user.is_staff):
            raise ValidationError(
                _l("Please choose an active staff member."), field="reassign_user_id"
            )
        clean["reassign_user_id"] = user.id if user else None
    if "notify_user_ids" in data:
        ids = data["notify_user_ids"] or []
        if isinstance(ids, (str, bytes)) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise ValidationError(_l("Please choose staff members."), field="notify_user_ids")
        ids = sorted(set(ids))
        if ids:
            found = db.session.scalars(
                sa.select(User.id).where(
                    User.id.in_(ids), User.active.is_(True), User.role != "customer"
                )
            ).all()
            if len(found) != len(ids):
                raise ValidationError(
                    _l("Please choose active staff members."), field="notify_user_ids"
                )
        clean["notify_user_ids"] = ids
    if "target" in data:
        if data["target"] not in SLA_TARGETS:
            raise ValidationError(_l("Please choose a target."), field="target")
        clean["target"] = data["target"]
    if "trigger" in data:
        if data["trigger"] not in RULE_TRIGGERS:
            raise ValidationError(_l("Please choose when the level fires."), field="trigger")
        clean["trigger"] = data["trigger"]
    if "level" in data:
        if data["level"] not in LEVELS:
            raise ValidationError(_l("Please choose a level."), field="level")
        clean["level"] = data["level"]
    if "percent" in data:
        clean["percent"] = _int(
            data["percent"], "percent", 1, 100, _l("Please give a share from 1 to 100 %.")
        )
    if "offset_minutes" in data:
        clean["offset_minutes"] = _int(
            data["offset_minutes"],
            "offset_minutes",
            0,
            366 * 24 * 60,
            _l("Please give minutes after the breach (0 or more)."),
        )
    if "ack_minutes" in data:
        clean["ack_minutes"] = _int(
            data["ack_minutes"],
            "ack_minutes",
            1,
            30 * 24 * 60,
            _l("Please give the minutes a supervisor has to acknowledge (at least 1)."),
            optional=False,
        )

    def final(field):
        return clean[field] if field in clean else getattr(current, field, None)

    if final("trigger") == "elapsed" and final("percent") is None:
        raise ValidationError(_l("Please give a share from 1 to 100 %."), field="percent")
    if final("trigger") == "after_breach" and final("offset_minutes") is None:
        clean["offset_minutes"] = 0
    if final("to_ombudsman") and final("level") != OMBUDSMAN_LEVEL:
        raise ValidationError(
            _l("Moving to the ombudsman is the ombudsman level's action."), field="to_ombudsman"
        )
    return clean


def create_rule(**fields) -> EscalationRule:
    """A new rule; required: name, target, trigger (with percent or offset), level."""
    for required in ("name", "target", "trigger", "level"):
        fields.setdefault(required, None)
    clean = _clean_rule(fields)
    clean.setdefault("notify_user_ids", [])
    clean.setdefault("ack_minutes", current_app.config.get("ESCALATION_ACK_MINUTES", 240))
    rule = EscalationRule(**clean)
    db.session.add(rule)
    db.session.flush()
    _rules_changed()
    log.info("Escalation rule %s created (level %s)", rule.id, rule.level)
    return rule


def update_rule(rule: EscalationRule, **fields) -> EscalationRule:
    clean = _clean_rule(fields, current=rule)
    for field, value in clean.items():
        setattr(rule, field, value)
    db.session.flush()
    _rules_changed()
    log.info("Escalation rule %s updated", rule.id)
    return rule


def move_rule(rule: EscalationRule, direction: int) -> None:
    """Swap the rule with its neighbour above (-1) or below (+1); positions become 10, 20, …"""
    rules = list(
        db.session.scalars(
            sa.select(EscalationRule).order_by(EscalationRule.position, EscalationRule.id)
        )
    )
    index = rules.index(rule)
    other = index + direction
    if direction in (-1, 1) and 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
    for position, item in enumerate(rules, start=1):
        item.position = position * 10
    db.session.flush()
    forget_rules()
    log.info("Escalation rule %s moved to position %s", rule.id, rule.position)


def _rules_changed() -> None:
    """Rules decide when running targets need the sweep: ask it to look at every running target
    once more (one statement; the sweep then stores each row's right next check)."""
    forget_rules()
    db.session.execute(
        sa.update(TicketSla)
        .where(TicketSla.met_at.is_(None), TicketSla.paused_at.is_(None))
        .values(next_check_at=now())
        .execution_options(synchronize_session=False)
    )


DEFAULT_LADDER = (
    dict(name="Primeira resposta: 75% do prazo", target="first_response", trigger="elapsed", percent=75, level=1),
    dict(name="Primeira resposta vencida", target="first_response", trigger="after_breach", offset_minutes=0, level=2, set_priority=3),
    dict(name="Prazo legal de 7 dias vencido", target="resolution", trigger="after_breach", offset_minutes=60, level=3, to_ombudsman=True),
)  # fmt: skip


def ensure_default_ladder() -> list[EscalationRule]:
    """The ladder a SAC runs, when no rule exists yet: a warning to the supervisors at 75 % of the
    first response, the breach raises the priority (management), the legal 7-day deadline passed by
    an hour goes to the ombudsman. Returns the rules created (none when rules exist)."""
    if db.session.scalar(sa.select(EscalationRule.id).limit(1)) is not None:
        return []
    return [
        create_rule(position=position, **rule)
        for position, rule in enumerate(DEFAULT_LADDER, start=1)
    ]


# who supervises ---------------------------------------------------------------------------------


def supervisor_ids(department_ids) -> dict[int, list[int]]:
    """Active supervisors of each department (one statement)."""
    department_ids = sorted({d for d in department_ids if d is not None})
    found: dict[int, list[int]] = defaultdict(list)
    if not department_ids:
        return found
    rows = db.session.execute(
        sa.select(memberships.c.department_id, User.id)
        .join(User, User.id == memberships.c.user_id)
        .where(
            memberships.c.department_id.in_(department_ids),
            User.role == "supervisor",
            User.active.is_(True),
        )
    )
    for department_id, user_id in rows:
        found[department_id].append(user_id)
    return found


def ombudsman_department() -> Department | None:
    return db.session.scalar(
        sa.select(Department)
        .where(Department.is_ombudsman.is_(True), Department.active.is_(True))
        .order_by(Department.id)
        .limit(1)
    )


def can_supervise(user, escalation: Escalation) -> bool:
    """Admins, and supervisors of the department escalated from or now holding the ticket."""
    if is_admin(user):
        return True
    if not is_supervisor(user):
        return False
    departments = set(staff_department_ids(user) or [])
    return bool(departments & {escalation.department_id, escalation.ticket.department_id})


def visible_escalations_filter(user):
    """SQL condition: the escalations a supervisor may see (None = every one, for admins)."""
    departments = staff_department_ids(user)
    if departments is None:
        return None
    return Escalation.department_id.in_(departments) | Escalation.ticket_id.in_(
        sa.select(Ticket.id).where(Ticket.department_id.in_(departments))
    )


# raising -------------------------------------------------------------------------------------------


def _ack_due(raised: datetime, minutes: int | None = None) -> datetime:
    minutes = minutes or current_app.config.get("ESCALATION_ACK_MINUTES", 240)
    return raised + timedelta(minutes=minutes)


def _move_to_ombudsman(ticket, actor) -> None:
    target = ombudsman_department()
    if target is None or target.id == ticket.department_id:
        return
    old = ticket.department.name
    ticket.department_id, ticket.department = target.id, target
    ticket.assignee_id, ticket.assignee = None, None
    record_event(  # the move is the system's consequence of the level, not the escalator's act
        ticket,
        None,
        "transferred",
        field="department",
        old=old,
        new=target.name,
        detail=str(_l("Escalated to the ombudsman")),
    )


def _raise(ticket, actor, *, level: int, trigger: str, reason: str, note: str) -> Escalation:
    """Record an escalation raised by hand, move the ticket up and tell the supervisors."""
    at = now()
    escalation = Escalation(
        ticket=ticket,
        level=level,
        previous_level=ticket.escalation_level or 0,
        trigger=trigger,
        reason=reason,
        note=note,
        department_id=ticket.department_id,
        raised_at=at,
        raised_by_id=actor.id if actor is not None and actor.is_staff else None,
        ack_due_at=_ack_due(at),
    )
    db.session.add(escalation)
    record_event(
        ticket,
        actor,
        "escalated",
        field="level",
        old=ticket.escalation_level or 0,
        new=level,
        detail=reason,
        public=trigger == "customer",  # the customer sees their own escalation in the history
    )
    ticket.escalation_level = level
    if level >= OMBUDSMAN_LEVEL:
        _move_to_ombudsman(ticket, actor)
    db.session.flush()
    refresh_schedule(ticket)
    notify_escalations(
        [Raised.of(escalation)], skip_user_id=actor.id if actor is not None else None
    )
    emit_event(ticket, "ticket.escalated", escalated_payload(escalation.id, level, trigger, reason))
    log.info(
        "Ticket %s escalated to level %s (%s, %s) by %s: escalation %s",
        ticket.protocol,
        level,
        trigger,
        reason,
        who(actor, "customer" if trigger == "customer" else "system"),
        escalation.id,
    )
    return escalation


def escalated_payload(escalation_id: int, level: int, trigger: str, reason: str) -> dict:
    """The `data` of a "ticket.escalated" webhook event."""
    return {"escalation_id": escalation_id, "level": level, "trigger": trigger, "reason": reason}


def escalate_by_agent(ticket, actor, *, reason: str, note: str, level: int | None = None):
    """An agent (or supervisor) escalates a ticket they work: one level up unless told which."""
    if not can_work_ticket(actor, ticket):
        raise NotAllowed()
    ensure_open(ticket)
    if reason not in AGENT_REASONS:
        raise ValidationError(_l("Please choose a reason."), field="reason")
    note = _text(note, "note", required=True)
    current = ticket.escalation_level or 0
    if current >= OMBUDSMAN_LEVEL:
        raise Conflict(_l("This demand is already with the ombudsman."), field="level")
    if level in (None, ""):
        level = current + 1
    if level not in LEVELS or level <= current:
        raise ValidationError(_l("Escalation only goes up a level."), field="level")
    return _raise(ticket, actor, level=level, trigger="agent", reason=reason, note=note)


def customer_can_escalate(ticket, at: datetime | None = None) -> bool:
    """The portal's "escalate" action: open, a deadline passed unmet, not with the ombudsman."""
    if ticket.status not in OPEN_STATUSES or (ticket.escalation_level or 0) >= OMBUDSMAN_LEVEL:
        return False
    at = at or now()
    return any(
        row.target == "resolution" and row.met_at is None and as_utc(row.due_at) <= at
        for row in ticket_slas(ticket)
    )


def escalate_by_customer(ticket, actor, *, reason: str, note: str = "") -> Escalation | None:
    """The customer sends the demand to the ombudsman: after saying an answered demand was not
    resolved ("not_resolved"), or after its deadline passed ("deadline_passed")."""
    note = _text(note, "note", required=False)
    if (ticket.escalation_level or 0) >= OMBUDSMAN_LEVEL:
        if reason == "not_resolved":
            return None  # already there; the reopened ticket is enough
        raise Conflict(_l("This demand is already with the ombudsman."))
    if reason == "deadline_passed" and not customer_can_escalate(ticket):
        raise Conflict(_l("You can escalate once the deadline has passed."))
    if reason not in ("not_resolved", "deadline_passed"):
        raise ValidationError(_l("Please choose a reason."), field="reason")
    return _raise(
        ticket, actor, level=OMBUDSMAN_LEVEL, trigger="customer", reason=reason, note=note
    )


# acknowledging and deciding --------------------------------------------------------------------


def acknowledge(escalation: Escalation, actor) -> None:
    if not can_supervise(actor, escalation):
        raise NotAllowed()
    if escalation.closed_at is not None:
        raise Conflict(_l("This escalation has already been decided."))
    if escalation.acknowledged_at is not None:
        raise Conflict(_l("This escalation has already been acknowledged."))
    escalation.acknowledged_at, escalation.acknowledged_by_id = now(), actor.id
    record_event(escalation.ticket, actor, "escalation_acknowledged", new=escalation.level)
    db.session.flush()
    log.info(
        "Escalation %s of ticket %s acknowledged by %s",
        escalation.id,
        escalation.ticket.protocol,
        who(actor),
    )


def _open_investigation(escalation: Escalation, actor, note: str, investigation=None) -> None:
    """The "open an investigation" decision: link the ticket to `investigation` when given, else
    keep the investigation it already belongs to, else open a new one from it (titled by the
    note, or the ticket's subject)."""
    ticket = escalation.ticket
    if investigation is not None:
        link_ticket(investigation, ticket, by=actor)
    elif link_of(ticket) is None:
        title = (note or ticket.subject).strip().splitlines()[0][:200]
        open_investigation(by=actor, title=title, from_ticket=ticket)


def decide(
    escalation: Escalation,
    actor,
    *,
    decision: str,
    note: str = "",
    department: Department | None = None,
    assignee: User | None = None,
    priority: int | None = None,
    investigation=None,
) -> None:
    """Close an escalation with a decision (acknowledging it if nobody had)."""
    if not can_supervise(actor, escalation):
        raise NotAllowed()
    if escalation.closed_at is not None:
        raise Conflict(_l("This escalation has already been decided."))
    if decision not in DECISIONS:
        raise ValidationError(_l("Please choose a decision."), field="decision")
    ticket = escalation.ticket
    required = decision in ("instruct", "de_escalate")
    note = _text(note, "note", required=required)
    if decision != "de_escalate" and decision != "investigate":
        tickets.ensure_open(ticket)
    if decision == "instruct":
        tickets.add_message(ticket, actor, note, internal=True)
    elif decision == "reassign":
        if department is None and assignee is None:
            raise ValidationError(_l("Please choose a department or a person."), field="department")
        if department is not None and department.id != ticket.department_id:
            tickets.transfer_ticket(
                ticket, actor, department, note or str(_l("Escalation decision"))
            )
        if assignee is not None:
            tickets.assign_ticket(ticket, actor, assignee)
    elif decision == "change_priority":
        if priority is None:
            raise ValidationError(_l("Please choose a priority."), field="priority")
        tickets.change_priority(ticket, actor, priority)
    elif decision == "de_escalate":
        old = ticket.escalation_level or 0
        ticket.escalation_level = min(old, escalation.previous_level or 0)
        record_event(
            ticket,
            actor,
            "de_escalated",
            field="level",
            old=old,
            new=ticket.escalation_level,
            detail=note,
        )
        refresh_schedule(ticket)
    elif decision == "investigate":
        _open_investigation(escalation, actor, note, investigation)
    at = now()
    if escalation.acknowledged_at is None:
        escalation.acknowledged_at, escalation.acknowledged_by_id = at, actor.id
    escalation.decision, escalation.decision_note = decision, note
    escalation.decided_by_id, escalation.closed_at = actor.id, at
    record_event(ticket, actor, "escalation_decided", new=decision, detail=note)
    db.session.flush()
    log.info(
        "Escalation %s of ticket %s decided (%s) by %s",
        escalation.id,
        ticket.protocol,
        decision,
        who(actor),
    )


# notifying -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raised:
    """What notifying needs of one escalation (the sweep builds these from its rows, without
    loading records)."""

    id: int
    ticket_id: int
    protocol: str
    subject: str
    level: int
    reason: str
    department_id: int  # escalated from
    ticket_department_id: int  # where the ticket is now
    assignee_id: int | None
    raised_at: datetime
    ack_due_at: datetime
    rule_id: int | None = None

    @classmethod
    def of(cls, escalation: Escalation) -> Raised:
        ticket = escalation.ticket
        return cls(
            id=escalation.id,
            ticket_id=ticket.id,
            protocol=ticket.protocol,
            subject=ticket.subject,
            level=escalation.level,
            reason=escalation.reason,
            department_id=escalation.department_id,
            ticket_department_id=ticket.department_id,
            assignee_id=ticket.assignee_id,
            raised_at=escalation.raised_at,
            ack_due_at=escalation.ack_due_at,
            rule_id=escalation.rule_id,
        )


def recipients(item: Raised, rule: EscalationRule | None, supervisors) -> set[int]:
    """Supervisors of the department escalated from and of the one holding the ticket, the
    assignee, and the rule's named people (each as the rule says; by hand: all but named)."""
    users: set[int] = set()
    if rule is None or rule.notify_supervisors:
        users.update(supervisors.get(item.department_id, []))
        users.update(supervisors.get(item.ticket_department_id, []))
    if (rule is None or rule.notify_assignee) and item.assignee_id:
        users.add(item.assignee_id)
    if rule is not None:
        users.update(rule.notify_user_ids or [])
    return users


_NOTIFICATION_COLUMNS = ("user_id", "ticket_id", "escalation_id", "kind", "level", "created_at")


def notify_escalations(
    items: list[Raised], *, skip_user_id=None, rules=None, email: bool = True
) -> dict[int, list[Raised]]:
    """In-app notifications for each escalation's recipients; then, unless `email` is False (the
    sweep sends once at its end), one email per recipient listing their escalations. Returns the
    escalations per recipient."""
    if not items:
        return {}
    rules = rules or {}
    supervisors = supervisor_ids(
        {i.department_id for i in items} | {i.ticket_department_id for i in items}
    )
    per_user: dict[int, list[Raised]] = defaultdict(list)
    rows = []
    for item in items:
        rule = rules.get(item.rule_id) if item.rule_id else None
        for user_id in recipients(item, rule, supervisors):
            if user_id == skip_user_id:
                continue
            per_user[user_id].append(item)
            rows.append((user_id, item.ticket_id, item.id, "escalated", item.level, item.raised_at))
    if rows:
        insert_many(Notification.__table__, _NOTIFICATION_COLUMNS, rows)
        log.info(
            "Escalation notifications: %s for %s user(s) about %s escalation(s)",
            len(rows),
            len(per_user),
            len(items),
        )
    if email:
        send_digests(per_user)
    return per_user


def send_digests(per_user: dict[int, list[Raised]]) -> int:
    """One email per recipient listing their escalations, most urgent first (at most
    ESCALATION_EMAIL_LINES, then a count): a sweep that escalates 500 tickets sends each person
    one email. Returns the number of emails queued."""
    if not per_user:
        return 0
    users = db.session.scalars(
        sa.select(User).where(User.id.in_(list(per_user)), User.active.is_(True))
    ).all()
    shown = current_app.config["ESCALATION_EMAIL_LINES"]
    for user in users:
        mine = per_user[user.id]
        top = heapq.nsmallest(shown, mine, key=lambda i: (-i.level, i.ack_due_at, i.protocol))
        queue_email(
            kind="escalation",
            to=user.email,
            to_name=user.name,
            template="escalations",
            locale=user.locale,
            escalations=top,
            more=max(0, len(mine) - shown),
            total=len(mine),
            level_labels=LEVEL_LABELS,
            reason_labels=REASON_LABELS,
        )
    log.info("Escalation digests queued for %s user(s)", len(users))
    return len(users)


def unread_notifications(user) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mark_notifications_read(user, ids=None) -> int:
    query = sa.update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    marked = db.session.execute(query.values(read_at=now())).rowcount
    log.info("Notifications of user %s marked read: %s", user.id, marked)
    return marked
