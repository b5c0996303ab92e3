"""Flask-Login wiring: the session id carries the user's session token, so rotating it logs out."""

from __future__ import annotations

from flask import request, url_for

from ..core.text import ascii_digits
from ..extensions import db, login_manager


@login_manager.user_loader
def load_user(value: str):
    from ..accounts.models import User

    user_id, _, token = (value or "").partition(":")
    if not ascii_digits(user_id) or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    from flask import abort, redirect

    from ..core.web import wants_json

    if wants_json():
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
