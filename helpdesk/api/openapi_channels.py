"""The OpenAPI part of the channel endpoints (phone calls, conversations), merged by openapi.py."""

from __future__ import annotations

from flask_babel import gettext as _

from ..channels.models import CALL_EVENTS, CONNECTOR_CHANNELS
from ..tickets.models import KINDS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def channel_tags() -> list[dict]:
    return [
        {
            "name": "channels",
            "description": _(
                "Phone systems (CTI) and chat/WhatsApp/social connectors. Integration or admin "
                "tokens."
            ),
        }
    ]


def channel_schemas() -> dict:
    string, integer = {"type": "string"}, {"type": "integer"}
    when = {"type": ["string", "null"], "format": "date-time"}
    return {
        "CallEvent": {
            "type": "object",
            "required": ["call_id", "event"],
            "properties": {
                "call_id": {
                    "type": "string",
                    "maxLength": 120,
                    "description": _("The PBX's unique id of the call (e.g. Asterisk UNIQUEID)."),
                },
                "event": {"enum": list(CALL_EVENTS)},
                "caller": {
                    "type": "string",
                    "maxLength": 40,
                    "description": _("The caller's number in any format; matched in E.164."),
                },
                "called": {
                    "type": "string",
                    "maxLength": 40,
                    "description": _("The number dialled (0300/0800)."),
                },
                "agent": {
                    "oneOf": [integer, string],
                    "description": _("The staff member taking the call: id or email."),
                },
                "recording_ref": {
                    "type": "string",
                    "maxLength": 500,
                    "description": _("Where the PBX keeps the recording (kept at least 90 days)."),
                },
                "provider": {
                    "type": "string",
                    "maxLength": 40,
                    "default": "pbx",
                    "description": _("Call ids are unique per provider."),
                },
                "at": {
                    "type": "string",
                    "format": "date-time",
                    "description": _("When it happened (default: when received)."),
                },
                "duration": {
                    "type": "integer",
                    "minimum": 0,
                    "description": _("Talk time in seconds, when the PBX knows it better."),
                },
            },
        },
        "ConversationMessage": {
            "type": "object",
            "required": ["channel", "conversation_id", "contact", "text"],
            "properties": {
                "channel": {"enum": list(CONNECTOR_CHANNELS)},
                "conversation_id": {
                    "type": "string",
                    "maxLength": 200,
                    "description": _("The connector's id of the conversation."),
                },
                "contact": {
                    "type": "string",
                    "maxLength": 200,
                    "description": _(
                        "The contact's handle: a phone number for WhatsApp (any format, matched "
                        "in E.164), a user name or id elsewhere."
                    ),
                },
                "text": {"type": "string", "maxLength": 20000},
                "name": {"type": "string", "maxLength": 200},
                "email": {"type": "string", "description": _("Optional: finds the customer.")},
                "kind": {"enum": list(KINDS), "default": "request"},
            },
        },
        "ConversationResult": {
            "type": "object",
            "properties": {
                "conversation": {"type": "object"},
                "customer": {"type": "object"},
                "protocol": string,
                "status": string,
                "message_id": {
                    "type": ["integer", "null"],
                    "description": _("The appended message; null when a new demand was opened."),
                },
                "created_at": when,
                "links": {"type": "object"},
            },
        },
        "Call": {
            "type": "object",
            "properties": {
                "id": integer,
                "provider": string,
                "call_id": string,
                "state": {"enum": ["ringing", "answered", "ended"]},
                "caller": string,
                "caller_e164": {"type": ["string", "null"]},
                "called": string,
                "customer": {"type": ["object", "null"]},
                "agent": {"type": ["object", "null"]},
                "ticket": {"type": ["string", "null"], "description": _("Protocol, once linked.")},
                "started_at": when,
                "answered_at": when,
                "ended_at": when,
                "duration_seconds": {"type": ["integer", "null"]},
                "recording_ref": {"type": ["string", "null"]},
            },
        },
    }


def channel_paths(ok, body, errors, idempotency) -> dict:
    return {
        "/api/v1/conversations": {
            "post": {
                "tags": ["channels"],
                "operationId": "postConversationMessage",
                "summary": _("Create or continue a conversation (chat, WhatsApp, social)"),
                "description": _(
                    "One call per incoming message. A new conversation registers a demand "
                    "(201) with the conversation's channel; a known one appends the customer's "
                    "message to its demand (200), reopening a resolved one; after the demand is "
                    "closed a new demand is opened. The same contact finds the same customer. "
                    "Integration or admin tokens. A replay answers 200 with "
                    "Idempotent-Replayed: true."
                ),
                "parameters": [idempotency],
                "requestBody": body(
                    "ConversationMessage",
                    {
                        "channel": "whatsapp",
                        "conversation_id": "wa-5511987654321-20250131",
                        "contact": "+5511987654321",
                        "name": "Maria Silva",
                        "text": "Minha internet caiu de novo.",
                    },
                ),
                "responses": {
                    "200": ok(_ref("ConversationResult"), _("Appended (or replayed).")),
                    "201": ok(_ref("ConversationResult"), _("A new demand was registered.")),
                    **errors(400, 401, 403, 409, 415, 422),
                },
            }
        },
        "/api/v1/calls": {
            "post": {
                "tags": ["channels"],
                "operationId": "postCallEvent",
                "summary": _("Report a phone call event (CTI)"),
                "description": _(
                    "For phone systems: ringing, answered or hung_up. Events are idempotent and "
                    "may arrive in any order. On ringing or answered the agent's console pops "
                    "the caller's record and open demands. Integration or admin tokens."
                ),
                "requestBody": body(
                    "CallEvent",
                    {
                        "call_id": "1718031234.42",
                        "event": "ringing",
                        "caller": "+5511987654321",
                        "called": "08007771234",
                        "agent": "ana@example.com",
                    },
                ),
                "responses": {
                    "200": ok(_ref("Call"), _("Applied to a known call.")),
                    "201": ok(_ref("Call"), _("A new call.")),
                    **errors(400, 401, 403, 415, 422),
                },
            }
        },
    }
