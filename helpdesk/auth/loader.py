"""Flask-Login wiring: the signed cookie carries the random id of a server-side session
(accounts/sessions.py); every request checks that row, so logout and revocation end the cookie."""

from __future__ import annotations

from flask import request, url_for

from ..extensions import login_manager


@login_manager.user_loader
def load_user(value: str):
    from ..accounts.sessions import user_for_session

    return user_for_session(value)


@login_manager.unauthorized_handler
def unauthorized():
    from flask import abort, redirect

    from ..core.web import wants_json

    if wants_json():
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
