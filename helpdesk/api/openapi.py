"""The OpenAPI 3.1 description of /api/v1 and the public docs page that renders it.

Generated: paths and methods from the URL map, operations from @documented (api/documented.py),
components.schemas from the pydantic models (api/schemas/). Built per request, so every text is
in the request's language.
"""

from __future__ import annotations

import json
import re
import shlex

from flask import current_app, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .blueprint import bp
from .documented import OPERATIONS, Operation, documented, ok
from .schemas.common import REF_TEMPLATE, OpenApiDocument, Problem

JSON = "application/json"
PROBLEM = "application/problem+json"
ANY_ROUTE = (400,)  # core.boundary refuses a NUL byte or lone surrogate in a query or header
METHODS = ("get", "post", "patch", "put", "delete")


def _ref(name: str) -> dict:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}


def _ok(
    schema: dict, description: str | None = None, headers: dict | None = None, other=None
) -> dict:
    """A JSON answer (and `other` bodies it may be instead, e.g. text/csv)."""
    body = {
        "description": description or _("Success"),
        "content": {JSON: {"schema": schema}, **(other or {})},
    }
    if headers:
        body["headers"] = headers
    return body


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


def _translated(node):
    """Every lazy text of the document in the request's language."""
    if isinstance(node, LazyString):
        return str(node)
    if isinstance(node, dict):
        return {key: _translated(value) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [_translated(item) for item in node]
    return node


def _schema_of(models: tuple[type[BaseModel], ...]) -> dict:
    if len(models) == 1:
        return _ref(models[0].__name__)
    return {"anyOf": [_ref(m.__name__) for m in models]}


def _operation(op: Operation) -> dict:
    data = {"tags": [op.tag], "operationId": op.operation_id, "summary": op.summary}
    if op.public:
        data["security"] = []
    if op.optional_token:  # anonymous, or a token that shows more
        data["security"] = [{}, {"bearerAuth": []}]
    if op.description is not None:
        data["description"] = op.description
    if op.parameters:
        data["parameters"] = list(op.parameters)
    if op.body is not None:
        content = {"schema": _ref(op.body.__name__)}
        if op.example is not None:
            content["example"] = op.example
        data["requestBody"] = {"required": op.body_required, "content": {JSON: content}}
        if op.body_description is not None:
            data["requestBody"]["description"] = op.body_description
    responses = {
        str(status): _ok(
            _schema_of(answer.models), answer.description, answer.headers, answer.content
        )
        if answer.models
        else {
            "description": answer.description,
            **({"content": answer.content} if answer.content else {}),
        }
        for status, answer in op.responses.items()
    }
    errors = _errors(*sorted({*op.errors, *ANY_ROUTE}))
    for status, text in op.error_texts.items():
        if str(status) in errors:
            errors[str(status)]["description"] = text
    data["responses"] = {**responses, **errors}
    return data


def _documented_paths() -> tuple[dict, dict]:
    """Paths of the views registered with @documented (path and method from the URL map), and
    the JSON schemas of their models under components.schemas."""
    paths: dict[str, dict] = {}
    models: set[type[BaseModel]] = {Problem}
    for rule in current_app.url_map.iter_rules():
        op = OPERATIONS.get(rule.endpoint)
        if op is None:
            continue
        (method,) = rule.methods - {"HEAD", "OPTIONS"}
        paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = _operation(op)
        models.update(m for answer in op.responses.values() for m in answer.models)
        if op.body is not None:
            models.add(op.body)
    _, schemas = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template=REF_TEMPLATE,
    )
    return paths, schemas["$defs"]


def openapi_path(rule: str) -> str:
    """/api/v1/tickets/<protocol> as /api/v1/tickets/{protocol}."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def build_spec() -> dict:
    """The document in the request's language, built once per language and process (it depends
    on the routes and the models only; building it took ~0.6 s, on every request)."""
    cache = current_app.extensions.setdefault("openapi_specs", {})
    locale = str(get_locale())
    if locale not in cache:
        cache[locale] = _build_spec()
    return cache[locale]


def _build_spec() -> dict:
    paths, schemas = _documented_paths()
    return _translated(
        {
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
                {"name": "tags", "description": _("Labels on tickets, curated or free.")},
                {
                    "name": "macros",
                    "description": _("Canned replies with placeholders and actions."),
                },
                {"name": "escalations", "description": _("Escalations and their decisions.")},
                {"name": "administration", "description": _("Departments, categories, routing.")},
                {
                    "name": "investigations",
                    "description": _(
                        "Root-cause investigations: linked tickets, actions, closing."
                    ),
                },
                {
                    "name": "articles",
                    "description": _(
                        "Help-centre articles: public ones can be read without a token."
                    ),
                },
                {"name": "reports", "description": _("Supervisors' reports, as JSON or CSV.")},
                {"name": "documentation", "description": _("This description.")},
                {
                    "name": "channels",
                    "description": _(
                        "Phone systems (CTI) and chat/WhatsApp/social connectors. Integration "
                        "or admin tokens."
                    ),
                },
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
                "schemas": schemas,
            },
        }
    )


@bp.get("/openapi.json")
@documented(
    "getOpenApi",
    "documentation",
    _l("This OpenAPI document"),
    public=True,
    responses={200: ok(OpenApiDocument)},
)
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
@documented(
    "getDocs",
    "documentation",
    _l("This documentation as a web page"),
    public=True,
    responses={
        200: ok(description=_l("HTML page"), content={"text/html": {"schema": {"type": "string"}}})
    },
)
def docs():
    spec = build_spec()
    base = request.host_url.rstrip("/")
    return render_template("api/docs.html", spec=spec, groups=doc_groups(spec, base))
