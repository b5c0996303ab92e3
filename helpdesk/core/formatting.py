"""Numbers, money, percentages, sizes, dates and durations in the user's locale and time zone.

The one place that formats values for people: templates use the Jinja filters registered by
`register_filters` (number, money, percent, filesize, date, dt, duration), presenters call these
functions. Never "%.1f", "{:,}", round() or strftime for what a user reads: pt_BR writes
1.234,56 and 02/12/2026, es 1.234,56, en 1,234.56.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app, has_app_context
from flask_babel import format_currency, format_decimal, format_percent, get_timezone
from flask_babel import gettext as _

from .i18n import fmt_dt, localized_name, numeric_date_pattern

_EMPTY = "—"


def number(value, digits: int | None = None) -> str:
    """A count or a measure with the locale's separators: 1234 -> "1.234" (pt_BR);
    `digits` fixes the decimals (1234.5, 2 -> "1.234,50")."""
    if value is None:
        return _EMPTY
    if digits is None:
        return format_decimal(value)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(round(value, digits), format=pattern)


def money(value, currency: str | None = None) -> str:
    """An amount in the configured currency: 1234.56 -> "R$ 1.234,56" (pt_BR)."""
    if value is None:
        return _EMPTY
    if currency is None:
        currency = current_app.config.get("CURRENCY", "BRL") if has_app_context() else "BRL"
    return format_currency(value, currency)


def percent(value, digits: int = 1, *, ratio: bool = False) -> str:
    """A percentage: 87.5 -> "87,5 %" (pt_BR), "87.5%" (en). `ratio=True` reads 0.875."""
    if value is None:
        return _EMPTY
    share = value if ratio else value / 100
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return format_percent(share, format=pattern)


_SIZE_UNITS = ("B", "KB", "MB", "GB", "TB")


def filesize(size) -> str:
    """Bytes for people: 512 -> "512 B", 1536 -> "1,5 KB" (pt_BR), 5_000_000 -> "4,8 MB"."""
    if size is None:
        return _EMPTY
    value, unit = float(size), 0
    while value >= 1024 and unit < len(_SIZE_UNITS) - 1:
        value /= 1024
        unit += 1
    shown = format_decimal(round(value), format="#,##0") if unit == 0 else number(value, 1)
    return f"{shown} {_SIZE_UNITS[unit]}"


def local_date(value, format: str = "short") -> str:
    """A calendar day (or the day of an instant, in the user's zone): "02/12/2026" (pt_BR, es),
    "12/02/2026" (en): the locale's order, two-digit day and month, four-digit year."""
    from babel import dates
    from flask_babel import get_locale

    if value is None:
        return _EMPTY
    if isinstance(value, datetime):
        from .clock import as_utc

        value = as_utc(value).astimezone(get_timezone()).date()
    if not isinstance(value, date):
        return str(value)
    locale = get_locale()
    pattern = numeric_date_pattern(locale) if format == "short" else format
    return dates.format_date(value, pattern, locale=locale)


def duration(value, max_units: int = 2) -> str:
    """A length of time in days, hours and minutes, the biggest `max_units` units shown:
    56 days 3 hours -> "56 d 3 h" (never rounded up into months), 90 min -> "1 h 30 min".
    `value`: a timedelta or a number of minutes. Under a minute: "1 min"."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60) if isinstance(value, timedelta) else int(value)
    minutes = max(minutes, 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    for count, sentence in (
        (days, "%(count)s d"),
        (hours, "%(count)s h"),
        (mins, "%(count)s min"),
    ):
        if count or parts:  # the units from the biggest non-zero one down
            parts.append((count, sentence))
    parts = [part for part in parts[:max_units] if part[0]]  # "2 d 0 h" -> "2 d"
    if not parts:
        parts = [(1, "%(count)s min")]
    return " ".join(_(sentence, count=number(count)) for count, sentence in parts)


def register_filters(app) -> None:
    """Every formatting filter, registered once for every template."""
    app.jinja_env.filters.update(
        dt=fmt_dt,
        date=local_date,
        number=number,
        money=money,
        percent=percent,
        filesize=filesize,
        duration=duration,
        localized=localized_name,
    )
    app.jinja_env.globals["localized_name"] = localized_name
