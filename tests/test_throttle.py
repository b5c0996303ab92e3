"""Per-account throttles: a slow guess spread over many IP addresses stops at the account, the
same way for an email that has no account, in the user's language."""

from __future__ import annotations

import pytest

from .test_auth import limited_client  # noqa: F401 - fixture
from .test_portal_support import *  # noqa: F403
from .test_portal_support import logged_in, page, post


def from_ip(client, i: int):
    client.environ_base["REMOTE_ADDR"] = f"203.0.{i // 250}.{i % 250 + 1}"
    return client


def guess(client, email: str, i: int, password: str = "wrong-guess"):
    return post(from_ip(client, i), "/login", {"email": email, "password": password})


@pytest.mark.parametrize("known", [True, False])
def test_a_distributed_guess_against_one_account_stops(limited_client, make_user, known):  # noqa: F811
    email = "target@example.com"
    if known:
        make_user(role="customer", email=email)
    codes = [guess(limited_client, email, i).status_code for i in range(12)]
    assert codes[:10] == [400] * 10  # one guess per address: no per-IP limit is reached
    assert codes[10:] == [429, 429]
    response = guess(limited_client, email, 99)
    assert "Too many attempts with this email address" in page(response)
    assert "wrong-guess" not in page(response)
    # once throttled, even the right password is refused for now
    assert guess(limited_client, email, 100, "password123").status_code == 429
    assert not logged_in(limited_client)


def test_the_same_answers_for_known_and_unknown_accounts(limited_client, make_user):  # noqa: F811
    make_user(role="customer", email="known@example.com")
    known = [guess(limited_client, "known@example.com", i).status_code for i in range(12)]
    unknown = [guess(limited_client, "nobody@example.com", 50 + i).status_code for i in range(12)]
    assert known == unknown


def test_the_account_key_is_the_normalised_email(limited_client, make_user):  # noqa: F811
    make_user(role="customer", email="target@example.com")
    spellings = ["target@example.com", "TARGET@example.com", " Target@Example.COM "]
    codes = [guess(limited_client, spellings[i % 3], i).status_code for i in range(11)]
    assert codes[10] == 429


def test_other_accounts_are_not_locked_out(limited_client, make_user):  # noqa: F811
    make_user(role="customer", email="target@example.com")
    other = make_user(role="customer", email="other@example.com")
    for i in range(11):
        guess(limited_client, "target@example.com", i)
    response = guess(limited_client, other.email, 200, "password123")
    assert response.status_code == 302


def test_successful_logins_do_not_use_up_the_allowance(limited_client, make_user):  # noqa: F811
    user = make_user(role="customer", email="busy@example.com")
    for i in range(12):
        limited_client.delete_cookie("session")
        assert guess(limited_client, user.email, i, "password123").status_code == 302


def test_the_lockout_is_in_the_users_language(limited_client, make_user):  # noqa: F811
    limited_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pt-BR"
    for i in range(10):
        guess(limited_client, "target@example.com", i)
    response = guess(limited_client, "target@example.com", 10)
    assert response.status_code == 429
    assert "Tentativas demais com este endereço de e-mail" in page(response)


@pytest.mark.parametrize(
    ("path", "data", "allowed"),
    [
        ("/reset", {"email": "target@example.com"}, 5),
        ("/resend-confirmation", {"email": "target@example.com"}, 3),
    ],
)
def test_email_requests_are_throttled_per_account_across_addresses(
    limited_client,  # noqa: F811
    make_user,
    path,
    data,
    allowed,
):
    make_user(role="customer", email="target@example.com")
    codes = [
        post(from_ip(limited_client, i), path, data, csrf_path="/reset").status_code
        for i in range(allowed + 1)
    ]
    assert codes[:allowed] == [302] * allowed
    assert codes[allowed] == 429
    assert "Too many requests for this email address" in page(
        post(from_ip(limited_client, 99), path, data, csrf_path="/reset")
    )


def test_guest_link_requests_are_throttled_per_email_across_addresses(
    limited_client,  # noqa: F811
    make_ticket,
    make_customer,
):
    ticket = make_ticket(customer=make_customer(email="guest@example.com"))
    data = {"protocol": ticket.protocol, "email": "guest@example.com"}
    codes = [post(from_ip(limited_client, i), "/guest", data).status_code for i in range(6)]
    assert codes[:5] == [302] * 5
    assert codes[5] == 429


def test_wrong_current_passwords_are_throttled_per_user(limited_client, make_user):  # noqa: F811
    user = make_user(role="customer")
    post(limited_client, "/login", {"email": user.email, "password": "password123"})
    data = {
        "action": "password",
        "current_password": "not-it",
        "new_password": "another-pw-1",
        "confirm": "another-pw-1",
    }
    codes = [post(from_ip(limited_client, i), "/account", data).status_code for i in range(11)]
    assert codes[:10] == [400] * 10
    assert codes[10] == 429


@pytest.fixture
def proxied_client(app, db):
    """Rate limiting on, behind one trusted reverse proxy (HELPDESK_PROXY_COUNT=1)."""
    from helpdesk import create_app
    from helpdesk.extensions import db as _db
    from helpdesk.extensions import limiter

    from .test_portal_support import IsolatedClient

    settings = {k: v for k, v in app.config.items() if k.isupper()}
    settings.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", PROXY_COUNT=1)
    proxied = create_app(type("ProxiedConfig", (), settings))
    try:
        yield IsolatedClient(proxied, proxied.response_class, use_cookies=True)
    finally:
        limiter.reset()
        limiter.enabled = False
        with proxied.app_context():
            _db.session.remove()
            _db.engine.dispose()


def test_behind_a_proxy_a_guess_from_many_forwarded_addresses_stops(proxied_client, make_user):
    make_user(role="customer", email="target@example.com")
    codes = []
    for i in range(11):
        proxied_client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{i + 1}"
        codes.append(
            post(
                proxied_client, "/login", {"email": "target@example.com", "password": "nope-nope"}
            ).status_code
        )
    assert codes[:10] == [400] * 10
    assert codes[10] == 429
