"""The OpenAPI 3.1 description of /api/v1 (a plain dict, built per request so texts are translated)
and the public docs page that renders it.
"""

from __future__ import annotations

import json
import shlex

from flask import jsonify, render_template, request
from flask_babel import gettext as _

from ..tickets.models import CHANNELS, KINDS, PRIORITY_VALUES, STATUSES
from ..tickets.queries import SORTS
from . import openapi_escalations
from .blueprint import bp
from .investigations_openapi import paths as investigation_paths
from .investigations_openapi import schemas as investigation_schemas
from .openapi_channels import channel_paths, channel_schemas, channel_tags

JSON = "application/json"
PROBLEM = "application/problem+json"
METHODS = ("get", "post", "patch", "put", "delete")


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}


def _ok(schema: dict, description: str | None = None, headers: dict | None = None) -> dict:
    body = {"description": description or _("Success"), "content": {JSON: {"schema": schema}}}
    if headers:
        body["headers"] = headers
    return body


def _body(schema_name: str, example: dict) -> dict:
    return {
        "required": True,
        "content": {JSON: {"schema": _ref(schema_name), "example": example}},
    }


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _errors(*codes: int) -> dict:
    texts = {
        400: _("Invalid input or a wrong check digit (problem+json, with errors by field)."),
        401: _("Missing, unknown or revoked token (WWW-Authenticate: Bearer)."),
        403: _("The token's owner may not do this."),
        404: _("Not found, or outside what the token's owner may see."),
        409: _("Conflict with the current state (closed ticket, reused Idempotency-Key)."),
        413: _("The request body is too large."),
        415: _("The body is not JSON (Content-Type: application/json)."),
        422: _("A field has the wrong type or shape (errors by field)."),
    }
    return {str(code): _problem(texts[code]) for code in codes}


