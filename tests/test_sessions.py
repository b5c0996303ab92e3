"""Server-side sessions: the cookie carries a random id, the server decides whether it still opens
anything (logout, deactivation, a new password end it), checked cheaply on every request."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.accounts.models import User, UserSession
from helpdesk.core import clock

from .test_portal_support import *  # noqa: F403
from .test_portal_support import (
    link_in,
    logged_in,
    login_as,
    page,
    post,
    settle_mail,
)

COOKIE = "session"


def logout(client):
    return post(client, "/logout", csrf_path="/account")


def cookie_of(client) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return cookie.value


def replay(new_client, value: str):
    """Another browser that presents a copied session cookie."""
    thief = new_client()
    thief.set_cookie(COOKIE, value)
    return thief


def live_sessions(db, user) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    )


@pytest.mark.parametrize(
    ("role", "path"),
    [("agent", "/console/"), ("customer", "/portal/demands"), ("customer", "/account")],
)
def test_an_old_cookie_opens_nothing_after_logout(client, new_client, db, make_user, role, path):
    user = make_user(role=role)
    login_as(client, user)
    old = cookie_of(client)
    assert replay(new_client, old).get(path).status_code == 200  # the copy works while signed in
    assert logout(client).status_code == 302
    response = replay(new_client, old).get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login")
    assert live_sessions(db, user) == 0


def test_logout_elsewhere_leaves_other_browsers_signed_in(client, new_client, db, make_user):
    user = make_user(role="customer")
    phone = new_client()
    login_as(client, user)
    login_as(phone, user)
    logout(client)
    assert logged_in(phone)
    assert not logged_in(client)


def test_each_login_gets_a_new_session_id(client, new_client, db, make_user):
    user = make_user(role="customer")
    login_as(client, user)
    first = cookie_of(client)
    # signing in again from the same (signed-in) browser
    post(client, "/login", {"email": user.email, "password": "password123"}, csrf_path="/account")
    second = cookie_of(client)
    assert first != second
    assert replay(new_client, first).get("/account").status_code == 302
    assert replay(new_client, second).get("/account").status_code == 200


def test_deactivation_kills_a_live_session(client, new_client, db, make_user):
    user = make_user(role="agent")
    admin = make_user(role="admin")
    login_as(client, user)
    assert client.get("/console/").status_code == 200
    old = cookie_of(client)
    boss = new_client()
    login_as(boss, admin)
    assert post(boss, f"/admin/users/{user.id}/deactivate", csrf_path="/admin/").status_code == 302
    assert client.get("/console/").status_code == 302
    # reactivation does not bring the old session back: the user signs in again
    assert post(boss, f"/admin/users/{user.id}/reactivate", csrf_path="/admin/").status_code == 302
    assert replay(new_client, old).get("/console/").status_code == 302
    login_as(client, user)
    assert client.get("/console/").status_code == 200


def test_password_reset_kills_other_sessions(client, new_client, db, app, make_user, sent_mail):
    user = make_user(role="customer", email="lost@example.com")
    laptop = new_client()
    login_as(laptop, user)
    assert logged_in(laptop)
    settle_mail(app)
    post(client, "/reset", {"email": "lost@example.com"})
    path = link_in(sent_mail[-1], "/reset/")
    response = post(client, path, {"password": "brand-new-pw", "confirm": "brand-new-pw"})
    assert response.status_code == 302
    assert not logged_in(laptop)
    assert live_sessions(db, user) == 0
    assert login_as(client, user, "brand-new-pw").status_code == 302


def test_password_change_keeps_this_session_and_ends_the_others(client, new_client, db, make_user):
    user = make_user(role="customer")
    laptop = new_client()
    login_as(laptop, user)
    login_as(client, user)
    response = post(
        client,
        "/account",
        {
            "action": "password",
            "current_password": "password123",
            "new_password": "another-pw-1",
            "confirm": "another-pw-1",
        },
        csrf_path="/account",
    )
    assert response.status_code == 302, page(response)[:400]
    assert logged_in(client)
    assert not logged_in(laptop)
    assert live_sessions(db, user) == 1


def test_a_remember_cookie_with_an_ended_session_opens_nothing(
    client, new_client, app, db, make_user
):
    from flask_login.utils import encode_cookie

    user = make_user(role="customer")
    login_as(client, user)
    assert client.get_cookie("remember_token") is None  # no "remember me" cookie is ever set
    with client.session_transaction() as s:
        raw = s["_user_id"]
    logout(client)
    thief = new_client()
    with app.test_request_context():
        thief.set_cookie("remember_token", encode_cookie(raw))
    assert thief.get("/account").status_code == 302


def test_a_cookie_in_the_old_format_opens_nothing(client, db, make_user):
    user = make_user(role="customer")
    with client.session_transaction() as s:
        s["_user_id"] = f"{user.id}:0123456789abcdef0123456789abcdef"
        s["_fresh"] = True
    assert client.get("/account").status_code == 302


def test_a_session_is_checked_in_one_statement(db, make_user, count_queries):
    from helpdesk.accounts.sessions import open_session, user_for_session

    user = make_user(role="agent")
    raw = open_session(user)
    db.session.commit()
    user_id = user.id
    db.session.expunge_all()
    with count_queries() as q:
        loaded = user_for_session(raw)
    assert q.count == 1
    assert loaded.id == user_id
    assert user_for_session(raw + "x") is None
    assert user_for_session("") is None


@pytest.mark.commits
def test_last_seen_is_written_at_most_once_a_minute(client, db, make_user):
    user = make_user(role="customer")
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        login_as(client, user)

        def seen():
            db.session.expire_all()
            row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
            return clock.as_utc(row.last_seen_at)

        first = seen()
        traveller.shift(timedelta(seconds=30))
        assert logged_in(client)
        assert seen() == first
        traveller.shift(timedelta(seconds=45))
        assert logged_in(client)
        assert seen() == first + timedelta(seconds=75)


def test_deleting_a_user_deletes_their_sessions(client, db, make_user):
    user = make_user(role="customer")
    login_as(client, user)
    db.session.expire_all()
    db.session.delete(db.session.get(User, user.id))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0


@pytest.mark.parametrize(
    "value", [None, 42, ["x"], "", "short", "a" * 500, "\ud800" * 40, "ü" * 40, "1:abc", "%" * 43]
)
def test_a_malformed_cookie_id_is_anonymous_not_an_error(client, db, value):
    with client.session_transaction() as s:
        s["_user_id"] = value
        s["_fresh"] = True
    response = client.get("/account")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_sign_out_everywhere_else_from_the_account_page(client, new_client, db, make_user):
    user = make_user(role="customer")
    laptop, phone = new_client(), new_client()
    for browser in (laptop, phone, client):
        login_as(browser, user)
    html = page(client.get("/account"))
    assert "signed in on 3 browsers or devices" in html
    response = post(client, "/account", {"action": "sessions"}, csrf_path="/account")
    assert response.status_code == 302
    assert "2 other sessions were signed out." in page(client.get("/account"))
    assert logged_in(client)
    assert not logged_in(laptop) and not logged_in(phone)
    assert "signed in on 1 browser or device: this one." in page(client.get("/account"))
    assert "Sign out everywhere else" not in page(client.get("/account"))


def test_the_sessions_card_is_translated(client, db, make_user):
    user = make_user(role="customer", locale="pt_BR")
    login_as(client, user)
    html = page(client.get("/account"))
    assert "Onde você está conectado" in html
    assert "Sua conta está conectada em 1 navegador ou dispositivo: este." in html


@pytest.mark.commits
def test_a_session_unused_for_the_idle_limit_ends(client, db, app, make_user):
    user = make_user(role="customer")
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        login_as(client, user)
        traveller.shift(timedelta(days=29))
        assert logged_in(client)  # used again: the idle clock restarts
        traveller.shift(timedelta(days=29))
        assert logged_in(client)
        traveller.shift(timedelta(days=31))
        response = client.get("/account")
        assert response.status_code == 302
        assert response.location.startswith("/login")
