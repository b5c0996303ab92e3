"""Domain errors raised by services; surfaces turn them into form errors, flashes or problem+json."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """Base class. `message` is a lazy translatable string; `status` the HTTP status it maps to."""

    status = 400
    code = "invalid"
    default_message = _l("The request could not be processed.")

    def __init__(self, message=None, *, field: str | None = None, **params):
        self.message = message if message is not None else self.default_message
        self.field = field
        self.params = params
        super().__init__(str(self.message))

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class ValidationError(DomainError):
    status = 400
    code = "validation"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    default_message = _l("Not found.")


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("You are not allowed to do this.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _l("This conflicts with the current state.")


class TicketClosed(Conflict):
    code = "ticket-closed"
    default_message = _l("This demand is closed and can no longer change.")


class InvalidProtocol(DomainError):
    """The protocol's check digit does not match: a typo, not an unknown number."""

    status = 400
    code = "invalid-protocol"
    default_message = _l(
        "This protocol number has a wrong check digit. Please check it and try again."
    )


class ProtocolNotFound(NotFound):
    code = "protocol-not-found"
    default_message = _l("No demand has this protocol number.")