def _schemas() -> dict:
    string, integer, boolean = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
    when = {"type": ["string", "null"], "format": "date-time"}
    ref_value = {"oneOf": [integer, string], "description": _("An id or a name.")}
    named = {
        "type": "object",
        "properties": {"id": integer, "name": string},
        "required": ["id", "name"],
    }
    return {
        "Problem": {
            "type": "object",
            "description": _("An error, as RFC 9457 problem details."),
            "properties": {
                "type": {"type": "string", "examples": ["/problems/validation"]},
                "title": string,
                "status": integer,
                "detail": string,
                "errors": {
                    "type": "object",
                    "additionalProperties": string,
                    "description": _("Message for each field that is not valid."),
                },
            },
            "required": ["type", "title", "status"],
        },
        "Named": named,
        "Person": {
            "type": "object",
            "properties": {"id": integer, "name": string, "email": string},
        },
        "Category": {
            "type": "object",
            "properties": {
                "id": integer,
                "name": string,
                "name_pt_br": string,
                "name_es": string,
                "label": string,
                "kinds": {"type": "array", "items": {"enum": list(KINDS)}},
                "active": boolean,
                "position": integer,
            },
        },
        "CategoryInput": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": string,
                "name_pt_br": string,
                "name_es": string,
                "kinds": {"type": "array", "items": {"enum": list(KINDS)}},
                "active": boolean,
                "position": integer,
            },
        },
        "Department": {
            "type": "object",
            "properties": {
                "id": integer,
                "name": string,
                "description": string,
                "is_default": boolean,
                "is_ombudsman": boolean,
                "active": boolean,
            },
        },
        "DepartmentInput": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": string,
                "description": string,
                "is_default": boolean,
                "is_ombudsman": boolean,
            },
        },
        "Customer": {
            "type": "object",
            "properties": {
                "id": integer,
                "name": string,
                "emails": {"type": "array", "items": string},
                "phones": {"type": "array", "items": string, "description": "E.164"},
                "document": {"type": ["string", "null"], "description": _("Staff only.")},
            },
        },
        "CustomerInput": {
            "type": "object",
            "description": _(
                "Found by document, email or phone (in that order) or created; "
                "give at least one of them."
            ),
            "properties": {"name": string, "email": string, "phone": string, "document": string},
        },
        "Attachment": {
            "type": "object",
            "properties": {
                "id": integer,
                "filename": string,
                "content_type": string,
                "size": integer,
                "message_id": {"type": ["integer", "null"]},
                "created_at": when,
            },
        },
        "AttachmentUpload": {
            "type": "object",
            "required": ["filename", "content_base64"],
            "properties": {"filename": string, "content_base64": {"type": "string"}},
        },
        "Ticket": {
            "type": "object",
            "properties": {
                "protocol": string,
                "kind": {"enum": list(KINDS)},
                "category": _nullable(_ref("Named")),
                "channel": {"enum": list(CHANNELS)},
                "subject": string,
                "description": string,
                "remedy": string,
                "status": {"enum": list(STATUSES)},
                "priority": {"enum": list(PRIORITY_VALUES)},
                "department": _ref("Named"),
                "assignee": _nullable(_ref("Person")),
                "customer": _ref("Customer"),
                "created_at": when,
                "updated_at": when,
                "first_response_at": when,
                "resolved_at": when,
                "closed_at": when,
                "customer_verdict": {"type": ["string", "null"]},
                "escalation_level": {
                    "enum": [0, 1, 2, 3],
                    "description": _("0 not escalated, 1 supervision, 2 management, 3 ombudsman."),
                },
                "attachments": {"type": "array", "items": _ref("Attachment")},
                "sla": {
                    "type": "object",
                    "description": _(
                        "Detail only. Each target's due instant and state; customers see the "
                        "resolution deadline only."
                    ),
                    "properties": {
                        "first_response": _ref("SlaTarget"),
                        "next_response": _ref("SlaTarget"),
                        "resolution": _ref("SlaTarget"),
                    },
                },
                "links": {"type": "object", "additionalProperties": string},
            },
        },
        "SlaTarget": {
            "type": "object",
            "properties": {
                "due_at": {"type": "string", "format": "date-time"},
                "state": {"enum": ["on_track", "at_risk", "paused", "met", "breached"]},
                "met_at": when,
            },
        },
        "TicketInput": {
            "type": "object",
            "required": ["kind", "subject"],
            "properties": {
                "kind": {"enum": list(KINDS)},
                "channel": {
                    "enum": list(CHANNELS),
                    "default": "api",
                    "description": _("Ignored for a customer's token (always api)."),
                },
                "subject": {"type": "string", "maxLength": 200},
                "description": {"type": "string", "maxLength": 20000},
                "remedy": {"type": "string", "maxLength": 5000},
                "category": ref_value,
                "attachments": {"type": "array", "maxItems": 10, "items": _ref("AttachmentUpload")},
                "customer": {
                    **_ref("CustomerInput"),
                    "description": _("Required for staff tokens; ignored for a customer's token."),
                },
            },
        },
        "TicketChange": {
            "type": "object",
            "properties": {
                "status": {"enum": list(STATUSES)},
                "outcome": {"type": "string", "description": _("With status resolved.")},
                "priority": {"enum": list(PRIORITY_VALUES)},
                "assignee": {
                    "oneOf": [integer, string, {"type": "null"}],
                    "description": _("A staff member's id or email; null unassigns."),
                },
                "department": ref_value,
                "reason": {"type": "string", "description": _("Required for a transfer.")},
            },
        },
        "TicketPage": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": _ref("Ticket")},
                "next": {"type": ["string", "null"], "description": _("Cursor of the next page.")},
            },
        },
        "Message": {
            "type": "object",
            "properties": {
                "id": integer,
                "author_kind": {"enum": ["customer", "agent", "system"]},
                "author_name": string,
                "internal": boolean,
                "channel": string,
                "body": string,
                "created_at": when,
                "attachments": {"type": "array", "items": _ref("Attachment")},
            },
        },
        "MessageInput": {
            "type": "object",
            "required": ["body"],
            "properties": {
                "body": {"type": "string", "maxLength": 20000},
                "internal": {"type": "boolean", "description": _("Staff only.")},
                "channel": {"enum": list(CHANNELS), "default": "api"},
                "attachments": {"type": "array", "maxItems": 10, "items": _ref("AttachmentUpload")},
            },
        },
        "Event": {
            "type": "object",
            "properties": {
                "id": integer,
                "action": string,
                "field": {"type": ["string", "null"]},
                "old_value": {"type": ["string", "null"]},
                "new_value": {"type": ["string", "null"]},
                "detail": string,
                "public": boolean,
                "actor": _nullable(_ref("Person")),
                "actor_type": {
                    "type": "string",
                    "enum": ["user", "customer", "system", "routing_rule", "escalation_rule"],
                },
                "rule": {
                    "type": ["object", "null"],
                    "properties": {
                        "type": {"type": "string", "enum": ["routing_rule", "escalation_rule"]},
                        "id": {"type": ["integer", "null"]},
                        "name": string,
                    },
                },
                "created_at": when,
            },
        },
        "RoutingRule": {
            "type": "object",
            "properties": {
                "id": integer,
                "position": integer,
                "name": string,
                "active": boolean,
                "kind": {"type": ["string", "null"]},
                "category": {"type": ["integer", "null"]},
                "channel": {"type": ["string", "null"]},
                "keywords": {"type": "array", "items": string},
                "segment": {"type": ["string", "null"]},
                "key_account": {"type": ["boolean", "null"]},
                "department": _ref("Named"),
                "priority": {"type": ["string", "null"]},
                "agent": _nullable(_ref("Person")),
            },
        },
        "RoutingRuleInput": {
            "type": "object",
            "description": _("Conditions (all optional, all must match) and the outcome."),
            "properties": {
                "name": string,
                "active": boolean,
                "kind": {"type": ["string", "null"]},
                "category": {"oneOf": [integer, string, {"type": "null"}]},
                "channel": {"type": ["string", "null"]},
                "keywords": {"oneOf": [string, {"type": "array", "items": string}]},
                "segment": {"type": ["string", "null"]},
                "key_account": {"type": ["boolean", "null"]},
                "department": ref_value,
                "priority": {"type": ["string", "null"]},
                "agent": {"oneOf": [integer, string, {"type": "null"}]},
                "position": integer,
            },
        },
        "List": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": {}}},
        },
    }


