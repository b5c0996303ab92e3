"""Between the password and the second factor: who proved the password, when, and where to go.

Kept in the signed session cookie (not yet a server-side session: the account is not signed in
until the code is right); it lasts HELPDESK_2FA_PENDING_MINUTES.
"""

from __future__ import annotations

import time

from flask import current_app, session

_KEY = "2fa_pending"


def remember(user, target: str | None) -> None:
    session[_KEY] = {"user": user.id, "at": int(time.time()), "next": target or ""}


def user_id() -> int | None:
    value = session.get(_KEY)
    if not isinstance(value, dict):
        return None
    minutes = current_app.config.get("TWO_FACTOR_PENDING_MINUTES", 10)
    if int(time.time()) - int(value.get("at", 0)) > minutes * 60:
        session.pop(_KEY, None)
        return None
    return int(value["user"])


def target() -> str:
    value = session.get(_KEY)
    return value.get("next", "") if isinstance(value, dict) else ""


def forget() -> None:
    session.pop(_KEY, None)
