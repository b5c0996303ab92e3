"""The path registry of the OpenAPI document: each view says what it takes and returns, by model.

    @bp.post("/tickets")
    @documented("createTicket", "tickets", _l("Register a ticket"), body=TicketInput,
                responses={201: ok(Ticket)}, errors=(400, 401, 415, 422))
    def create_ticket(): ...

The path and the method come from the route itself (api.openapi reads the URL map), so a view
cannot be documented under another path. Texts are lazy strings: the document is built per request
in the request's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel

Text = Any  # a str or a flask_babel LazyString


@dataclass(frozen=True)
class Ok:
    """A successful answer: a JSON body of `models` (one, or any of several; none: no body)."""

    models: tuple[type[BaseModel], ...]
    description: Text | None = None
    headers: Mapping[str, dict] | None = None
    content: Mapping[str, dict] | None = None  # a body that is not JSON (the docs page)


def ok(*models: type[BaseModel], description: Text | None = None, headers=None, content=None) -> Ok:
    return Ok(models, description, headers, content)


@dataclass(frozen=True)
class Operation:
    operation_id: str
    tag: str
    summary: Text
    description: Text | None = None
    body: type[BaseModel] | None = None
    example: dict | None = None
    body_required: bool = True
    body_description: Text | None = None
    responses: Mapping[int, Ok] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    error_texts: Mapping[int, Text] = field(default_factory=dict)
    parameters: tuple[dict, ...] = ()
    public: bool = False  # no token needed
    optional_token: bool = False  # no token needed; a token's owner may see more


OPERATIONS: dict[str, Operation] = {}
"""Documented operations by endpoint name (`api.<view function>`)."""


def documented(operation_id: str, tag: str, summary: Text, **details) -> Callable:
    def register(view: Callable) -> Callable:
        OPERATIONS[f"api.{view.__name__}"] = Operation(operation_id, tag, summary, **details)
        return view

    return register


def query(name: str, description: Text, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def path_parameter(name: str, description: Text | None = None, schema: dict | None = None) -> dict:
    parameter = {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema or {"type": "string"},
    }
    if description is not None:
        parameter["description"] = description
    return parameter


PROTOCOL = path_parameter(
    "protocol",
    _l("The ticket's protocol number (with its check digit)."),
    {"type": "string", "examples": ["202501310000017"]},
)
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": _l(
        "Retry safely: the same key and body return the same ticket "
        "(header Idempotent-Replayed: true); the same key with another body is a 409."
    ),
    "schema": {"type": "string", "maxLength": 200},
}
LOCATION = {"Location": {"schema": {"type": "string"}}}
CONTENT_LOCATION = {"Content-Location": {"schema": {"type": "string"}}}
