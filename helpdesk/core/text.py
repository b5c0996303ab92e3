"""Free-text input as every service takes it: trimmed, required or not, bounded."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from .errors import ValidationError


def clean_text(
    value: str | None, field: str, *, required: bool, limit: int, required_message=None
) -> str:
    """The trimmed text, or a ValidationError on `field` when missing (if required) or too long."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(required_message or _l("This field is required."), field=field)
    if len(value) > limit:
        raise ValidationError(
            _l("This text is too long (at most %(n)s characters)."), field=field, n=limit
        )
    return value


MAX_ID = 2**31 - 1  # the largest value of an INTEGER column on PostgreSQL


def ascii_digits(value: str) -> bool:
    """Only 0-9 (str.isdigit also accepts '²' or '٣', which int() then refuses or reads)."""
    return value.isascii() and value.isdigit()


def id_number(value) -> int | None:
    """A database id or cursor given as text or int: 1..MAX_ID, else None (a 4xx for the caller)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not ascii_digits(value) or len(value) > 10:
            return None
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= MAX_ID:
        return None
    return value


def storable_text(value: str | None) -> str:
    """Text that every database stores: NUL removed (PostgreSQL refuses it in text columns) and
    lone surrogates (left by undecodable bytes; neither database can encode them) replaced by
    U+FFFD. Use it on any text that comes from outside before it is stored."""
    if not value:
        return ""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", value)


_SURROGATE = re.compile("[\ud800-\udfff]")
