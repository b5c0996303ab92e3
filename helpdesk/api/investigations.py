"""Investigation endpoints: list and open, read and change (status transitions and close with the
UI's rules), link and unlink tickets by protocol, CAPA actions, tell the customers.

Staff tokens only (customers get 403); supervisors and admins manage, agents read, link tickets
they can work and propose actions. A refused status change is a 409 problem+json whose `errors`
say why, field by field.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..core.errors import NotAllowed, ValidationError
from ..core.text import id_number
from ..core.unit import commit
from ..extensions import db
from ..investigations import capa, dates, notices, operations, permissions, queries
from ..investigations.models import (
    ACTIVE_STATUSES,
    LEVELS,
    STATUSES,
    Investigation,
)
from ..tickets.services import get_ticket_by_protocol
from .auth import api_user, require_staff
from .blueprint import bp
from .documented import documented, ok, path_parameter, query
from .investigation_serializers import action_json, investigation_json, link_json
from .lookups import category_by_ref, department_by_ref, user_by_ref
from .parsing import json_object, query_int
from .schemas.investigations import CapaAction as CapaActionSchema
from .schemas.investigations import (
    CapaActionChange,
    CapaActionInput,
    CapaActionList,
    InvestigationChange,
    InvestigationFields,
    InvestigationInput,
    InvestigationLinkList,
    InvestigationPage,
    NoticeInput,
    NoticeResult,
    ProtocolInput,
)
from .schemas.investigations import Investigation as InvestigationSchema
from .schemas.investigations import InvestigationLink as InvestigationLinkSchema
from .validation import parse_body

LEVEL_VALUES = {name: value for value, name in LEVELS.items()}
TEXT_FIELDS = (
    "title",
    "statement",
    "location",
    "keywords",
    "containment",
    "root_cause",
    "evidence",
    "metric",
    "baseline",
    "target",
    "result",
    "notice_pt_br",
    "notice_es",
    "notice_en",
)


def _load(number: str, user) -> Investigation:
    require_staff(user)
    return queries.load_full(queries.get_by_number(number).id)


def _values(given: InvestigationFields) -> dict:
    """The fields the body gave, as the operations take them (references looked up)."""
    sent = given.model_fields_set
    values: dict = {}
    for name in TEXT_FIELDS:
        if name in sent:
            values[name] = getattr(given, name) or ""
    for name in ("since", "check_on", "customers_affected", "estimated_cost"):
        if name in sent:
            values[name] = getattr(given, name)
    for name in ("impact", "urgency"):
        if name in sent:
            values[name] = LEVEL_VALUES[getattr(given, name)]
    for name in ("ishikawa", "verdict", "subcategory"):
        if name in sent:
            values[name] = getattr(given, name)
    if "owner" in sent:
        values["owner"] = user_by_ref(given.owner, "owner") if given.owner else None
    if "department" in sent:
        values["department"] = department_by_ref(given.department) if given.department else None
    if "category" in sent:
        values["category"] = category_by_ref(given.category) if given.category else None
    return values


NUMBER = path_parameter(
    "number", _l("The investigation's number, e.g. INV-00012."), {"type": "string"}
)
ACTION_ID = path_parameter("action_id", schema={"type": "integer"})
ERRORS = {
    403: _l("Customers, or an agent doing what only supervisors do."),
    404: _l("Unknown investigation, action or ticket."),
    409: _l(
        "Refused by the rules: a status change whose conditions are not met (errors say "
        "why, e.g. an open action or no effectiveness result when closing), a ticket "
        "already linked to another investigation."
    ),
}


def investigation_operation(operation_id: str, summary, **details):
    """@documented under the investigations tag, with this family's error texts."""
    return documented(operation_id, "investigations", summary, error_texts=ERRORS, **details)


