"""Free-text input as every service takes it: trimmed, required or not, bounded."""

from __future__ import annotations

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
