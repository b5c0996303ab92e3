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
from ..core.i18n import localized_name
from ..core.text import id_number
from ..core.unit import commit
from ..extensions import db
from ..investigations import capa, dates, notices, operations, permissions, queries
from ..investigations.models import (
    ACTIVE_STATUSES,
    LEVELS,
    STATUSES,
    CapaAction,
    Investigation,
)
from ..tickets.permissions import can_view_ticket
from ..tickets.services import get_ticket_by_protocol
from .auth import api_user, require_staff
from .blueprint import bp
from .lookups import category_by_ref, department_by_ref, user_by_ref
from .parsing import Fields, json_object, query_int
from .serializers import iso

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


def _person(user) -> dict | None:
    return {"id": user.id, "name": user.name} if user is not None else None


def action_json(action: CapaAction, today) -> dict:
    return {
        "id": action.id,
        "description": action.description,
        "kind": action.kind,
        "status": action.status,
        "owner": _person(action.owner),
        "due_on": action.due_on.isoformat() if action.due_on else None,
        "overdue": action.is_overdue(today),
        "done_at": iso(action.done_at),
        "evidence": action.evidence,
        "created_at": iso(action.created_at),
    }


def investigation_json(found: Investigation, user, *, detail: bool = False) -> dict:
    data = {
        "number": found.number,
        "title": found.title,
        "status": found.status,
        "impact": LEVELS[found.impact],
        "urgency": LEVELS[found.urgency],
        "owner": _person(found.owner),
        "created_at": iso(found.created_at),
        "updated_at": iso(found.updated_at),
        "closed_at": iso(found.closed_at),
        "links": {"self": url_for("api.get_investigation", number=found.number)},
    }
    if not detail:
        return data
    today = dates.today()
    data.update(
        statement=found.statement,
        location=found.location,
        since=found.since.isoformat() if found.since else None,
        customers_affected=found.customers_affected,
        estimated_cost=found.estimated_cost,
        department=(
            {"id": found.department.id, "name": found.department.name} if found.department else None
        ),
        category=(
            {
                "id": found.category.id,
                "name": found.category.name,
                "label": localized_name(found.category),
            }
            if found.category
            else None
        ),
        keywords=[k.strip() for k in found.keywords.split(",") if k.strip()],
        containment=found.containment,
        ishikawa=found.ishikawa,
        subcategory=(
            {"id": found.subcategory.id, "name": found.subcategory.name}
            if found.subcategory
            else None
        ),
        whys=[{"position": w.position, "text": w.text, "accepted": w.accepted} for w in found.whys],
        root_cause=found.root_cause,
        evidence=found.evidence,
        effectiveness={
            "metric": found.metric,
            "baseline": found.baseline,
            "target": found.target,
            "check_on": found.check_on.isoformat() if found.check_on else None,
            "result": found.result,
            "verdict": found.verdict,
        },
        notice={"pt_BR": found.notice_pt_br, "es": found.notice_es, "en": found.notice_en},
        cancel_reason=found.cancel_reason,
        reopened_count=found.reopened_count,
        tickets=[link_json(link, user) for link in found.links],
        recurrences=queries.recurrence_count(found),
        actions=[action_json(a, today) for a in found.actions],
        close_blockers={k: str(v) for k, v in operations.blockers(found, "closed").items()},
        allowed_transitions=sorted(operations.TRANSITIONS[found.status]),
    )
    return data


def link_json(link, user) -> dict:
    ticket = link.ticket
    visible = can_view_ticket(user, ticket)
    return {
        "protocol": ticket.protocol,
        "subject": ticket.subject if visible else None,
        "status": ticket.status,
        "linked_at": iso(link.linked_at),
        "recurrence": link.is_recurrence,
    }


def _load(number: str, user) -> Investigation:
    require_staff(user)
    return queries.load_full(queries.get_by_number(number).id)


def _values(f: Fields) -> dict:
    values: dict = {}
    for name in TEXT_FIELDS:
        if f.has(name):
            values[name] = f.text(name, "")
    for name in ("since", "check_on"):
        if f.has(name):
            values[name] = f.text(name)
    for name in ("customers_affected", "estimated_cost"):
        if f.has(name):
            values[name] = f.integer(name)
    for name in ("impact", "urgency"):
        if f.has(name):
            raw = f.text(name)
            if raw not in LEVEL_VALUES:
                f.errors[name] = str(_l("Use one of: low, medium, high."))
            else:
                values[name] = LEVEL_VALUES[raw]
    if f.has("ishikawa"):
        values["ishikawa"] = f.text("ishikawa")
    if f.has("verdict"):
        values["verdict"] = f.text("verdict")
    if f.has("subcategory"):
        values["subcategory"] = f.integer("subcategory")
    refs = {name: f.ref(name) for name in ("owner", "department", "category") if f.has(name)}
    f.check()
    if "owner" in refs:
        values["owner"] = user_by_ref(refs["owner"], "owner") if refs["owner"] else None
    if "department" in refs:
        values["department"] = department_by_ref(refs["department"]) if refs["department"] else None
    if "category" in refs:
        values["category"] = category_by_ref(refs["category"]) if refs["category"] else None
    return values


