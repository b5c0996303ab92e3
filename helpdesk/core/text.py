"""Text input as every service takes it: trimmed, required or not, bounded, and free of the
characters no database column takes (NUL on PostgreSQL, lone surrogates anywhere).

The request boundary (core.boundary) applies `is_valid_text`/`find_bad_text`/`strip_nul` to every
incoming string once; clean_text applies them again for text that reaches a service another way
(mail, CLI)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from .errors import ValidationError


def clean_text(
    value: str | None, field: str, *, required: bool, limit: int, required_message=None
) -> str:
    """The trimmed text, or a ValidationError on `field` when missing (if required) or too long."""
    value = strip_nul(value or "").strip()
    if not is_valid_text(value):
        raise ValidationError(BAD_TEXT, field=field)
    if required and not value:
        raise ValidationError(required_message or _l("This field is required."), field=field)
    if len(value) > limit:
        raise ValidationError(
            _l("This text is too long (at most %(n)s characters)."), field=field, n=limit
        )
    return value


BAD_TEXT = _l(
    "This text contains a character that is not accepted (a NUL byte or an unpaired surrogate)."
)


def is_valid_text(value: str) -> bool:
    """No NUL byte and no lone surrogate (which UTF-8, and so every database, refuses)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def strip_nul(value: str) -> str:
    """Free text without NUL bytes (nobody types one; PostgreSQL refuses them)."""
    return value.replace("\x00", "") if "\x00" in value else value


def find_bad_text(data, path: str = "") -> str | None:
    """The path ("customer.name", "attachments[0].filename") of the first string, key or value, in
    decoded JSON that is not valid text; None when every string is."""
    stack = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if not is_valid_text(value):
                return where or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{where}.{key}" if where else str(key)
                if not is_valid_text(key):
                    return where or "body"
                stack.append((name, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
    return None


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
    return _SURROGATE.sub("\ufffd", strip_nul(value)) if value else ""


_SURROGATE = re.compile("[\ud800-\udfff]")
