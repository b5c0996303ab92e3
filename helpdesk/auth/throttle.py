"""Per-account throttles for the sign-in surface, on top of the per-IP limits.

A slow guess spread over many addresses still hits one account, so login, password reset,
confirmation resend, sign-up and guest-link requests are also limited per normalised email. The key
is the address as typed (normalised), whether or not an account has it, so the answer never tells
which addresses exist. Limits come from the config (HELPDESK_*_ACCOUNT_LIMITS); failed logins only
count (a correct password does not use up the allowance), every request counts for the others.
"""

from __future__ import annotations

import unicodedata

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from ..core.errors import DomainError
from ..extensions import limiter


def email_key() -> str:
    """The normalised email of the form being posted (the same key for known and unknown ones)."""
    raw = request.form.get("email", "") or ""
    value = unicodedata.normalize("NFKC", raw[:320]).strip().lower()
    try:
        from ..accounts.services import normalize_user_email

        value = normalize_user_email(value)
    except DomainError:  # an invalid address is still one key (the form refuses it anyway)
        pass
    return f"email:{value}"


def user_key() -> str:
    return f"user:{getattr(current_user, 'id', None)}"


def _config(name: str):
    return lambda: current_app.config[name]


def _failed(response) -> bool:
    return response.status_code >= 400


def _account_locked() -> str:
    return _(
        "Too many attempts with this email address. For your security, please wait a while "
        "before trying again, or reset your password."
    )


def _account_busy() -> str:
    return _("Too many requests for this email address. Please try again later.")


def per_account(setting: str, *, failures_only: bool = False, message=_account_busy):
    """A Flask-Limiter limit keyed on the posted email, its rate read from config `setting`."""
    return limiter.limit(
        _config(setting),
        key_func=email_key,
        methods=["POST"],
        deduct_when=_failed if failures_only else None,
        error_message=message,
    )


login_per_account = per_account("LOGIN_ACCOUNT_LIMITS", failures_only=True, message=_account_locked)
password_change_per_user = limiter.limit(
    _config("PASSWORD_CHANGE_LIMITS"),
    key_func=user_key,
    methods=["POST"],
    deduct_when=_failed,
    exempt_when=lambda: request.form.get("action") != "password",
    error_message=_account_locked,
)
