"""Keyset cursors: the sort key of the last row shown, as an opaque URL-safe string.

The one place that encodes and decodes them, for every keyset list (API and console). A cursor
comes back from the client, so decoding trusts nothing: bounded length, strict base64 and UTF-8,
JSON with integers only (no floats, NaN, Infinity), values of the declared kinds within the
columns' range. Anything else is one ValidationError on `cursor` (a 400 in the user's language).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from .clock import as_utc
from .errors import ValidationError
from .text import MAX_ID

MAX_CURSOR = 200  # characters; a real cursor is under 80 (an instant and two ids)

# kinds of value a cursor may hold
DT = "dt"  # an ISO 8601 instant
OPTIONAL_DT = "dt?"  # an instant or null (e.g. no due date)
INT = "int"  # an integer column (priority); |v| <= MAX_ID
ID = "id"  # a row id: 1..MAX_ID


@dataclass
class Page:
    items: list
    next_cursor: str | None


def encode_cursor(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def bad_cursor() -> ValidationError:
    return ValidationError(
        _l("This page link is no longer valid. Please start from the first page."),
        field="cursor",
    )


def _no_float(_text):
    raise ValueError("floats are not cursor values")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 10:
        raise ValueError("integer too long")
    return int(text)


def _value(kind: str, value):
    if kind in (DT, OPTIONAL_DT):
        if value is None and kind == OPTIONAL_DT:
            return None
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError(value)
        return as_utc(datetime.fromisoformat(value))
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(value)
    low = 1 if kind == ID else -MAX_ID
    if not low <= value <= MAX_ID:
        raise ValueError(value)
    return value


def decode_cursor(cursor: str, kinds: tuple[str, ...]) -> list:
    """The values of a cursor made by encode_cursor, one per kind, or a ValidationError."""
    try:
        if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR:
            raise ValueError("length")
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        values = json.loads(
            raw.decode("utf-8"),
            parse_float=_no_float,
            parse_int=_bounded_int,
            parse_constant=_no_float,
        )
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("shape")
        return [_value(kind, value) for kind, value in zip(kinds, values, strict=True)]
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error):
        # UnicodeError and JSONDecodeError are ValueErrors
        raise bad_cursor() from None
