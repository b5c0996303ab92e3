"""The escalation part of the OpenAPI document (paths and schemas), merged in by openapi.py."""

from __future__ import annotations

from flask_babel import gettext as _

from ..escalations.models import AGENT_REASONS, DECISIONS, ESCALATION_STATES, LEVELS


def schemas(ref, nullable) -> dict:
    when = nullable({"type": "string", "format": "date-time"})
    person = nullable(ref("Person"))
    return {
        "Escalation": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "ticket": {"type": "string", "description": _("The ticket's protocol.")},
                "level": {"enum": list(LEVELS)},
                "previous_level": {"type": "integer"},
                "trigger": {"enum": ["sla", "agent", "customer"]},
                "target": nullable({"enum": ["first_response", "next_response", "resolution"]}),
                "reason": {"type": "string"},
                "note": {"type": "string"},
                "state": {"enum": list(ESCALATION_STATES)},
                "department": ref("Named"),
                "raised_at": {"type": "string", "format": "date-time"},
                "raised_by": person,
                "ack_due_at": {"type": "string", "format": "date-time"},
                "acknowledged_at": when,
                "acknowledged_by": person,
                "decision": nullable({"enum": list(DECISIONS)}),
                "decision_note": {"type": "string"},
                "decided_by": person,
                "closed_at": when,
                "links": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "EscalationDecision": {
            "type": "object",
            "required": ["decision"],
            "properties": {
                "decision": {"enum": list(DECISIONS)},
                "note": {
                    "type": "string",
                    "description": _("Required to instruct (the instruction) and to de-escalate."),
                },
                "department": {"type": ["integer", "string"], "description": _("Reassign.")},
                "assignee": {"type": ["integer", "string"], "description": _("Reassign.")},
                "priority": {"enum": ["low", "normal", "high", "urgent"]},
                "investigation": {
                    "type": "string",
                    "description": _(
                        "Investigate: link to this investigation (e.g. INV-00001); without it "
                        "the ticket's own investigation is kept or a new one is opened."
                    ),
                },
            },
        },
        "EscalateInput": {
            "type": "object",
            "properties": {
                "reason": {
                    "enum": list(AGENT_REASONS),
                    "description": _("Staff only (required)."),
                },
                "note": {"type": "string", "description": _("Required for staff.")},
                "level": {
                    "enum": list(LEVELS),
                    "description": _("Staff only; default one level up."),
                },
            },
        },
    }


def paths(ok, body, query, errors, items, protocol) -> dict:
    escalation_id = {
        "name": "escalation_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    one = {"$ref": "#/components/schemas/Escalation"}
    return {
        "/api/v1/escalations": {
            "get": {
                "tags": ["escalations"],
                "operationId": "listEscalations",
                "summary": _("List escalations"),
                "description": _(
                    "Supervisors (their departments) and admins (all), newest first, one page at "
                    "a time. Follow `next` for the next page."
                ),
                "parameters": [
                    query("ticket", _("A ticket's protocol.")),
                    query("level", _("Level."), {"enum": [str(x) for x in LEVELS]}),
                    query("state", _("State."), {"enum": list(ESCALATION_STATES)}),
                    query("department", _("Department id or name.")),
                    query(
                        "limit",
                        _("Page size."),
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                    ),
                    query("cursor", _("The `next` value of the previous page.")),
                ],
                "responses": {
                    "200": ok(
                        {
                            "type": "object",
                            "properties": {
                                "items": {"type": "array", "items": one},
                                "next": {"type": ["string", "null"]},
                            },
                        }
                    ),
                    **errors(400, 401, 403, 404),
                },
            }
        },
        "/api/v1/escalations/{escalation_id}": {
            "get": {
                "tags": ["escalations"],
                "operationId": "getEscalation",
                "summary": _("Read an escalation"),
                "parameters": [escalation_id],
                "responses": {"200": ok(one), **errors(401, 403, 404)},
            }
        },
        "/api/v1/escalations/{escalation_id}/acknowledge": {
            "post": {
                "tags": ["escalations"],
                "operationId": "acknowledgeEscalation",
                "summary": _("Acknowledge an escalation"),
                "parameters": [escalation_id],
                "requestBody": {
                    "required": False,
                    "description": _("No body is needed."),
                    "content": {"application/json": {"schema": {"type": "object"}, "example": {}}},
                },
                "responses": {"200": ok(one), **errors(401, 403, 404, 409)},
            }
        },
        "/api/v1/escalations/{escalation_id}/decision": {
            "post": {
                "tags": ["escalations"],
                "operationId": "decideEscalation",
                "summary": _("Decide an escalation (and close it)"),
                "parameters": [escalation_id],
                "requestBody": body(
                    "EscalationDecision", {"decision": "instruct", "note": "Ofereça a troca."}
                ),
                "responses": {"200": ok(one), **errors(400, 401, 403, 404, 409, 415, 422)},
            }
        },
        "/api/v1/tickets/{protocol}/escalations": {
            "post": {
                "tags": ["escalations"],
                "operationId": "escalateTicket",
                "summary": _("Escalate a ticket"),
                "description": _(
                    "Staff who work the ticket escalate it with a reason and a note (one level "
                    "up by default). The ticket's customer can send it to the ombudsman once its "
                    "resolution deadline has passed."
                ),
                "parameters": [protocol],
                "requestBody": body(
                    "EscalateInput", {"reason": "legal_threat", "note": "Cliente citou o Procon."}
                ),
                "responses": {
                    "201": ok(
                        {
                            "type": "object",
                            "properties": {
                                "ticket": {"type": "string"},
                                "escalation_level": {"type": "integer"},
                                "escalation": one,
                            },
                        }
                    ),
                    **errors(400, 401, 403, 404, 409, 415, 422),
                },
            }
        },
    }
