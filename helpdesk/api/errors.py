"""Every error under /api/v1 as application/problem+json (RFC 9457).

Domain errors keep their status and translated message; validation errors add an `errors` object
{field: message}; a 401 carries `WWW-Authenticate: Bearer`.
"""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core import unit
from ..core.errors import Conflict, DomainError
from ..core.web import problem
from .blueprint import bp

log = logging.getLogger(__name__)

TITLES = {
    400: _l("Bad request"),
    401: _l("Authentication required"),
    403: _l("Forbidden"),
    404: _l("Not found"),
    409: _l("Conflict"),
    413: _l("Too large"),
    415: _l("Unsupported media type"),
    422: _l("Unprocessable content"),
}


class Unauthenticated(DomainError):
    """No bearer token, or one that is unknown, revoked or whose owner is deactivated."""

    status = 401
    code = "unauthorized"
    default_message = _l("Send a valid API token in the header Authorization: Bearer <token>.")

    def __init__(self, message=None, *, invalid_token: bool = False):
        super().__init__(message)
        self.invalid_token = invalid_token


class MalformedJson(DomainError):
    status = 400
    code = "malformed-json"
    default_message = _l("The request body is not valid JSON.")


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported-media-type"
    default_message = _l("Send the body as JSON with the header Content-Type: application/json.")


class InvalidInput(DomainError):
    """Fields of the wrong type or shape; `errors` maps each field to its message."""

    status = 422
    code = "unprocessable"
    default_message = _l("Some fields are not valid; see errors.")

    def __init__(self, errors: dict[str, str], message=None):
        super().__init__(message)
        self.errors = errors
        self.field = next(iter(errors), None)


class IdempotencyConflict(Conflict):
    code = "idempotency-key-reused"
    default_message = _l(
        "This Idempotency-Key was already used with a different request body. "
        "Use a new key for a new request."
    )


def _problem_for(exc: DomainError):
    extra = {}
    errors = getattr(exc, "errors", None)
    if errors:
        extra["errors"] = {field: str(message) for field, message in errors.items()}
    elif exc.field:
        extra["errors"] = {exc.field: str(exc)}
    response = problem(
        exc.status,
        str(TITLES.get(exc.status, _("Error"))),
        str(exc),
        type_=f"/problems/{exc.code}",
        **extra,
    )
    if exc.status == 401:
        challenge = 'Bearer realm="api"'
        if getattr(exc, "invalid_token", False):
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    return response


JSON_TYPES = ("application/json", "application/problem+json")


@bp.after_request
def escape_markup(response):
    """Escape <, > and & inside JSON strings: data never reads as markup, even if mis-sniffed."""
    if response.mimetype in JSON_TYPES and not response.direct_passthrough:
        data = response.get_data()
        if b"<" in data or b">" in data or b"&" in data:
            response.set_data(
                data.replace(b"&", b"\\u0026").replace(b"<", b"\\u003c").replace(b">", b"\\u003e")
            )
    return response


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    unit.rollback()  # nothing written or queued by a failed request stays
    return _problem_for(exc)
