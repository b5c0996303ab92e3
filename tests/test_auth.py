"""Sign-in surface: sign-up and confirmation, login/logout, password reset, account, guest links."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.accounts.models import User
from helpdesk.core import clock
from helpdesk.core.unit import commit
from helpdesk.tickets import protocol as protocols
from helpdesk.tickets.models import Ticket
from tests.conftest import csrf_from, customer_of

from .test_portal_support import *  # noqa: F403
from .test_portal_support import (
    IsolatedClient,
    link_in,
    logged_in,
    login_as,
    logout,
    page,
    post,
    settle_mail,
)


@pytest.fixture
def limited_client(app, db):
    """A client of a second app instance on the same database with rate limiting ON.

    The shared `limiter` is switched back off (and its memory storage cleared) afterwards, so the
    other tests keep running without limits.
    """
    from helpdesk import create_app
    from helpdesk.extensions import db as _db
    from helpdesk.extensions import limiter

    settings = {k: v for k, v in app.config.items() if k.isupper()}
    settings.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    limited = create_app(type("LimitedConfig", (), settings))
    try:
        yield IsolatedClient(limited, limited.response_class, use_cookies=True)
    finally:
        limiter.reset()
        limiter.enabled = False
        with limited.app_context():
            _db.session.remove()
            _db.engine.dispose()


# sign-up and confirmation -----------------------------------------------------------------------


def test_signup_sends_confirmation_then_verify_logs_in(client, db, sent_mail, default_department):
    response = post(
        client,
        "/signup",
        {
            "name": "Maria Souza",
            "email": "Maria@Example.com",
            "password": "segredo123",
            "confirm": "segredo123",
            "language": "en",
        },
    )
    assert response.status_code == 302
    assert "/check-email" in response.location
    assert "confirm your email" in page(client.get(response.location))
    assert len(sent_mail) == 1
    assert "maria@example.com" in sent_mail[0]["To"]

    # not confirmed yet: login is refused with a way to get the link again
    response = post(client, "/login", {"email": "maria@example.com", "password": "segredo123"})
    assert response.status_code == 400
    assert "confirm your email address first" in page(response)
    assert "Send the confirmation link again" in page(response)
    assert not logged_in(client)

    response = client.get(link_in(sent_mail[0], "/verify/"))
    assert response.status_code == 302
    assert response.location.endswith("/portal/demands")
    assert client.get("/portal/demands").status_code == 200
    user = db.session.scalar(sa.select(User).where(User.email == "maria@example.com"))
    assert user.email_verified_at is not None
    assert customer_of(user) is not None
    assert user.locale == "en"

    # the link works once
    assert client.get(link_in(sent_mail[0], "/verify/")).status_code == 400

    post(client, "/logout", {}, csrf_path="/")
    response = post(client, "/login", {"email": "maria@example.com", "password": "segredo123"})
    assert response.status_code == 302
    assert response.location.endswith("/portal/demands")


def test_signup_password_mismatch_and_short(client, db):
    response = post(
        client,
        "/signup",
        {
            "name": "Ana",
            "email": "ana@example.com",
            "password": "short",
            "confirm": "other",
            "language": "es",
        },
    )
    assert response.status_code == 400
    assert "The passwords differ." in page(response)
    assert "between 8 and 200" in page(response)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_signup_with_taken_email_gives_the_same_answer(client, make_user, sent_mail):
    make_user(role="customer", email="taken@example.com")
    response = post(
        client,
        "/signup",
        {
            "name": "Someone",
            "email": "taken@example.com",
            "password": "password999",
            "confirm": "password999",
            "language": "en",
        },
    )
    assert response.status_code == 302
    assert "/check-email" in response.location
    assert sent_mail == []  # the confirmed owner gets nothing: no one learns who has an account


def test_resend_confirmation(client, db, sent_mail, default_department):
    from helpdesk.accounts.services import sign_up_customer

    sign_up_customer(name="Leo", email="leo@example.com", password="password123")
    commit()
    sent_mail.clear()
    response = post(
        client, "/resend-confirmation", {"email": "leo@example.com"}, csrf_path="/login"
    )
    assert response.status_code == 302
    assert len(sent_mail) == 1
    assert client.get(link_in(sent_mail[0], "/verify/")).status_code == 302


def test_invalid_verify_token(client, db):
    response = client.get("/verify/" + "x" * 43)
    assert response.status_code == 400
    assert "not valid or has expired" in page(response)


# login / logout ---------------------------------------------------------------------------------


def test_login_wrong_password_and_unknown_email_get_the_same_message(client, make_user):
    user = make_user(role="customer")
    wrong = post(client, "/login", {"email": user.email, "password": "wrong-password"})
    unknown = post(client, "/login", {"email": "nobody@example.com", "password": "whatever1"})
    assert wrong.status_code == unknown.status_code == 400
    message = "The email or the password is not correct."
    assert message in page(wrong)
    assert message in page(unknown)
    assert not logged_in(client)


def test_login_redirects_by_role(client, auth, make_user):
    customer = make_user(role="customer")
    agent = make_user(role="agent")
    response = login_as(client, customer)
    assert response.status_code == 302
    assert response.location.endswith("/portal/demands")
    logout(client)
    response = login_as(client, agent)
    assert response.status_code == 302
    assert response.location.startswith("/console")


def test_deactivated_user_cannot_login(client, db, make_user):
    from helpdesk.accounts.services import set_user_active

    user = make_user(role="customer")
    set_user_active(user, False)
    db.session.commit()
    response = post(client, "/login", {"email": user.email, "password": "password123"})
    assert response.status_code == 400
    assert "not correct" in page(response)
    assert not logged_in(client)


def test_deactivation_ends_existing_sessions(client, db, auth, make_user):
    from helpdesk.accounts.services import set_user_active

    user = make_user(role="customer")
    login_as(client, user)
    assert logged_in(client)
    set_user_active(db.session.get(User, user.id), False)
    db.session.commit()
    assert not logged_in(client)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/x",
        "/\\evil.example",
        "///evil.example",
        "javascript:x",
    ],
)
def test_login_never_redirects_off_site(client, make_user, target):
    user = make_user(role="customer")
    client.get("/login")
    response = client.post(
        "/login?next=" + target,
        data={
            "email": user.email,
            "password": "password123",
            "next": target,
            "csrf_token": csrf_from(client, "/login"),
        },
    )
    assert response.status_code == 302
    assert response.location == "/portal/demands"


def test_login_honours_a_local_next(client, make_user):
    user = make_user(role="customer")
    response = post(
        client,
        "/login?next=/portal/new",
        {"email": user.email, "password": "password123", "next": "/portal/new"},
        csrf_path="/login?next=/portal/new",
    )
    assert response.location == "/portal/new"


def test_login_starts_a_fresh_session(client, db, make_user):
    from helpdesk.accounts.models import UserSession
    from helpdesk.core.tokens import hash_token

    user = make_user(role="customer")
    with client.session_transaction() as s:
        s["guest_tickets"] = [999]
        s["planted"] = "by an attacker"
    response = post(client, "/login", {"email": user.email, "password": "password123"})
    assert response.status_code == 302
    with client.session_transaction() as s:
        assert "planted" not in s
        assert "guest_tickets" not in s
        raw = s["_user_id"]
    # the cookie carries only the random id of a server-side session row of this user
    assert str(user.id) not in raw.split(":")
    assert db.session.get(UserSession, hash_token(raw)).user_id == user.id


def test_logout_is_post_only_and_ends_the_session(client, auth, make_user):
    login_as(client, make_user(role="customer"))
    assert client.get("/logout").status_code == 405
    assert logged_in(client)
    response = logout(client)
    assert response.status_code == 302
    assert not logged_in(client)
    assert client.get("/portal/demands").status_code == 302


@pytest.mark.csrf
def test_login_without_csrf_is_refused(client, make_user):
    user = make_user(role="customer")
    response = client.post("/login", data={"email": user.email, "password": "password123"})
    assert response.status_code == 400
    assert not logged_in(client)


def test_login_is_rate_limited(limited_client, make_user):
    user = make_user(role="customer")
    codes = [
        post(
            limited_client, "/login", {"email": user.email, "password": "bad-password"}
        ).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [400] * 10
    assert codes[10] == 429


# password reset ---------------------------------------------------------------------------------


def test_password_reset_full_flow(client, new_client, make_user, sent_mail):
    user = make_user(role="customer", email="reset@example.com")
    other = new_client()
    login_as(other, user)
    assert logged_in(other)

    response = post(client, "/reset", {"email": "reset@example.com"})
    assert response.status_code == 302
    assert "If an account exists" in page(client.get(response.location))
    assert len(sent_mail) == 1
    path = link_in(sent_mail[0], "/reset/")

    assert client.get(path).status_code == 200
    response = post(client, path, {"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert response.status_code == 302
    assert response.location.endswith("/login")

    assert not logged_in(other)  # the old sessions are over
    assert login_as(client, "reset@example.com", "password123").status_code == 400
    assert login_as(client, "reset@example.com", "brand-new-pass").status_code == 302

    # single use
    response = client.get(path)
    assert response.status_code == 400
    assert "not valid or has expired" in page(response)


def test_reset_token_expires(client, db, make_user, sent_mail):
    make_user(role="customer", email="late@example.com")
    post(client, "/reset", {"email": "late@example.com"})
    path = link_in(sent_mail[0], "/reset/")
    with time_machine.travel(clock.now() + timedelta(hours=3), tick=False):
        assert client.get(path).status_code == 400
        response = post(
            client,
            path,
            {"password": "brand-new-pass", "confirm": "brand-new-pass"},
            csrf_path="/reset",
        )
        assert response.status_code == 400


def test_reset_mismatched_passwords(client, db, make_user, sent_mail):
    make_user(role="customer", email="mm@example.com")
    post(client, "/reset", {"email": "mm@example.com"})
    path = link_in(sent_mail[0], "/reset/")
    response = post(client, path, {"password": "brand-new-pass", "confirm": "different-pass"})
    assert response.status_code == 400
    assert "The passwords differ." in page(response)
    assert client.get(path).status_code == 200  # not used up


@pytest.mark.parametrize("token", ["%25", "*" * 43, "a" * 10, "a" * 43])
def test_reset_rejects_bad_tokens(client, db, token):
    assert client.get(f"/reset/{token}").status_code == 400


def test_reset_for_unknown_email_answers_the_same_without_email(client, db, make_user, sent_mail):
    make_user(role="customer", email="known@example.com")
    known = post(client, "/reset", {"email": "known@example.com"})
    unknown = post(client, "/reset", {"email": "unknown@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known.location == unknown.location
    assert len(sent_mail) == 1


def test_reset_requests_are_rate_limited(limited_client, make_user):
    make_user(role="customer", email="flood@example.com")
    codes = [
        post(limited_client, "/reset", {"email": "flood@example.com"}).status_code for _ in range(6)
    ]
    assert codes[:5] == [302] * 5
    assert codes[5] == 429
    response = post(limited_client, "/reset", {"email": "other@example.com"})
    assert response.status_code == 429
    assert "Too many attempts" in page(response)


# the account page -------------------------------------------------------------------------------


def test_account_requires_login(client, db):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login" in response.location


def test_change_password_needs_the_current_one_and_ends_other_sessions(
    client, new_client, make_user
):
    user = make_user(role="customer")
    login_as(client, user)
    other = new_client()
    login_as(other, user)
    assert logged_in(other)

    response = post(
        client,
        "/account",
        {
            "action": "password",
            "current_password": "not-the-password",
            "new_password": "another-pass-1",
            "confirm": "another-pass-1",
        },
        csrf_path="/account",
    )
    assert response.status_code == 400
    assert "current password is not correct" in page(response)
    assert logged_in(other)

    response = post(
        client,
        "/account",
        {
            "action": "password",
            "current_password": "password123",
            "new_password": "another-pass-1",
            "confirm": "another-pass-1",
        },
        csrf_path="/account",
    )
    assert response.status_code == 302
    assert logged_in(client)  # this session goes on
    assert not logged_in(other)  # the others end
    logout(client)
    assert login_as(client, user.email, "another-pass-1").status_code == 302


def test_account_profile_saves_name_language_and_zone(client, db, auth, make_user):
    user = make_user(role="customer")
    login_as(client, user)
    response = post(
        client,
        "/account",
        {
            "action": "profile",
            "name": "  Nome   Novo ",
            "language": "es",
            "timezone": "America/Bogota",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(User, user.id)
    assert (saved.name, saved.locale, saved.timezone) == ("Nome Novo", "es", "America/Bogota")
    assert '<html lang="es">' in page(client.get("/account"))


def test_account_profile_refuses_unknown_zone(client, db, auth, make_user):
    user = make_user(role="customer")
    login_as(client, user)
    response = post(
        client,
        "/account",
        {"action": "profile", "name": "X", "language": "en", "timezone": "Mars/Olympus"},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).timezone is None


# guest links ------------------------------------------------------------------------------------


@pytest.fixture
def guest_ticket(app, make_ticket, make_customer):
    customer = make_customer(email="guest@example.com", name="Guest Customer")
    ticket = make_ticket(customer=customer, subject="Guest demand")
    settle_mail(app)
    return ticket


def test_guest_link_flow(client, new_client, guest_ticket, sent_mail):
    sent_mail.clear()
    response = post(
        client, "/guest", {"protocol": guest_ticket.protocol, "email": "GUEST@example.com"}
    )
    assert response.status_code == 302
    assert "/check-email" in response.location
    assert len(sent_mail) == 1
    path = link_in(sent_mail[0], "/guest/")

    response = client.get(path)
    assert response.status_code == 302
    assert response.location == f"/portal/demands/{guest_ticket.protocol}"
    response = client.get(response.location)
    assert response.status_code == 200
    assert "Guest demand" in page(response)

    # one-time: a second browser cannot reuse it
    again = new_client()
    assert again.get(path).status_code == 400
    assert again.get(f"/portal/demands/{guest_ticket.protocol}").status_code == 302


def test_guest_link_wrong_email_same_answer_no_email(client, db, guest_ticket, sent_mail):
    sent_mail.clear()
    right = post(
        client, "/guest", {"protocol": guest_ticket.protocol, "email": "guest@example.com"}
    )
    wrong = post(
        client, "/guest", {"protocol": guest_ticket.protocol, "email": "thief@example.com"}
    )
    nobody = protocols.format_protocol("20200101", 999999)
    unknown = post(client, "/guest", {"protocol": nobody, "email": "guest@example.com"})
    assert right.status_code == wrong.status_code == unknown.status_code == 302
    assert right.location == wrong.location == unknown.location
    assert len(sent_mail) == 1


def test_guest_link_wrong_check_digit_is_a_form_error(client, db, guest_ticket, sent_mail):
    sent_mail.clear()
    bad = guest_ticket.protocol[:-1] + str((int(guest_ticket.protocol[-1]) + 1) % 10)
    response = post(client, "/guest", {"protocol": bad, "email": "guest@example.com"})
    assert response.status_code == 400
    assert "wrong check digit" in page(response)
    assert sent_mail == []


def test_guest_link_expires(client, db, guest_ticket, sent_mail):
    sent_mail.clear()
    post(client, "/guest", {"protocol": guest_ticket.protocol, "email": "guest@example.com"})
    path = link_in(sent_mail[0], "/guest/")
    with time_machine.travel(clock.now() + timedelta(hours=25), tick=False):
        response = client.get(path)
    assert response.status_code == 400
    assert "Ask for a new link" in page(response)


def test_guest_session_does_not_open_other_demands(
    client, db, guest_ticket, make_ticket, sent_mail
):
    other = make_ticket(subject="Someone else's")
    post(client, "/guest", {"protocol": guest_ticket.protocol, "email": "guest@example.com"})
    client.get(link_in(sent_mail[-1], "/guest/"))
    assert client.get(f"/portal/demands/{guest_ticket.protocol}").status_code == 200
    assert client.get(f"/portal/demands/{other.protocol}").status_code == 302  # sign in first


def test_guest_requests_are_rate_limited(limited_client, guest_ticket):
    codes = [
        post(
            limited_client, "/guest", {"protocol": guest_ticket.protocol, "email": "x@example.com"}
        ).status_code
        for _ in range(6)
    ]
    assert codes[5] == 429


def test_guest_ticket_count_unchanged_by_lookups(client, db, guest_ticket):
    before = db.session.scalar(sa.select(sa.func.count(Ticket.id)))
    post(client, "/guest", {"protocol": guest_ticket.protocol, "email": "guest@example.com"})
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == before
