"""Fixtures shared by the admin tests (no tests here).

- `admin_client(user)` gives a test client signed in as `user` (the Flask-Login session keys set
  directly, so these tests do not depend on the sign-in pages).
- The clients forget the cached `g._login_user`, `g.csrf_token` and Flask-Babel's locale before
  each request: conftest's `db` fixture keeps
  one app context open for the whole test, and Flask reuses it for the client's requests, so
  without this a second client would see the first client's user (token, language).
- Endpoints of other surfaces that base.html links to may not exist while they are being built;
  a URL build error for them renders a placeholder path instead of a 500, only during these tests.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import g
from flask.testing import FlaskClient
from flask_babel import refresh

PER_REQUEST_G = ("_login_user", "csrf_token")  # Flask-Login's user, Flask-WTF's token


def _forget_request_state() -> None:
    for name in PER_REQUEST_G:
        g.pop(name, None)
    refresh()  # Flask-Babel's cached locale, time zone and translations


class FreshUserClient(FlaskClient):
    def open(self, *args, **kwargs):
        _forget_request_state()
        try:
            return super().open(*args, **kwargs)
        finally:
            _forget_request_state()


@pytest.fixture(autouse=True)
def _tolerate_missing_endpoints(app):
    from werkzeug.routing import BuildError

    def handler(error, endpoint, values):
        if endpoint.split(".")[0] in ("portal", "console", "auth", "api"):
            return "/" + endpoint.replace(".", "/")
        raise error

    app.url_build_error_handlers.append(handler)
    yield
    app.url_build_error_handlers.remove(handler)
    assert BuildError  # imported for clarity of what the handler deals with


@pytest.fixture
def new_client(app, db):
    """A fresh client, signed in as `user` when one is given."""

    def make(user=None):
        client = FreshUserClient(app, app.response_class, use_cookies=True)
        if user is not None:
            with client.session_transaction() as session:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
        return client

    return make


@pytest.fixture
def admin(make_user):
    """The admin reads English: the assertions below quote the source strings."""
    return make_user(
        role="admin", name="Ada Admin", email="ada@example.com", password=None, locale="en"
    )


@pytest.fixture
def ac(new_client, admin):
    """A client signed in as the admin."""
    return new_client(admin)


def token(client, path="/admin/"):
    """The CSRF token from a page's forms (every page has the language form)."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post(client, path, data=None, **kwargs):
    """POST a form with a valid CSRF token, like a browser would."""
    data = dict(data or {})
    data.setdefault("csrf_token", token(client, "/admin/__no_such_page__"))
    return client.post(path, data=data, **kwargs)


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def text(response) -> str:
    return response.get_data(as_text=True)