def _items(schema_name: str) -> dict:
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "items": _ref(schema_name)}},
    }


def build_spec() -> dict:
    protocol = {
        "name": "protocol",
        "in": "path",
        "required": True,
        "description": _("The ticket's protocol number (with its check digit)."),
        "schema": {"type": "string", "examples": ["202501310000017"]},
    }
    rule_id = {"name": "rule_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    idempotency = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": _(
            "Retry safely: the same key and body return the same ticket "
            "(header Idempotent-Replayed: true); the same key with another body is a 409."
        ),
        "schema": {"type": "string", "maxLength": 200},
    }
    location = {"Location": {"schema": {"type": "string"}}}
    ticket_example = {
        "kind": "complaint",
        "channel": "chat",
        "subject": "Cobrança em duplicidade",
        "description": "Fui cobrado duas vezes na fatura de março.",
        "customer": {
            "name": "Maria Silva",
            "email": "maria@example.com",
            "phone": "+5511987654321",
        },
    }
    paths = {
        "/api/v1/tickets": {
            "get": {
                "tags": ["tickets"],
                "operationId": "listTickets",
                "summary": _("List tickets"),
                "description": _(
                    "Tickets the token's owner may see (customers: their own; agents and "
                    "supervisors: their departments and tickets assigned to them; admins: all), "
                    "newest first, one page at a time. Follow `next` for the next page."
                ),
                "parameters": [
                    _query(
                        "status",
                        _("Comma-separated statuses (default: every status)."),
                        {"type": "string", "examples": ["new,open"]},
                    ),
                    _query(
                        "channel",
                        _("Only tickets that arrived through this channel."),
                        {"enum": list(CHANNELS)},
                    ),
                    _query("department", _("Department id or name.")),
                    _query("customer_email", _("Tickets of the customer with this email.")),
                    _query("customer_phone", _("Tickets of the customer with this phone.")),
                    _query(
                        "updated_since",
                        _("Only tickets changed at or after this instant (ISO 8601)."),
                        {"type": "string", "format": "date-time"},
                    ),
                    _query("sort", _("Order."), {"enum": list(SORTS), "default": "newest"}),
                    _query(
                        "limit",
                        _("Page size."),
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                    ),
                    _query("cursor", _("The `next` value of the previous page.")),
                ],
                "responses": {
                    "200": _ok(_ref("TicketPage")),
                    **_errors(400, 401),
                },
            },
            "post": {
                "tags": ["tickets"],
                "operationId": "createTicket",
                "summary": _("Register a ticket"),
                "description": _(
                    "The same intake as every channel: issues the protocol, routes and "
                    "acknowledges by email. Staff tokens give the customer; a customer's token "
                    "registers for themself. Fields such as status, assignee or protocol are "
                    "ignored."
                ),
                "parameters": [idempotency],
                "requestBody": _body("TicketInput", ticket_example),
                "responses": {
                    "201": _ok(_ref("Ticket"), _("Registered (or replayed)."), location),
                    **_errors(400, 401, 403, 409, 413, 415, 422),
                },
            },
        },
        "/api/v1/tickets/{protocol}": {
            "get": {
                "tags": ["tickets"],
                "operationId": "getTicket",
                "summary": _("Read one ticket"),
                "parameters": [protocol],
                "responses": {"200": _ok(_ref("Ticket")), **_errors(400, 401, 404)},
            },
            "patch": {
                "tags": ["tickets"],
                "operationId": "updateTicket",
                "summary": _("Change status, priority, assignee or department"),
                "description": _("Staff only. A transfer to another department needs a reason."),
                "parameters": [protocol],
                "requestBody": _body(
                    "TicketChange", {"status": "open", "priority": "high", "assignee": None}
                ),
                "responses": {
                    "200": _ok(_ref("Ticket")),
                    **_errors(400, 401, 403, 404, 409, 415, 422),
                },
            },
        },
        "/api/v1/tickets/{protocol}/messages": {
            "get": {
                "tags": ["tickets"],
                "operationId": "listMessages",
                "summary": _("Read the thread"),
                "description": _("Internal notes only for staff."),
                "parameters": [protocol],
                "responses": {"200": _ok(_items("Message")), **_errors(400, 401, 404)},
            },
            "post": {
                "tags": ["tickets"],
                "operationId": "createMessage",
                "summary": _("Add a message"),
                "description": _(
                    "A staff reply (emailed to the customer), an internal note (staff, "
                    "internal: true) or the customer's reply. Files in `attachments` are "
                    "stored with the message and listed in the answer and in the thread, with "
                    "the same limits as when registering a ticket (accepted types, size, at most "
                    "10); a file that breaks them refuses the whole message."
                ),
                "parameters": [protocol],
                "requestBody": _body("MessageInput", {"body": "Obrigado, aguardo retorno."}),
                "responses": {
                    "201": _ok(_ref("Message")),
                    **_errors(400, 401, 403, 404, 409, 415, 422),
                },
            },
        },
        "/api/v1/tickets/{protocol}/events": {
            "get": {
                "tags": ["tickets"],
                "operationId": "listEvents",
                "summary": _("Read the history"),
                "description": _("Internal events only for staff."),
                "parameters": [protocol],
                "responses": {"200": _ok(_items("Event")), **_errors(400, 401, 404)},
            },
        },
        "/api/v1/customers": {
            "get": {
                "tags": ["customers"],
                "operationId": "findCustomers",
                "summary": _("Find a customer"),
                "description": _("Staff only. Give exactly one of phone, email, document."),
                "parameters": [
                    _query("phone", _("Phone number, any common format.")),
                    _query("email", _("Email address.")),
                    _query("document", _("CPF or CNPJ, with or without punctuation.")),
                ],
                "responses": {"200": _ok(_items("Customer")), **_errors(400, 401, 403)},
            },
        },
        "/api/v1/departments": {
            "get": {
                "tags": ["administration"],
                "operationId": "listDepartments",
                "summary": _("List departments"),
                "description": _("Staff tokens."),
                "responses": {"200": _ok(_items("Department")), **_errors(401, 403)},
            },
            "post": {
                "tags": ["administration"],
                "operationId": "createDepartment",
                "summary": _("Create a department"),
                "description": _("Admin tokens."),
                "requestBody": _body("DepartmentInput", {"name": "Financeiro"}),
                "responses": {
                    "201": _ok(_ref("Department")),
                    **_errors(400, 401, 403, 409, 415, 422),
                },
            },
        },
        "/api/v1/categories": {
            "get": {
                "tags": ["administration"],
                "operationId": "listCategories",
                "summary": _("List categories"),
                "description": _("Staff tokens."),
                "responses": {"200": _ok(_items("Category")), **_errors(401, 403)},
            },
            "post": {
                "tags": ["administration"],
                "operationId": "createCategory",
                "summary": _("Create a category"),
                "description": _("Admin tokens."),
                "requestBody": _body(
                    "CategoryInput",
                    {"name": "Billing", "name_pt_br": "Cobrança", "name_es": "Facturación"},
                ),
                "responses": {
                    "201": _ok(_ref("Category")),
                    **_errors(400, 401, 403, 409, 415, 422),
                },
            },
        },
        "/api/v1/routing-rules": {
            "get": {
                "tags": ["administration"],
                "operationId": "listRoutingRules",
                "summary": _("List routing rules"),
                "description": _("Admin tokens. In the order they are tried."),
                "responses": {"200": _ok(_items("RoutingRule")), **_errors(401, 403)},
            },
            "post": {
                "tags": ["administration"],
                "operationId": "createRoutingRule",
                "summary": _("Create a routing rule"),
                "description": _("Admin tokens."),
                "requestBody": _body(
                    "RoutingRuleInput",
                    {
                        "name": "Cobrança",
                        "keywords": ["fatura", "cobrança"],
                        "department": "Financeiro",
                        "priority": "high",
                    },
                ),
                "responses": {
                    "201": _ok(_ref("RoutingRule"), headers=location),
                    **_errors(400, 401, 403, 415, 422),
                },
            },
        },
        "/api/v1/routing-rules/{rule_id}": {
            "patch": {
                "tags": ["administration"],
                "operationId": "updateRoutingRule",
                "summary": _("Change a routing rule"),
                "description": _("Admin tokens. Fields left out keep their value."),
                "parameters": [rule_id],
                "requestBody": _body("RoutingRuleInput", {"active": False}),
                "responses": {
                    "200": _ok(_ref("RoutingRule")),
                    **_errors(400, 401, 403, 404, 415, 422),
                },
            },
        },
        **investigation_paths(),
        "/api/v1/openapi.json": {
            "get": {
                "tags": ["documentation"],
                "operationId": "getOpenApi",
                "summary": _("This OpenAPI document"),
                "security": [],
                "responses": {"200": _ok({"type": "object"})},
            },
        },
        "/api/v1/docs": {
            "get": {
                "tags": ["documentation"],
                "operationId": "getDocs",
                "summary": _("This documentation as a web page"),
                "security": [],
                "responses": {
                    "200": {
                        "description": _("HTML page"),
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            },
        },
    }
    paths.update(openapi_escalations.paths(_ok, _body, _query, _errors, _items, protocol))
    paths.update(channel_paths(_ok, _body, _errors, idempotency))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": _("SAC help desk API"),
            "version": "1.0.0",
            "description": _(
                "Register and follow customer-service tickets from any channel. Authenticate "
                "with `Authorization: Bearer <token>` (create one with `flask --app wsgi token "
                "create EMAIL`); a token acts with its owner's role. Errors are "
                "application/problem+json. Protocol numbers identify tickets."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "tickets", "description": _("Tickets, their thread and history.")},
            {"name": "customers", "description": _("Customer look-up.")},
            {"name": "escalations", "description": _("Escalations and their decisions.")},
            {"name": "administration", "description": _("Departments, categories, routing.")},
            {
                "name": "investigations",
                "description": _("Root-cause investigations: linked tickets, actions, closing."),
            },
            {"name": "documentation", "description": _("This description.")},
            *channel_tags(),
        ],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": _("An API token; it acts with its owner's role."),
                }
            },
            "schemas": {
                **_schemas(),
                **openapi_escalations.schemas(_ref, _nullable),
                **channel_schemas(),
                **investigation_schemas(),
            },
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_spec())


