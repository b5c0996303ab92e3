"""The investigation part of the OpenAPI document (merged into build_spec in openapi.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from ..investigations.models import ACTION_KINDS, ACTION_STATUSES, ISHIKAWA, STATUSES, VERDICTS

JSON = "application/json"
PROBLEM = "application/problem+json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict, description: str | None = None) -> dict:
    return {"description": description or _("Success"), "content": {JSON: {"schema": schema}}}


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}


def _errors(*codes: int) -> dict:
    texts = {
        400: _("Invalid input or a wrong check digit (problem+json, with errors by field)."),
        401: _("Missing, unknown or revoked token (WWW-Authenticate: Bearer)."),
        403: _("Customers, or an agent doing what only supervisors do."),
        404: _("Unknown investigation, action or ticket."),
        409: _(
            "Refused by the rules: a status change whose conditions are not met (errors say "
            "why, e.g. an open action or no effectiveness result when closing), a ticket "
            "already linked to another investigation."
        ),
        415: _("The body is not JSON (Content-Type: application/json)."),
        422: _("A field has the wrong type or shape (errors by field)."),
    }
    return {str(code): _problem(texts[code]) for code in codes}


def _body(schema: str, example: dict) -> dict:
    return {"required": True, "content": {JSON: {"schema": _ref(schema), "example": example}}}


def schemas() -> dict:
    string, integer, boolean = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
    when = {"type": ["string", "null"], "format": "date-time"}
    day = {"type": ["string", "null"], "format": "date"}
    person = {"anyOf": [{"type": "object", "properties": {"id": integer, "name": string}},
                        {"type": "null"}]}  # fmt: skip
    level = {"enum": ["low", "medium", "high"]}
    ref = {"oneOf": [integer, string, {"type": "null"}], "description": _("An id or a name.")}
    fields = {
        "title": string,
        "statement": string,
        "location": string,
        "since": day,
        "customers_affected": {"type": ["integer", "null"]},
        "estimated_cost": {"type": ["integer", "null"]},
        "impact": level,
        "urgency": level,
        "owner": {**ref, "description": _("A supervisor's id or email.")},
        "department": ref,
        "category": ref,
        "keywords": string,
        "containment": string,
        "ishikawa": {"enum": [*ISHIKAWA, None]},
        "subcategory": {"type": ["integer", "null"]},
        "root_cause": string,
        "evidence": string,
        "metric": string,
        "baseline": string,
        "target": string,
        "check_on": day,
        "result": string,
        "verdict": {"enum": [*VERDICTS, None]},
        "notice_pt_br": string,
        "notice_es": string,
        "notice_en": string,
    }
    action = {
        "type": "object",
        "properties": {
            "id": integer,
            "description": string,
            "kind": {"enum": list(ACTION_KINDS)},
            "status": {"enum": list(ACTION_STATUSES)},
            "owner": person,
            "due_on": day,
            "overdue": boolean,
            "done_at": when,
            "evidence": string,
            "created_at": when,
        },
    }
    link = {
        "type": "object",
        "properties": {
            "protocol": string,
            "subject": {"type": ["string", "null"]},
            "status": string,
            "linked_at": when,
            "recurrence": boolean,
        },
    }
    return {
        "Investigation": {
            "type": "object",
            "properties": {
                "number": string,
                "title": string,
                "status": {"enum": list(STATUSES)},
                "impact": level,
                "urgency": level,
                "owner": person,
                "created_at": when,
                "updated_at": when,
                "closed_at": when,
                "tickets": {"type": "array", "items": link},
                "recurrences": integer,
                "actions": {"type": "array", "items": action},
                "whys": {"type": "array", "items": {"type": "object"}},
                "effectiveness": {"type": "object"},
                "close_blockers": {"type": "object", "additionalProperties": string},
                "allowed_transitions": {"type": "array", "items": string},
            },
        },
        "InvestigationPage": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": _ref("Investigation")},
                "next": {"type": ["string", "null"]},
            },
        },
        "InvestigationInput": {
            "type": "object",
            "required": ["title"],
            "properties": {
                **fields,
                "tickets": {"type": "array", "items": string, "description": _("Protocols.")},
            },
        },
        "InvestigationChange": {
            "type": "object",
            "properties": {
                **fields,
                "status": {"enum": list(STATUSES)},
                "reason": {**string, "description": _("Required to cancel or reopen.")},
            },
        },
        "InvestigationLink": link,
        "ProtocolInput": {
            "type": "object",
            "required": ["protocol"],
            "properties": {"protocol": string},
        },  # fmt: skip
        "CapaAction": action,
        "CapaActionInput": {
            "type": "object",
            "required": ["description"],
            "properties": {
                "description": string,
                "kind": {"enum": list(ACTION_KINDS)},
                "owner": ref,
                "due_on": day,
            },
        },
        "CapaActionChange": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"enum": ["open", "done", "cancelled"]},
                "evidence": string,
                "reason": string,
                "owner": ref,
                "due_on": day,
            },
        },
        "NoticeInput": {
            "type": "object",
            "properties": {
                "templates": {
                    "type": "object",
                    "properties": {"pt_BR": string, "es": string, "en": string},
                },
                "resolve": boolean,
                "key": string,
            },
        },
        "NoticeResult": {
            "type": "object",
            "properties": {"sent": integer, "skipped": integer, "already": integer},
        },
    }


def paths() -> dict:
    number = {
        "name": "number",
        "in": "path",
        "required": True,
        "description": _("The investigation's number, e.g. INV-00012."),
        "schema": {"type": "string"},
    }
    action_id = {"name": "action_id", "in": "path", "required": True,
                 "schema": {"type": "integer"}}  # fmt: skip
    protocol_q = {
        "name": "protocol",
        "in": "query",
        "required": False,
        "description": _("The ticket to unlink (or give it in a JSON body)."),
        "schema": {"type": "string"},
    }
    tag = ["investigations"]
    return {
        "/api/v1/investigations": {
            "get": {
                "tags": tag,
                "operationId": "listInvestigations",
                "summary": _("List investigations"),
                "description": _("Staff only; newest first. status: comma-separated, or active."),
                "parameters": [
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
                    {
                        "name": "cursor",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                ],  # fmt: skip
                "responses": {"200": _ok(_ref("InvestigationPage")), **_errors(400, 401, 403)},
            },
            "post": {
                "tags": tag,
                "operationId": "createInvestigation",
                "summary": _("Open an investigation"),
                "description": _("Supervisors and admins. `tickets` are linked at once."),
                "requestBody": _body(
                    "InvestigationInput",
                    {
                        "title": "Entregas atrasadas na região sul",
                        "statement": "Desde março, pedidos chegam com 5+ dias de atraso.",
                        "impact": "high",
                        "urgency": "medium",
                        "keywords": "atraso, entrega",
                        "tickets": ["202501310000017"],
                    },
                ),
                "responses": {
                    "201": _ok(_ref("Investigation"), _("Opened.")),
                    **_errors(400, 401, 403, 404, 409, 415, 422),
                },
            },
        },
        "/api/v1/investigations/{number}": {
            "get": {
                "tags": tag,
                "operationId": "getInvestigation",
                "summary": _("Read one investigation"),
                "parameters": [number],
                "responses": {"200": _ok(_ref("Investigation")), **_errors(401, 403, 404)},
            },
            "patch": {
                "tags": tag,
                "operationId": "updateInvestigation",
                "summary": _("Change fields and move the status (close, cancel, reopen)"),
                "description": _(
                    "Supervisors and admins. Fields first, then the status: open → analysing "
                    "→ acting → verifying → closed, or cancelled with a reason; closed reopens "
                    "to analysing. Closing is refused (409, errors by field) while an action "
                    "is open or proposed, or without a real effectiveness result (“N/A” is "
                    "not one) and an effective verdict."
                ),
                "parameters": [number],
                "requestBody": _body(
                    "InvestigationChange",
                    {
                        "result": "2 complaints/week (baseline 14)",
                        "verdict": "effective",
                        "status": "closed",
                    },
                ),  # fmt: skip
                "responses": {
                    "200": _ok(_ref("Investigation")),
                    **_errors(400, 401, 403, 404, 409, 415, 422),
                },
            },
        },
        "/api/v1/investigations/{number}/tickets": {
            "get": {
                "tags": tag,
                "operationId": "listInvestigationTickets",
                "summary": _("Linked tickets"),
                "parameters": [number],
                "responses": {
                    "200": _ok(
                        {
                            "type": "object",
                            "properties": {
                                "items": {"type": "array", "items": _ref("InvestigationLink")}
                            },
                        }
                    ),
                    **_errors(401, 403, 404),
                },  # fmt: skip
            },
            "post": {
                "tags": tag,
                "operationId": "linkInvestigationTicket",
                "summary": _("Link a ticket by protocol"),
                "description": _(
                    "Staff who can work the ticket. A ticket is in one investigation at a time "
                    "(409 otherwise); linked after closing, it counts as a recurrence."
                ),
                "parameters": [number],
                "requestBody": _body("ProtocolInput", {"protocol": "202501310000017"}),
                "responses": {
                    "201": _ok(_ref("InvestigationLink"), _("Linked.")),
                    **_errors(400, 401, 403, 404, 409, 415, 422),
                },
            },
            "delete": {
                "tags": tag,
                "operationId": "unlinkInvestigationTicket",
                "summary": _("Unlink a ticket by protocol"),
                "parameters": [number, protocol_q],
                "responses": {
                    "204": {"description": _("Unlinked.")},
                    **_errors(400, 401, 403, 404),
                },
            },
        },
        "/api/v1/investigations/{number}/actions": {
            "get": {
                "tags": tag,
                "operationId": "listInvestigationActions",
                "summary": _("Corrective and preventive actions"),
                "parameters": [number],
                "responses": {
                    "200": _ok(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": _ref("CapaAction")}},
                        }
                    ),
                    **_errors(401, 403, 404),
                },  # fmt: skip
            },
            "post": {
                "tags": tag,
                "operationId": "createInvestigationAction",
                "summary": _("Plan (supervisors) or propose (agents) an action"),
                "description": _(
                    "A supervisor's action is open at once (due_on required; owner defaults to "
                    "them); an agent's is proposed until a supervisor accepts it."
                ),
                "parameters": [number],
                "requestBody": _body(
                    "CapaActionInput",
                    {
                        "description": "Trocar a transportadora da região sul",
                        "kind": "corrective",
                        "owner": "supervisora@demo.sac",
                        "due_on": "2025-02-28",
                    },
                ),  # fmt: skip
                "responses": {
                    "201": _ok(_ref("CapaAction"), _("Created.")),
                    **_errors(400, 401, 403, 404, 409, 415, 422),
                },
            },
        },
        "/api/v1/investigations/{number}/actions/{action_id}": {
            "patch": {
                "tags": tag,
                "operationId": "updateInvestigationAction",
                "summary": _("Accept, complete or cancel an action"),
                "description": _(
                    "open accepts a proposal (supervisors); done needs evidence (the action's "
                    "owner or a supervisor); cancelled needs a reason (supervisors)."
                ),
                "parameters": [number, action_id],
                "requestBody": _body(
                    "CapaActionChange", {"status": "done", "evidence": "Contrato assinado"}
                ),
                "responses": {
                    "200": _ok(_ref("CapaAction")),
                    **_errors(400, 401, 403, 404, 409, 415, 422),
                },
            },
        },
        "/api/v1/investigations/{number}/notify": {
            "post": {
                "tags": tag,
                "operationId": "notifyInvestigationCustomers",
                "summary": _("Tell every affected customer"),
                "description": _(
                    "Supervisors and admins. One public message per linked ticket in its "
                    "customer's language ({protocol} and {name} are filled in); resolve: true "
                    "also resolves them. Idempotent: the same texts (or key) never tell a "
                    "customer twice."
                ),
                "parameters": [number],
                "requestBody": _body(
                    "NoticeInput",
                    {
                        "templates": {
                            "pt_BR": "Olá {name}, corrigimos ({protocol}).",
                            "es": "Hola {name}, lo corregimos ({protocol}).",
                            "en": "Hello {name}, we fixed it ({protocol}).",
                        },
                        "resolve": True,
                    },
                ),  # fmt: skip
                "responses": {
                    "200": _ok(_ref("NoticeResult")),
                    **_errors(400, 401, 403, 404, 409, 415, 422),
                },
            },
        },
    }
