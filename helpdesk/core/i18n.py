"""Locale and time zone of the current user: preference, then browser, then defaults."""

from __future__ import annotations

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


def fmt_dt(value, format: str = "short") -> str:
    """Format a stored UTC instant in the user's time zone and locale."""
    from .clock import as_utc

    if value is None:
        return ""
    # straight to Babel with the request's (cached) locale and zone: lists format hundreds of dates
    return dates.format_datetime(as_utc(value), format, tzinfo=get_timezone(), locale=get_locale())
