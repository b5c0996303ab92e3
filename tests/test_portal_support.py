"""Shared helpers for the auth and portal tests (`from .test_portal_support import *`).

The `db` fixture keeps one request context pushed for the whole test, and the test client reuses
that app context for its requests: `g` (Flask-Login's cached user, Flask-WTF's CSRF token,
Flask-Babel's locale) and the SQLAlchemy session would then be shared by every request and every
client of a test. `IsolatedClient` gives each request its own app context, as in production, so a
second browser, a rotated session token or a cleared session behave as they really do.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from helpdesk.core.unit import commit
from helpdesk.extensions import db as _db

from .conftest import csrf_from

__all__ = [
    "IsolatedClient",
    "client",
    "new_client",
    "mail_text",
    "link_in",
    "post",
    "login_as",
    "logout",
    "page",
    "logged_in",
    "fresh",
    "settle_mail",
]


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in a fresh app context.

    It asks for English pages (the assertions read English text); a user's or session's chosen
    language still wins, as for any browser.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db):
    return IsolatedClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def new_client(app, db):
    """Another browser."""
    return lambda: IsolatedClient(app, app.response_class, use_cookies=True)


def mail_text(msg) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else str(msg)


def link_in(msg, path: str) -> str:
    """The path of the first link to `path` (e.g. /reset/) in an email."""
    match = re.search(rf"https?://[^\s/]+({re.escape(path)}[A-Za-z0-9_\-]+)", mail_text(msg))
    assert match, f"no {path} link in: {mail_text(msg)}"
    return match.group(1)


def post(client, path, data=None, *, csrf_path=None, **kw):
    """POST a form the way a browser does: with the CSRF token of the page holding it."""
    data = {**(data or {}), "csrf_token": csrf_from(client, csrf_path or path)}
    return client.post(path, data=data, **kw)


def login_as(client, user_or_email, password="password123"):
    email = getattr(user_or_email, "email", user_or_email)
    return post(client, "/login", {"email": email, "password": password})


def logout(client):
    return post(client, "/logout", csrf_path="/")


def page(response) -> str:
    return response.get_data(as_text=True)


def logged_in(client) -> bool:
    """Whether the client is signed in (the account page needs a login)."""
    return client.get("/account").status_code == 200


def fresh(obj):
    """Reload a row the requests may have changed (the test's session has its own copy)."""
    _db.session.expire_all()
    return _db.session.get(type(obj), obj.id)


def settle_mail(app) -> None:
    """Deliver what the fixtures queued, then forget it: tests count only their own emails."""
    commit()
    app.extensions["sent_mail"].clear()
