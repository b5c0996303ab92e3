"""Fixtures shared by the admin tests (no tests here).

- `admin_client(user)` gives a test client signed in as `user` (a server-side session opened and its
  id put in the cookie directly, so these tests do not depend on the sign-in pages).
- Each request loads its user, CSRF token and language afresh (tests/conftest.py resets them),
  so several clients in one test behave as separate browsers.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from .conftest import session_cookie_id


@pytest.fixture
def new_client(app, db):
    """A fresh client, signed in as `user` when one is given."""

    def make(user=None):
        client = app.test_client()
        if user is not None:
            with client.session_transaction() as session:
                session["_user_id"] = session_cookie_id(user)
                session["_fresh"] = True
        return client

    return make


@pytest.fixture
def admin(db, make_user):
    """The admin reads English: the assertions below quote the source strings. In a module that
    shares a world, the world's admin is this test's too."""
    from helpdesk.accounts.models import User

    existing = db.session.scalar(sa.select(User).where(User.email == "ada@example.com"))
    return existing or make_user(
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
