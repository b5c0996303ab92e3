"""Tags, macros (list, manage, apply to a ticket) and bulk changes on tickets.

Each view parses, checks the role, calls one service and commits once; the emails a macro's
reply queues leave after that commit.
"""

from __future__ import annotations

import logging

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from ..bulk.services import (
    MAX_TICKETS,
    BulkChanges,
    TooManyTickets,
    bulk_update,
    matching_ticket_ids,
    validate_changes,
)
from ..core.errors import DomainError, NotAllowed, ValidationError
from ..core.unit import commit
from ..extensions import db
from ..macros.models import Macro
from ..macros.permissions import can_manage_macro, can_use_macro
from ..macros.services import (
    MacroNotFound,
    MacroValues,
    apply_macro,
    create_macro,
    delete_macro,
    get_usable_macro,
    macros_for,
    update_macro,
)
from ..tickets import queries
from ..tickets.models import OPEN_STATUSES, PRIORITY_VALUES
from ..tickets.permissions import can_work_ticket, staff_can_view
from ..tickets.services import get_ticket_by_protocol
from ..tickets.tags import all_tags, free_tags_allowed, tag_condition
from .auth import api_user, load_ticket, require_staff
from .blueprint import bp
from .documented import PROTOCOL, documented, ok, path_parameter, query
from .lookups import department_by_ref, user_by_ref
from .parsing import json_object
from .schemas.macros import (
    BulkInput,
    BulkResult,
    MacroApply,
    MacroChange,
    MacroInput,
    MacroList,
    TagList,
)
from .schemas.macros import Macro as MacroSchema
from .schemas.tickets import Ticket as TicketSchema
from .serializers import macro_json, tag_json, ticket_json
from .validation import parse_body

log = logging.getLogger(__name__)

MACRO_ID = path_parameter("macro_id", _l("The macro's id."), {"type": "integer"})


# tags ----------------------------------------------------------------------------------------


@bp.get("/tags")
@documented(
    "listTags",
    "tags",
    _l("List tags"),
    description=_l("Staff only. Curated tags first, then free ones, by name."),
    responses={200: ok(TagList)},
    errors=(401, 403),
)
def list_tags():
    require_staff(api_user())
    return jsonify({"items": [tag_json(t) for t in all_tags()], "free_tags": free_tags_allowed()})


# macros ----------------------------------------------------------------------------------------


@bp.get("/macros")
@documented(
    "listMacros",
    "macros",
    _l("List the macros you may apply"),
    description=_l(
        "Staff only. Global macros, your departments' and your personal ones, active, most used "
        "first (sort=name: by name)."
    ),
    parameters=(query("sort", _l("Order."), {"enum": ["use", "name"], "default": "use"}),),
    responses={200: ok(MacroList)},
    errors=(400, 401, 403),
)
def list_macros():
    user = api_user()
    require_staff(user)
    sort = request.args.get("sort", "use")
    if sort not in ("use", "name"):
        raise ValidationError(
            _l("Unknown sort. Use one of: %(sorts)s."), field="sort", sorts="use, name"
        )
    return jsonify({"items": [macro_json(m) for m in macros_for(user, sort=sort)]})


def _values(given, base: Macro | None = None) -> MacroValues:
    fields = given.model_fields_set

    def pick(name, default):
        return (
            getattr(given, name) if name in fields and getattr(given, name) is not None else default
        )

    department = base.department_id if base else None
    if "department" in fields:
        department = (
            department_by_ref(given.department).id if given.department is not None else None
        )
    actions = base.actions if base else None
    if "actions" in fields:
        actions = given.actions.model_dump(exclude_none=True) if given.actions else {}
    return MacroValues(
        name=pick("name", base.name if base else ""),
        scope=pick("scope", base.scope if base else "global"),
        department_id=department,
        body_pt_br=pick("body_pt_br", base.body_pt_br if base else ""),
        body_es=pick("body_es", base.body_es if base else ""),
        body_en=pick("body_en", base.body_en if base else ""),
        actions=actions,
        active=pick("active", base.active if base else True),
    )


@bp.post("/macros")
@documented(
    "createMacro",
    "macros",
    _l("Create a macro"),
    description=_l(
        "Global macros: admins; department macros: that department's supervisors; personal: any "
        "agent. A placeholder other than the documented ones is refused (400)."
    ),
    body=MacroInput,
    example={
        "name": "Segunda via de boleto",
        "scope": "global",
        "body_pt_br": "Olá, {{ customer.first_name }}! A segunda via do boleto do protocolo "
        "{{ ticket.protocol }} foi enviada.",
        "actions": {"status": "pending_customer", "tags": ["boleto"]},
    },
    responses={201: ok(MacroSchema)},
    errors=(400, 401, 403, 415, 422),
)
def create_macro_view():
    user = api_user()
    require_staff(user)
    given = parse_body(MacroInput, json_object())
    macro = create_macro(user, _values(given))
    body = macro_json(macro)
    commit()
    return jsonify(body), 201


def _managed_macro(macro_id: int, user) -> Macro:
    macro = db.session.get(Macro, macro_id)
    if macro is None:
        raise MacroNotFound(field="macro_id")
    if not can_manage_macro(user, macro):
        if not can_use_macro(user, macro):
            raise MacroNotFound(field="macro_id")
        raise NotAllowed(_l("You cannot change this macro."))
    return macro


