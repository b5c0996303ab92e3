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
from .documented import PROTOCOL, documented, ok, path_parameter, query
from .lookups import department_by_ref, user_by_ref
from .parsing import json_object, query_int
from .schemas.escalations import (
    EscalateInput,
    EscalationDecision,
    EscalationPage,
    EscalationRaised,
    NoBody,
)
from .schemas.escalations import Escalation as EscalationSchema
from .serializers import department_ref, iso, person
from .validation import parse_body

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


ESCALATION_ID = path_parameter("escalation_id", schema={"type": "integer"})


@bp.get("/escalations")
@documented(
    "listEscalations",
    "escalations",
    _l("List escalations"),
    description=_l(
        "Supervisors (their departments) and admins (all), newest first, one page at "
        "a time. Follow `next` for the next page."
    ),
    parameters=(
        query("ticket", _l("A ticket's protocol.")),
        query("level", _l("Level."), {"enum": [str(x) for x in LEVELS]}),
        query("state", _l("State."), {"enum": list(ESCALATION_STATES)}),
        query("department", _l("Department id or name.")),
        query(
            "limit",
            _l("Page size."),
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
        ),
        query("cursor", _l("The `next` value of the previous page.")),
    ),
    responses={200: ok(EscalationPage)},
    errors=(400, 401, 403, 404),
)
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
@documented(
    "getEscalation",
    "escalations",
    _l("Read an escalation"),
    parameters=(ESCALATION_ID,),
    responses={200: ok(EscalationSchema)},
    errors=(401, 403, 404),
)
def get_escalation(escalation_id: int):
    user = api_user()
    return jsonify(escalation_json(_load(escalation_id, user), user))


@bp.post("/escalations/<int:escalation_id>/acknowledge")
@documented(
    "acknowledgeEscalation",
    "escalations",
    _l("Acknowledge an escalation"),
    parameters=(ESCALATION_ID,),
    body=NoBody,
    example={},
    body_required=False,
    body_description=_l("No body is needed."),
    responses={200: ok(EscalationSchema)},
    errors=(401, 403, 404, 409),
)
def acknowledge_escalation(escalation_id: int):
    user = api_user()
    escalation = _load(escalation_id, user)
    esc.acknowledge(escalation, user)
    commit()
    return jsonify(escalation_json(escalation, user))


@bp.post("/escalations/<int:escalation_id>/decision")
@documented(
    "decideEscalation",
    "escalations",
    _l("Decide an escalation (and close it)"),
    parameters=(ESCALATION_ID,),
    body=EscalationDecision,
    example={"decision": "instruct", "note": "Ofereça a troca."},
    responses={200: ok(EscalationSchema)},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def decide_escalation(escalation_id: int):
    """{decision, note, department, assignee, priority}: as the console's decision form."""
    user = api_user()
    escalation = _load(escalation_id, user)
    given = parse_body(EscalationDecision, json_object())
    decision, note, priority = given.decision or "", given.note or "", given.priority
    department_ref_, assignee_ref, number = given.department, given.assignee, given.investigation
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
@documented(
    "escalateTicket",
    "escalations",
    _l("Escalate a ticket"),
    description=_l(
        "Staff who work the ticket escalate it with a reason and a note (one level "
        "up by default). The ticket's customer can send it to the ombudsman once its "
        "resolution deadline has passed."
    ),
    parameters=(PROTOCOL,),
    body=EscalateInput,
    example={"reason": "legal_threat", "note": "Cliente citou o Procon."},
    responses={201: ok(EscalationRaised)},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def escalate_ticket(protocol: str):
    """Staff: {reason, note, level?}. The ticket's customer: {note?} once its deadline passed
    (it goes to the ombudsman)."""
    user = api_user()
    ticket = load_ticket(protocol, user)
    given = parse_body(EscalateInput, json_object())
    reason, note, level = given.reason or "", given.note or "", given.level
    if is_staff(user):
        escalation = esc.escalate_by_agent(ticket, user, reason=reason, note=note, level=level)
    else:
        escalation = esc.escalate_by_customer(ticket, user, reason="deadline_passed", note=note)
    commit()
    data = {"ticket": ticket.protocol, "escalation_level": ticket.escalation_level}
    if is_supervisor(user):
        data["escalation"] = escalation_json(escalation, user)
    return jsonify(data), 201
