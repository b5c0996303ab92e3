"""Escalation endpoints: list and read (supervisors, admins), acknowledge and decide as in the
console, and escalate a ticket (its agents by hand; its customer once the deadline has passed)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..core.errors import NotAllowed, NotFound, ValidationError
from ..core.permissions import is_staff, is_supervisor
from ..core.text import ascii_digits, id_number
from ..core.unit import commit
from ..escalations import services as esc
from ..escalations.models import ESCALATION_STATES, LEVELS, Escalation
from ..extensions import db
from ..tickets.models import PRIORITY_VALUES, Ticket
from ..tickets.services import get_ticket_by_protocol
from .auth import api_user, load_ticket
from .blueprint import bp
from .lookups import department_by_ref, user_by_ref
from .parsing import Fields, json_object, query_int
from .serializers import department_ref, iso, person

MAX_PAGE = 100
DEFAULT_PAGE = 50


def escalation_json(escalation: Escalation, viewer) -> dict:
    return {
        "id": escalation.id,
        "ticket": escalation.ticket.protocol,
        "level": escalation.level,
        "previous_level": escalation.previous_level,
        "trigger": escalation.trigger,
        "target": escalation.target,
        "reason": escalation.reason,
        "note": escalation.note,
        "state": escalation.state,
        "department": department_ref(escalation.department),
        "raised_at": iso(escalation.raised_at),
        "raised_by": person(escalation.raised_by, viewer),
        "ack_due_at": iso(escalation.ack_due_at),
        "acknowledged_at": iso(escalation.acknowledged_at),
        "acknowledged_by": person(escalation.acknowledged_by, viewer),
        "decision": escalation.decision,
        "decision_note": escalation.decision_note,
        "decided_by": person(escalation.decided_by, viewer),
        "closed_at": iso(escalation.closed_at),
        "links": {
            "self": url_for("api.get_escalation", escalation_id=escalation.id),
            "ticket": url_for("api.get_ticket", protocol=escalation.ticket.protocol),
        },
    }


_LOAD = (
    joinedload(Escalation.ticket),
    joinedload(Escalation.department),
    joinedload(Escalation.raised_by),
    joinedload(Escalation.acknowledged_by),
    joinedload(Escalation.decided_by),
)


def _require_supervisor(user) -> None:
    if not is_supervisor(user):
        raise NotAllowed(_l("Only supervisors and admins work escalations."))


def _load(escalation_id: int, user) -> Escalation:
    _require_supervisor(user)
    escalation = db.session.scalar(
        sa.select(Escalation).where(Escalation.id == escalation_id).options(*_LOAD)
    )
    if escalation is None or not esc.can_supervise(user, escalation):
        raise NotFound(_l("There is no such escalation."))
    return escalation


@bp.get("/escalations")
def list_escalations():
    """Newest first, keyset by id; filters ticket, level, state, department."""
    user = api_user()
    _require_supervisor(user)
    query = sa.select(Escalation).options(*_LOAD).order_by(Escalation.id.desc())
    visible = esc.visible_escalations_filter(user)
    if visible is not None:
        query = query.where(visible)
    protocol = request.args.get("ticket", "").strip()
    if protocol:
        query = query.where(Escalation.ticket_id == get_ticket_by_protocol(protocol).id)
    level = request.args.get("level", "").strip()
    if level:
        if not ascii_digits(level) or int(level) not in LEVELS:
            raise ValidationError(_l("Unknown level. Use 1, 2 or 3."), field="level")
        query = query.where(Escalation.level == int(level))
    state = request.args.get("state", "").strip()
    if state:
        conditions = {
            "open": Escalation.closed_at.is_(None) & Escalation.acknowledged_at.is_(None),
            "acknowledged": Escalation.closed_at.is_(None)
            & Escalation.acknowledged_at.is_not(None),
            "closed": Escalation.closed_at.is_not(None),
        }
        if state not in ESCALATION_STATES:
            raise ValidationError(
                _l("Unknown state. Use one of: %(states)s."),
                field="state",
                states=", ".join(ESCALATION_STATES),
            )
        query = query.where(conditions[state])
    department = request.args.get("department", "").strip()
    if department:
        dept = department_by_ref(int(department) if ascii_digits(department) else department)
        query = query.where(
            (Escalation.department_id == dept.id)
            | Escalation.ticket_id.in_(sa.select(Ticket.id).where(Ticket.department_id == dept.id))
        )
    cursor = request.args.get("cursor", "").strip()
    if cursor:
        if id_number(cursor) is None:
            raise ValidationError(_l("This cursor is not valid."), field="cursor")
        query = query.where(Escalation.id < id_number(cursor))
    limit = query_int("limit", DEFAULT_PAGE, low=1, high=MAX_PAGE)
    rows = list(db.session.scalars(query.limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = str(rows[-1].id) if more else None
    response = jsonify({"items": [escalation_json(e, user) for e in rows], "next": next_cursor})
    if next_cursor:
        args = request.args.to_dict()
        args["cursor"] = next_cursor
        response.headers["Link"] = f'<{url_for("api.list_escalations", **args)}>; rel="next"'
    return response


@bp.get("/escalations/<int:escalation_id>")
def get_escalation(escalation_id: int):
    user = api_user()
    return jsonify(escalation_json(_load(escalation_id, user), user))


@bp.post("/escalations/<int:escalation_id>/acknowledge")
def acknowledge_escalation(escalation_id: int):
    user = api_user()
    escalation = _load(escalation_id, user)
    esc.acknowledge(escalation, user)
    commit()
    return jsonify(escalation_json(escalation, user))


@bp.post("/escalations/<int:escalation_id>/decision")
def decide_escalation(escalation_id: int):
    """{decision, note, department, assignee, priority}: as the console's decision form."""
    user = api_user()
    escalation = _load(escalation_id, user)
    f = Fields(json_object())
    decision = f.text("decision", "")
    note = f.text("note", "")
    department_ref_ = f.ref("department")
    assignee_ref = f.ref("assignee")
    priority = f.text("priority")
    number = f.text("investigation")
    f.check()
    if priority is not None and priority not in PRIORITY_VALUES:
        raise ValidationError(_l("Unknown priority."), field="priority")
    esc.decide(
        escalation,
        user,
        decision=decision,
        note=note,
        department=department_by_ref(department_ref_) if department_ref_ is not None else None,
        assignee=user_by_ref(assignee_ref, "assignee") if assignee_ref is not None else None,
        priority=PRIORITY_VALUES[priority] if priority is not None else None,
        investigation=_investigation(number),
    )
    commit()
    return jsonify(escalation_json(escalation, user))


def _investigation(number: str | None):
    """The investigation to link to ("investigate" decision), by its number."""
    if not number:
        return None
    from ..investigations.queries import get_by_number

    try:
        return get_by_number(number)
    except NotFound:
        raise ValidationError(
            _l("No investigation has this number."), field="investigation"
        ) from None


@bp.post("/tickets/<protocol>/escalations")
def escalate_ticket(protocol: str):
    """Staff: {reason, note, level?}. The ticket's customer: {note?} once its deadline passed
    (it goes to the ombudsman)."""
    user = api_user()
    ticket = load_ticket(protocol, user)
    f = Fields(json_object())
    reason = f.text("reason", "")
    note = f.text("note", "")
    level = f.integer("level")
    f.check()
    if is_staff(user):
        escalation = esc.escalate_by_agent(ticket, user, reason=reason, note=note, level=level)
    else:
        escalation = esc.escalate_by_customer(ticket, user, reason="deadline_passed", note=note)
    commit()
    data = {"ticket": ticket.protocol, "escalation_level": ticket.escalation_level}
    if is_supervisor(user):
        data["escalation"] = escalation_json(escalation, user)
    return jsonify(data), 201