@bp.get("/investigations")
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
def create_investigation():
    user = api_user()
    require_staff(user)
    if not permissions.can_manage(user):
        raise NotAllowed()
    f = Fields(json_object())
    protocols = f.string_list("tickets") or []
    values = _values(f)
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
def get_investigation(number: str):
    user = api_user()
    return jsonify(investigation_json(_load(number, user), user, detail=True))


@bp.patch("/investigations/<number>")
def update_investigation(number: str):
    """Change fields, then (if given) the status: "closed" applies the closing rules."""
    user = api_user()
    found = _load(number, user)
    if not permissions.can_manage(user):
        raise NotAllowed()
    f = Fields(json_object())
    status = f.text("status")
    reason = f.text("reason", "")
    values = _values(f)
    if values:
        operations.update_investigation(found, user, **values)
    if status is not None:
        operations.change_status(found, user, status, reason=reason)
    commit()
    return jsonify(investigation_json(queries.load_full(found.id), user, detail=True))


def _protocol_from_request() -> str:
    protocol = request.args.get("protocol")
    if protocol is None and request.content_length:
        f = Fields(json_object())
        protocol = f.text("protocol")
        f.check()
    if not protocol:
        raise ValidationError(_l("This field is required."), field="protocol")
    return protocol


@bp.get("/investigations/<number>/tickets")
def list_investigation_tickets(number: str):
    user = api_user()
    found = _load(number, user)
    return jsonify({"items": [link_json(link, user) for link in found.links]})


@bp.post("/investigations/<number>/tickets")
def link_investigation_ticket(number: str):
    user = api_user()
    found = _load(number, user)
    ticket = get_ticket_by_protocol(_protocol_from_request())
    link = operations.link_ticket(found, ticket, by=user)
    commit()
    return jsonify(link_json(link, user)), 201


@bp.delete("/investigations/<number>/tickets")
def unlink_investigation_ticket(number: str):
    """Unlink the ticket named by `protocol` (query parameter or JSON body)."""
    user = api_user()
    found = _load(number, user)
    ticket = get_ticket_by_protocol(_protocol_from_request())
    operations.unlink_ticket(found, ticket, by=user)
    commit()
    return "", 204


@bp.get("/investigations/<number>/actions")
def list_investigation_actions(number: str):
    user = api_user()
    found = _load(number, user)
    today = dates.today()
    return jsonify({"items": [action_json(a, today) for a in found.actions]})


@bp.post("/investigations/<number>/actions")
def create_investigation_action(number: str):
    """Supervisors plan an action (open; owner and due_on required); agents propose one."""
    user = api_user()
    found = _load(number, user)
    f = Fields(json_object())
    description = f.text("description", "")
    kind = f.text("kind", "corrective")
    owner_ref = f.ref("owner")
    due_on = f.text("due_on")
    f.check()
    owner = user_by_ref(owner_ref, "owner") if owner_ref is not None else None
    action = capa.add_action(
        found, user, description=description, kind=kind, owner=owner, due_on=due_on
    )
    commit()
    return jsonify(action_json(action, dates.today())), 201


@bp.patch("/investigations/<number>/actions/<int:action_id>")
def update_investigation_action(number: str, action_id: int):
    """status: "open" accepts a proposal, "done" needs evidence, "cancelled" needs a reason."""
    user = api_user()
    found = _load(number, user)
    action = capa.get_action(found, action_id)
    f = Fields(json_object())
    status = f.text("status")
    evidence = f.text("evidence", "")
    reason = f.text("reason", "")
    owner_ref = f.ref("owner")
    due_on = f.text("due_on")
    f.check()
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
def notify_investigation_customers(number: str):
    """One public message per linked ticket in its customer's language; idempotent."""
    user = api_user()
    found = _load(number, user)
    f = Fields(json_object())
    templates = f.obj("templates") or {}
    resolve = f.boolean("resolve", False)
    key = f.text("key")
    bad = [
        k for k, v in templates.items() if k not in ("pt_BR", "es", "en") or not isinstance(v, str)
    ]
    if bad:
        f.errors["templates"] = str(_l("Give texts for pt_BR, es and en."))
    if key is not None and len(key) > 64:  # the column holds 64
        f.errors["key"] = str(_l("Please keep it under %(limit)s characters.", limit=64))
    f.check()
    counts = notices.notify_customers(found, user, resolve=resolve, templates=templates, key=key)
    commit()
    return jsonify(counts)
