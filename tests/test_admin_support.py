"""Fixtures shared by the admin tests (no tests here).

- `new_client(user)` gives a test client signed in as `user` through the sign-in page, as a browser
  is: a view that loses its commit loses the sign-in too, so these tests notice it.
- Each request loads its user, CSRF token and language afresh (tests/conftest.py resets them),
  so several clients in one test behave as separate browsers.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from helpdesk.extensions import db as _db

from .conftest import csrf_from


@pytest.fixture
def new_client(app, db):
    """A fresh client, signed in as `user` when one is given."""

    def make(user=None):
        client = app.test_client()
        if user is not None:
            sign_in(client, user)
        return client

    return make


def sign_in(client, user, password="password123"):
    """Sign `user` in on `client` through the sign-in form (a customer's email is confirmed first,
    as it must be before a customer can sign in)."""
    from helpdesk.accounts.models import User
    from helpdesk.core.clock import now

    row = _db.session.get(User, user.id)
    if row.password_hash is None:  # made without one, to skip the hashing it never needed
        row.set_password(password)
    if row.role == "customer" and row.email_verified_at is None:
        row.email_verified_at = now()
    _db.session.commit()
    data = {"email": row.email, "password": password, "csrf_token": csrf_from(client, "/login")}
    response = client.post("/login", data=data)
    assert response.status_code == 302, f"{row.email} could not sign in"
    return client


@pytest.fixture
def admin(db, make_user):
    """The admin reads English: the assertions below quote the source strings. In a module that
    shares a world, the world's admin is this test's too."""
    from helpdesk.accounts.models import User

    existing = db.session.scalar(sa.select(User).where(User.email == "ada@example.com"))
    return existing or make_user(
        role="admin", name="Ada Admin", email="ada@example.com", locale="en"
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
