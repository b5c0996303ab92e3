"""Reading JSON bodies and query strings strictly: wrong shapes become 4xx, never a 500.

A body is read here as a JSON object; its fields are then parsed by its model (validation.py).
"""

from __future__ import annotations

import io
import json
from datetime import datetime

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from ..core.boundary import check_text
from ..core.clock import as_utc
from ..core.errors import ValidationError
from ..core.text import ascii_digits
from .errors import InvalidInput, MalformedJson, UnsupportedMediaType


def _reject_constant(_name):
    raise ValueError("non-standard JSON constant")


def json_object() -> dict:
    """The request body as a JSON object (415 if not JSON, 400 if malformed, 422 if not object)."""
    if not request.is_json:
        raise UnsupportedMediaType()
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedJson() from None
    if not isinstance(data, dict):
        raise InvalidInput({"body": _("The body must be a JSON object.")})
    check_text(data)  # no NUL byte or lone surrogate in any key or string (a 400 naming it)
    return data


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def as_files(attachments: list[tuple[str, bytes]]) -> list[FileStorage]:
    """Fresh FileStorage objects for tickets.attachments.store_upload (one read each)."""
    return [FileStorage(stream=io.BytesIO(data), filename=name) for name, data in attachments]


def parse_datetime(raw: str, field: str) -> datetime:
    """An ISO 8601 instant in UTC (no offset given: UTC); a 400 on `field` for anything else,
    including instants that do not exist in UTC (year 1 at +14:00, year 9999 at -14:00)."""
    try:
        return as_utc(datetime.fromisoformat(raw.strip().replace(" ", "+").replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        raise ValidationError(
            _l("Give a date and time in ISO 8601, e.g. 2025-01-31T14:00:00Z."), field=field
        ) from None


def query_datetime(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    return parse_datetime(raw, name)


def query_int(name: str, default: int, *, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not ascii_digits(raw) or not low <= int(raw) <= high:
        raise ValidationError(
            _l("Give a whole number from %(low)s to %(high)s."), field=name, low=low, high=high
        )
    return int(raw)