@bp.get("/investigations")
@investigation_operation(
    "listInvestigations",
    _l("List investigations"),
    description=_l("Staff only; newest first. status: comma-separated, or active."),
    parameters=(
        {
            "name": "status",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "examples": ["active", "closed"]},
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
        },
        {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
    ),
    responses={200: ok(InvestigationPage)},
    errors=(400, 401, 403),
)
def list_investigations():
    user = api_user()
    require_staff(user)
    limit = query_int("limit", 50, low=1, high=100)
    statuses = [s.strip() for s in request.args.get("status", "").split(",") if s.strip()]
    if any(s not in (*STATUSES, "active") for s in statuses):
        raise ValidationError(
            _l("Unknown status. Use one of: %(statuses)s."),
            field="status",
            statuses=", ".join((*STATUSES, "active")),
        )
    cursor = request.args.get("cursor", "")
    if cursor and id_number(cursor) is None:
        raise ValidationError(_l("This cursor is not valid."), field="cursor")
    stmt = (
        sa.select(Investigation)
        .options(joinedload(Investigation.owner))
        .order_by(Investigation.id.desc())
        .limit(limit + 1)
    )
    if statuses:
        wanted = {s for s in statuses if s != "active"}
        if "active" in statuses:
            wanted |= set(ACTIVE_STATUSES)
        stmt = stmt.where(Investigation.status.in_(wanted))
    if cursor:
        stmt = stmt.where(Investigation.id < int(cursor))
    rows = list(db.session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify(
        {
            "items": [investigation_json(r, user) for r in rows],
            "next": str(rows[-1].id) if more else None,
        }
    )


@bp.post("/investigations")
@investigation_operation(
    "createInvestigation",
    _l("Open an investigation"),
    description=_l("Supervisors and admins. `tickets` are linked at once."),
    body=InvestigationInput,
    example={
        "title": "Entregas atrasadas na região sul",
        "statement": "Desde março, pedidos chegam com 5+ dias de atraso.",
        "impact": "high",
        "urgency": "medium",
        "keywords": "atraso, entrega",
        "tickets": ["202501310000017"],
    },
    responses={201: ok(InvestigationSchema, description=_l("Opened."))},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def create_investigation():
    user = api_user()
    require_staff(user)
    if not permissions.can_manage(user):
        raise NotAllowed()
    given = parse_body(InvestigationInput, json_object())
    protocols = given.tickets or []
    values = _values(given)
    tickets = [get_ticket_by_protocol(p) for p in protocols]
    created = operations.open_investigation(
        by=user, title=values.pop("title", ""), tickets_to_link=tickets, **values
    )
    commit()
    body = investigation_json(queries.load_full(created.id), user, detail=True)
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_investigation", number=created.number)
    return response


@bp.get("/investigations/<number>")
@investigation_operation(
    "getInvestigation",
    _l("Read one investigation"),
    parameters=(NUMBER,),
    responses={200: ok(InvestigationSchema)},
    errors=(401, 403, 404),
)
def get_investigation(number: str):
    user = api_user()
    return jsonify(investigation_json(_load(number, user), user, detail=True))


@bp.patch("/investigations/<number>")
@investigation_operation(
    "updateInvestigation",
    _l("Change fields and move the status (close, cancel, reopen)"),
    description=_l(
        "Supervisors and admins. Fields first, then the status: open → analysing "
        "→ acting → verifying → closed, or cancelled with a reason; closed reopens "
        "to analysing. Closing is refused (409, errors by field) while an action "
        "is open or proposed, or without a real effectiveness result (“N/A” is "
        "not one) and an effective verdict."
    ),
    parameters=(NUMBER,),
    body=InvestigationChange,
    example={
        "result": "2 complaints/week (baseline 14)",
        "verdict": "effective",
        "status": "closed",
    },
    responses={200: ok(InvestigationSchema)},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def update_investigation(number: str):
    """Change fields, then (if given) the status: "closed" applies the closing rules."""
    user = api_user()
    found = _load(number, user)
    if not permissions.can_manage(user):
        raise NotAllowed()
    given = parse_body(InvestigationChange, json_object())
    status, reason = given.status, given.reason or ""
    values = _values(given)
    if values:
        operations.update_investigation(found, user, **values)
    if status is not None:
        operations.change_status(found, user, status, reason=reason)
    commit()
    return jsonify(investigation_json(queries.load_full(found.id), user, detail=True))


def _protocol_from_request() -> str:
    protocol = request.args.get("protocol")
    if protocol is None and request.content_length:
        protocol = parse_body(ProtocolInput, json_object()).protocol
    if not protocol:
        raise ValidationError(_l("This field is required."), field="protocol")
    return protocol


@bp.get("/investigations/<number>/tickets")
@investigation_operation(
    "listInvestigationTickets",
    _l("Linked tickets"),
    parameters=(NUMBER,),
    responses={200: ok(InvestigationLinkList)},
    errors=(401, 403, 404),
)
def list_investigation_tickets(number: str):
    user = api_user()
    found = _load(number, user)
    return jsonify({"items": [link_json(link, user) for link in found.links]})


@bp.post("/investigations/<number>/tickets")
@investigation_operation(
    "linkInvestigationTicket",
    _l("Link a ticket by protocol"),
    description=_l(
        "Staff who can work the ticket. A ticket is in one investigation at a time "
        "(409 otherwise); linked after closing, it counts as a recurrence."
    ),
    parameters=(NUMBER,),
    body=ProtocolInput,
    example={"protocol": "202501310000017"},
    responses={201: ok(InvestigationLinkSchema, description=_l("Linked."))},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def link_investigation_ticket(number: str):
    user = api_user()
    found = _load(number, user)
    ticket = get_ticket_by_protocol(_protocol_from_request())
    link = operations.link_ticket(found, ticket, by=user)
    commit()
    return jsonify(link_json(link, user)), 201


@bp.delete("/investigations/<number>/tickets")
@investigation_operation(
    "unlinkInvestigationTicket",
    _l("Unlink a ticket by protocol"),
    parameters=(
        NUMBER,
        query("protocol", _l("The ticket to unlink (or give it in a JSON body).")),
    ),
    responses={204: ok(description=_l("Unlinked."))},
    errors=(400, 401, 403, 404),
)
def unlink_investigation_ticket(number: str):
    """Unlink the ticket named by `protocol` (query parameter or JSON body)."""
    user = api_user()
    found = _load(number, user)
    ticket = get_ticket_by_protocol(_protocol_from_request())
    operations.unlink_ticket(found, ticket, by=user)
    commit()
    return "", 204


@bp.get("/investigations/<number>/actions")
@investigation_operation(
    "listInvestigationActions",
    _l("Corrective and preventive actions"),
    parameters=(NUMBER,),
    responses={200: ok(CapaActionList)},
    errors=(401, 403, 404),
)
def list_investigation_actions(number: str):
    user = api_user()
    found = _load(number, user)
    today = dates.today()
    return jsonify({"items": [action_json(a, today) for a in found.actions]})


@bp.post("/investigations/<number>/actions")
@investigation_operation(
    "createInvestigationAction",
    _l("Plan (supervisors) or propose (agents) an action"),
    description=_l(
        "A supervisor's action is open at once (due_on required; owner defaults to "
        "them); an agent's is proposed until a supervisor accepts it."
    ),
    parameters=(NUMBER,),
    body=CapaActionInput,
    example={
        "description": "Trocar a transportadora da região sul",
        "kind": "corrective",
        "owner": "supervisora@demo.sac",
        "due_on": "2025-02-28",
    },
    responses={201: ok(CapaActionSchema, description=_l("Created."))},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def create_investigation_action(number: str):
    """Supervisors plan an action (open; owner and due_on required); agents propose one."""
    user = api_user()
    found = _load(number, user)
    given = parse_body(CapaActionInput, json_object())
    description, kind = given.description or "", given.kind or "corrective"
    owner_ref, due_on = given.owner, given.due_on
    owner = user_by_ref(owner_ref, "owner") if owner_ref is not None else None
    action = capa.add_action(
        found, user, description=description, kind=kind, owner=owner, due_on=due_on
    )
    commit()
    return jsonify(action_json(action, dates.today())), 201


@bp.patch("/investigations/<number>/actions/<int:action_id>")
@investigation_operation(
    "updateInvestigationAction",
    _l("Accept, complete or cancel an action"),
    description=_l(
        "open accepts a proposal (supervisors); done needs evidence (the action's "
        "owner or a supervisor); cancelled needs a reason (supervisors)."
    ),
    parameters=(NUMBER, ACTION_ID),
    body=CapaActionChange,
    example={"status": "done", "evidence": "Contrato assinado"},
    responses={200: ok(CapaActionSchema)},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def update_investigation_action(number: str, action_id: int):
    """status: "open" accepts a proposal, "done" needs evidence, "cancelled" needs a reason."""
    user = api_user()
    found = _load(number, user)
    action = capa.get_action(found, action_id)
    given = parse_body(CapaActionChange, json_object())
    status, evidence, reason = given.status, given.evidence or "", given.reason or ""
    owner_ref, due_on = given.owner, given.due_on
    owner = user_by_ref(owner_ref, "owner") if owner_ref is not None else None
    if status == "open":
        capa.accept_action(action, user, owner=owner, due_on=due_on)
    elif status == "done":
        capa.complete_action(action, user, evidence)
    elif status == "cancelled":
        capa.cancel_action(action, user, reason)
    else:
        raise ValidationError(_l("Use one of: open, done, cancelled."), field="status")
    commit()
    return jsonify(action_json(action, dates.today()))


@bp.post("/investigations/<number>/notify")
@investigation_operation(
    "notifyInvestigationCustomers",
    _l("Tell every affected customer"),
    description=_l(
        "Supervisors and admins. One public message per linked ticket in its "
        "customer's language ({protocol} and {name} are filled in); resolve: true "
        "also resolves them. Idempotent: the same texts (or key) never tell a "
        "customer twice."
    ),
    parameters=(NUMBER,),
    body=NoticeInput,
    example={
        "templates": {
            "pt_BR": "Olá {name}, corrigimos ({protocol}).",
            "es": "Hola {name}, lo corregimos ({protocol}).",
            "en": "Hello {name}, we fixed it ({protocol}).",
        },
        "resolve": True,
    },
    responses={200: ok(NoticeResult)},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def notify_investigation_customers(number: str):
    """One public message per linked ticket in its customer's language; idempotent."""
    user = api_user()
    found = _load(number, user)
    given = parse_body(NoticeInput, json_object())
    counts = notices.notify_customers(
        found, user, resolve=bool(given.resolve), templates=given.templates or {}, key=given.key
    )
    commit()
    return jsonify(counts)