def _curl(method: str, path: str, operation: dict, base: str) -> str:
    url = base + (
        path.replace("{protocol}", "202501310000017")
        .replace("{rule_id}", "1")
        .replace("{number}", "INV-00001")
        .replace("{action_id}", "1")
    )
    parts = ["curl", "-X", method.upper(), shlex.quote(url)]
    if operation.get("security") != []:
        parts += ["-H", '"Authorization: Bearer $TOKEN"']  # double quotes: the shell expands it
    content = operation.get("requestBody", {}).get("content", {}).get(JSON)
    if content:
        parts += ["-H", shlex.quote("Content-Type: application/json")]
        parts += ["-d", shlex.quote(json.dumps(content.get("example", {}), ensure_ascii=False))]
    return " ".join(parts[:4]) + "".join(
        f" \\\n  {parts[i]} {parts[i + 1]}" for i in range(4, len(parts), 2)
    )


def doc_groups(spec: dict, base: str) -> list[dict]:
    """Operations grouped by tag, in the order of the document's tags, for the docs page."""
    groups = {t["name"]: {"tag": t, "operations": []} for t in spec["tags"]}
    for path, item in spec["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            content = operation.get("requestBody", {}).get("content", {}).get(JSON, {})
            groups[operation["tags"][0]]["operations"].append(
                {
                    "method": method,
                    "path": path,
                    "op": operation,
                    "public": operation.get("security") == [],
                    "example": json.dumps(content["example"], indent=2, ensure_ascii=False)
                    if content
                    else None,
                    "curl": _curl(method, path, operation, base),
                    "responses": sorted(operation.get("responses", {}).items()),
                }
            )
    return list(groups.values())


@bp.get("/docs")
def docs():
    spec = build_spec()
    base = request.host_url.rstrip("/")
    return render_template("api/docs.html", spec=spec, groups=doc_groups(spec, base))
