"""Locale and time zone of the current user: preference, then browser, then defaults."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user

LANGUAGE_NAMES = {"pt_BR": "Português", "es": "Español", "en": "English"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    match = request.accept_languages.best_match(
        languages + ["pt", "pt-BR", "es-ES", "es-419", "en-US"]
    )
    if match:
        match = match.replace("-", "_")
        if match.startswith("pt"):
            return "pt_BR"
        if match.startswith("es"):
            return "es"
        if match.startswith("en"):
            return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_TIMEZONE"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.timezone:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def localized_name(obj, locale=None) -> str:
    """An admin-defined name in the reader's language where a translation exists (categories
    have name_pt_br / name_es), else the name itself; "—" for nothing. Every template and
    serializer shows categories, segments' owners, departments... through this one helper."""
    if obj is None:
        return "—"
    locale = str(locale or get_locale() or "")
    label = getattr(obj, "label", None)
    if callable(label):
        return label(locale)
    translated = getattr(obj, "name_" + locale.lower(), None) if locale else None
    return translated or obj.name


def fmt_dt(value, format: str = "short") -> str:
    """Format a stored UTC instant in the user's time zone and locale."""
    from .clock import as_utc

    if value is None:
        return ""
    locale = get_locale()
    tzinfo = get_timezone()
    if format not in _NAMED_FORMATS or locale is None or tzinfo is None:
        return dates.format_datetime(as_utc(value), format, tzinfo=tzinfo, locale=locale)
    # what dates.format_datetime does for a named format, with the locale's three patterns looked
    # up and parsed once per (format, locale) instead of on every call (lists show hundreds)
    joined, time_pattern, date_pattern, zoneless = _named_patterns(format, locale)
    zone = _zoneinfo(tzinfo) if zoneless else None
    if zone is not None:  # same wall time as pytz's astimezone + normalize, at a tenth of the cost
        local = as_utc(value).astimezone(zone)
    else:
        local = dates._ensure_datetime_tzinfo(as_utc(value), tzinfo)
    day = local.date()
    return joined.replace(
        "{0}", time_pattern.apply(local.timetz(), locale, reference_date=day)
    ).replace("{1}", date_pattern.apply(day, locale))


_NUMERIC_DATES: dict[str, str] = {}


def numeric_date_pattern(locale) -> str:
    """The locale's short date with a two-digit day and month and a four-digit year:
    pt_BR and es "dd/MM/yyyy" (02/12/2026), en "MM/dd/yyyy" (the short "2/12/26" reads badly)."""
    key = str(locale)
    pattern = _NUMERIC_DATES.get(key)
    if pattern is None:
        import re

        short = dates.get_date_format("short", locale=locale).pattern
        pattern = re.sub(r"d+", "dd", short)
        pattern = re.sub(r"M+", "MM", pattern)
        pattern = _NUMERIC_DATES[key] = re.sub(r"y+", "yyyy", pattern)
    return pattern


_NAMED_FORMATS = frozenset(("full", "long", "medium", "short"))
_PATTERNS: dict[tuple[str, str], tuple] = {}


def _named_patterns(format: str, locale) -> tuple:
    key = (format, str(locale))
    patterns = _PATTERNS.get(key)
    if patterns is None:
        time_pattern = dates.parse_pattern(dates.get_time_format(format, locale=locale))
        date_pattern = dates.parse_pattern(
            numeric_date_pattern(locale)
            if format == "short"
            else dates.get_date_format(format, locale=locale)
        )
        fields = {
            value[0]
            for pattern in (time_pattern, date_pattern)
            for kind, value in dates.tokenize_pattern(pattern.pattern)
            if kind == "field"
        }
        patterns = _PATTERNS[key] = (
            dates.get_datetime_format(format, locale=locale).replace("'", ""),
            time_pattern,
            date_pattern,
            not fields & set("zZvVOxX"),  # no time-zone name: the zone object does not show
        )
    return patterns


_ZONES: dict[str, ZoneInfo | None] = {}


def _zoneinfo(tzinfo) -> ZoneInfo | None:
    name = getattr(tzinfo, "zone", None) or getattr(tzinfo, "key", None)
    if not name:
        return None
    if name not in _ZONES:
        try:
            _ZONES[name] = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            _ZONES[name] = None
    return _ZONES[name]
