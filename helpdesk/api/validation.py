"""Parse a JSON body into its model; pydantic's errors become the API's translated 422.

Each error is named by its field as clients always saw it: `subject`, `customer.email`, and for a
list only the list (`attachments`, not `attachments.0.filename`). The message comes from the
error's type, translated into the request's language; the first error of a field wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask_babel import gettext as _
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from pydantic_core import ErrorDetails

from .errors import InvalidInput

M = TypeVar("M", bound=BaseModel)


def _one_of(ctx: dict) -> str:
    """pydantic gives the values as "'low', 'normal' or 'high'": listed without its English."""
    expected = re.split(r", | or ", ctx.get("expected", ""))
    return _("Use one of: %(values)s.", values=", ".join(v.strip("'") for v in expected))


MESSAGES: dict[str, Callable[[dict], str]] = {
    "string_type": lambda ctx: _("This field must be a string."),
    "bool_type": lambda ctx: _("This field must be true or false."),
    "int_type": lambda ctx: _("This field must be a whole number."),
    "int_from_float": lambda ctx: _("This field must be a whole number."),
    "model_type": lambda ctx: _("This field must be an object."),
    "model_attributes_type": lambda ctx: _("This field must be an object."),
    "dict_type": lambda ctx: _("This field must be an object."),
    "list_type": lambda ctx: _("This field must be a list."),
    "too_long": lambda ctx: _("Give at most %(n)s items.", n=ctx.get("max_length")),
    "string_too_long": lambda ctx: _("At most %(n)s characters.", n=ctx.get("max_length")),
    "missing": lambda ctx: _("This field is required."),
    "literal_error": _one_of,
    "enum": _one_of,
    "helpdesk": lambda ctx: ctx["message"],
}


def field_name(loc: tuple[int | str, ...]) -> str:
    parts = []
    for part in loc:
        if isinstance(part, int):  # inside a list: the list names the error
            break
        parts.append(part)
    return ".".join(parts) or "body"


def message_for(error: ErrorDetails) -> str:
    translate = MESSAGES.get(error["type"])
    return translate(error.get("ctx") or {}) if translate else _("This value is not valid.")


def field_errors(exc: PydanticError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        errors.setdefault(field_name(error["loc"]), message_for(error))
    return errors


def parse_body(model: type[M], data: dict[str, Any]) -> M:
    """`data` (a JSON object, see parsing.json_object) as `model`, or a 422 naming each field."""
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise InvalidInput(field_errors(exc)) from None