@bp.patch("/macros/<int:macro_id>")
@documented(
    "updateMacro",
    "macros",
    _l("Change a macro"),
    description=_l("Those who may create a macro of its scope."),
    parameters=(MACRO_ID,),
    body=MacroChange,
    example={"active": False},
    responses={200: ok(MacroSchema)},
    errors=(400, 401, 403, 404, 415, 422),
)
def update_macro_view(macro_id: int):
    user = api_user()
    require_staff(user)
    macro = _managed_macro(macro_id, user)
    given = parse_body(MacroChange, json_object())
    update_macro(macro, user, _values(given, macro))
    body = macro_json(macro)
    commit()
    return jsonify(body)


@bp.delete("/macros/<int:macro_id>")
@documented(
    "deleteMacro",
    "macros",
    _l("Delete a macro"),
    parameters=(MACRO_ID,),
    responses={204: ok(description=_l("Deleted."))},
    errors=(401, 403, 404),
)
def delete_macro_view(macro_id: int):
    user = api_user()
    require_staff(user)
    delete_macro(_managed_macro(macro_id, user), user)
    commit()
    return "", 204


@bp.post("/tickets/<protocol>/macros/<int:macro_id>")
@documented(
    "applyMacro",
    "macros",
    _l("Apply a macro to a ticket"),
    description=_l(
        "In one transaction: the macro's actions (transfer, assignee, priority, tags, internal "
        "note, status), each with its event, and its reply filled for this ticket and sent to "
        "the customer by email after the commit. `body` replaces the reply (e.g. an edited "
        "preview). Returns the ticket as changed."
    ),
    parameters=(PROTOCOL, MACRO_ID),
    body=MacroApply,
    body_required=False,
    example={},
    responses={200: ok(TicketSchema)},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def apply_macro_view(protocol: str, macro_id: int):
    user = api_user()
    require_staff(user)
    ticket = load_ticket(protocol, user)
    given = parse_body(MacroApply, json_object()) if request.get_data(cache=True) else None
    macro = get_usable_macro(macro_id, user)
    apply_macro(ticket, macro, user, body_override=given.body if given else None)
    db.session.flush()
    body = ticket_json(queries.ticket_with_thread(ticket.id), user, detail=True)
    commit()
    return jsonify(body)


# bulk ------------------------------------------------------------------------------------------


def _filter_ids(given, user) -> list[int]:
    flt = queries.TicketFilter(statuses=tuple(given.status) if given.status else OPEN_STATUSES)
    if given.department is not None:
        flt.department_ids = [department_by_ref(given.department, "filter.department").id]
    flt.kind, flt.channel = given.kind, given.channel
    if given.priority:
        flt.priority = PRIORITY_VALUES[given.priority]
    if given.tag:
        flt.extra.append(tag_condition(given.tag))
    if given.assignee == "none":
        flt.unassigned = True
    elif given.assignee is not None:
        flt.assignee_id = user_by_ref(given.assignee, "filter.assignee").id
    scope = staff_can_view(user)
    if scope is not None:
        flt.extra.append(scope)
    ids = matching_ticket_ids(flt)
    if len(ids) > MAX_TICKETS:
        raise TooManyTickets(field="filter", n=MAX_TICKETS)
    return ids


def _protocol_ids(protocols: list[str], user) -> tuple[list[int], list[dict]]:
    if len(protocols) > MAX_TICKETS:
        raise TooManyTickets(field="protocols", n=MAX_TICKETS)
    ids, refused = [], []
    for raw in protocols:
        try:
            ticket = get_ticket_by_protocol(raw)
        except DomainError as exc:
            refused.append({"protocol": str(raw)[:40], "reason": str(exc)})
            continue
        if not can_work_ticket(user, ticket):  # out of scope reads as unknown, as elsewhere
            refused.append(
                {"protocol": ticket.protocol, "reason": str(_l("You cannot work this demand."))}
            )
            continue
        ids.append(ticket.id)
    return ids, refused


def _changes(given) -> BulkChanges:
    changes = BulkChanges(
        status=given.status,
        outcome=given.outcome,
        priority=given.priority,
        reason=given.reason or "",
        add_tags=given.add_tags or [],
        remove_tags=given.remove_tags or [],
        macro_id=given.macro,
        investigation=given.investigation,
    )
    if given.assignee == "none":
        changes.unassign = True
    elif given.assignee is not None:
        changes.assignee = user_by_ref(given.assignee, "changes.assignee")
    if given.department is not None:
        changes.department = department_by_ref(given.department, "changes.department")
    return changes


@bp.post("/tickets/bulk")
@documented(
    "bulkUpdateTickets",
    "tickets",
    _l("Change many tickets at once"),
    description=_l(
        "Staff only. The tickets are given by `protocols` or by `filter` (at most 500). Each "
        "ticket changes through the same rules as one by one (one event per change); a ticket "
        "you may not work or whose state refuses the change is left as it was and listed in "
        "`refused` with the reason, while the others change."
    ),
    body=BulkInput,
    example={
        "protocols": ["202501310000017"],
        "changes": {"priority": "high", "add_tags": ["boleto"]},
    },
    responses={200: ok(BulkResult)},
    errors=(400, 401, 403, 404, 415, 422),
)
def bulk_update_view():
    user = api_user()
    require_staff(user)
    given = parse_body(BulkInput, json_object())
    if (given.protocols is None) == (given.filter is None):
        raise ValidationError(_l("Give either protocols or filter."), field="protocols")
    if given.protocols is not None:
        ids, refused = _protocol_ids(given.protocols, user)
    else:
        ids, refused = _filter_ids(given.filter, user), []
    changes = _changes(given.changes)
    if not ids:
        validate_changes(changes, user)
        result = {"changed": [], "unchanged": [], "refused": refused}
        return jsonify(result)
    result = bulk_update(ids, changes, user, refused=refused).as_dict()
    commit()
    return jsonify(result)
