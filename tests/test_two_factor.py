"""Staff two-factor sign-in (TOTP and recovery codes), the 2FA gate of /admin, the session list
and the breached-password list, through the test client (real requests, real TOTP codes)."""

from __future__ import annotations

import hashlib
import re
import time

import pyotp
import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import RecoveryCode, User, UserSession
from tests.conftest import csrf_from

from .test_portal_support import IsolatedClient, login_as, post


@pytest.fixture
def required(app, monkeypatch):
    """The production default: admins must pass the second factor."""
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_ROLES", ["admin"])
    return app.config


def text(response) -> str:
    return response.get_data(as_text=True)


def secret_on_page(client) -> str:
    html = text(client.get("/account/two-factor"))
    assert "<svg" in html and 'class="qr"' in html  # the QR code is inline, made by the app
    match = re.search(r'<code class="secret"[^>]*>([A-Z2-7 ]+)</code>', html)
    assert match, "no typed key on the enrolment page"
    return match.group(1).replace(" ", "")


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def enrol(client, user) -> tuple[str, list[str]]:
    """Sign in with the password and turn the second factor on; (secret, recovery codes)."""
    assert login_as(client, user).status_code == 302
    secret = secret_on_page(client)
    response = post(client, "/account/two-factor", {"action": "enable", "code": code_at(secret)})
    assert response.status_code == 200, text(response)
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", text(response))
    return secret, codes


def test_an_admin_without_a_second_factor_gets_no_admin_page(client, make_user, required):
    admin = make_user(role="admin")
    assert login_as(client, admin).status_code == 302
    for path in ("/admin/", "/admin/users", "/console/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/account/two-factor" in response.location
    page = client.get("/admin/", follow_redirects=True)
    assert "People" not in text(page)
    assert "authenticator app" in text(page)
    # told once, however many requests were turned back before the page showed (the console's
    # background polls are); changing the language is not one of them
    for path in ("/console/", "/console/calls/active", "/admin/"):
        client.get(path)
    language = post(client, "/language", {"lang": "es", "next": "/account/two-factor"})
    assert "/account/two-factor" in language.location
    page = text(client.get("/account/two-factor"))
    assert page.count("Your role signs in in two steps.") == 1, page  # flashed in English


def test_enrolment_then_sign_in_asks_for_the_code_once(client, db, make_user, required):
    admin = make_user(role="admin")
    secret, codes = enrol(client, admin)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(
        db.session.scalars(
            sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == admin.id)
        )
    )
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    assert client.get("/admin/").status_code == 200  # this browser passed the second factor

    post(client, "/logout", csrf_path="/account")
    response = login_as(client, admin)
    assert response.status_code == 302 and "/login/second-factor" in response.location
    assert client.get("/admin/").status_code == 302  # not signed in yet: the password is not all

    # the code used at enrolment does not work again (its time step is used up)
    reused = post(client, "/login/second-factor", {"code": code_at(secret)})
    assert reused.status_code == 400
    assert "not correct or was already used" in text(reused)
    response = post(client, "/login/second-factor", {"code": code_at(secret, 1)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, admin.id).last_login_at is not None
    live = db.session.scalars(
        sa.select(UserSession).where(
            UserSession.user_id == admin.id, UserSession.revoked_at.is_(None)
        )
    ).all()
    assert len(live) == 1 and live[0].second_factor_at is not None


def test_a_wrong_code_and_an_expired_password_step_get_nowhere(client, make_user, required):
    admin = make_user(role="admin")
    secret, _codes = enrol(client, admin)
    post(client, "/logout", csrf_path="/account")
    login_as(client, admin)
    wrong = str((int(code_at(secret, 1)) + 1) % 1_000_000).zfill(6)
    assert post(client, "/login/second-factor", {"code": wrong}).status_code == 400
    assert post(client, "/login/second-factor", {"code": "not a code"}).status_code == 400
    assert client.get("/admin/").status_code == 302
    # without the password step first, the code page sends to the sign-in page
    fresh = IsolatedClient(client.application, client.application.response_class)
    response = fresh.get("/login/second-factor")
    assert response.status_code == 302 and "/login" in response.location


def test_a_recovery_code_works_once_instead_of_the_app(client, make_user, required):
    admin = make_user(role="admin")
    _secret, codes = enrol(client, admin)
    post(client, "/logout", csrf_path="/account")
    login_as(client, admin)
    response = post(client, "/login/second-factor", {"code": codes[0].upper()})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert "9 recovery codes are left" in text(client.get("/account/two-factor"))
    post(client, "/logout", csrf_path="/account")
    login_as(client, admin)
    assert post(client, "/login/second-factor", {"code": codes[0]}).status_code == 400


def test_an_admin_cannot_turn_it_off_but_an_agent_can(client, make_user, required):
    admin = make_user(role="admin")
    secret, _codes = enrol(client, admin)
    off = post(
        client,
        "/account/two-factor",
        {"action": "disable", "off-code": code_at(secret, 1)},
    )
    assert off.status_code == 400 and "cannot be turned off" in text(off)

    agent = make_user(role="agent")
    other = IsolatedClient(client.application, client.application.response_class)
    secret, _codes = enrol(other, agent)
    assert other.get("/console/").status_code == 200  # agents are not required by default
    off = post(other, "/account/two-factor", {"action": "disable", "off-code": code_at(secret, 1)})
    assert off.status_code == 302
    post(other, "/logout", csrf_path="/account")
    assert login_as(other, agent).location.endswith("/console/")  # the password alone again


def test_the_policy_can_require_agents_too(client, make_user, monkeypatch, app):
    agent = make_user(role="agent")
    login_as(client, agent)
    assert client.get("/console/").status_code == 200  # default for tests: nobody required
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_ROLES", ["admin", "agent"])
    response = client.get("/console/")
    assert response.status_code == 302 and "/account/two-factor" in response.location


def test_the_admin_api_with_a_token_is_not_behind_the_browser_gate(client, make_user, required):
    from helpdesk.accounts.services import issue_api_token
    from helpdesk.extensions import db as _db

    admin = make_user(role="admin")
    raw = issue_api_token(admin, "script")
    _db.session.commit()
    response = client.get("/api/v1/routing-rules", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200


def test_customers_have_no_two_factor_page(client, make_user, required):
    customer = make_user(role="customer")
    login_as(client, customer)
    assert client.get("/account/two-factor").status_code == 404


@pytest.fixture
def limited_client(app, db):
    from helpdesk import create_app
    from helpdesk.extensions import db as _db
    from helpdesk.extensions import limiter

    settings = {k: v for k, v in app.config.items() if k.isupper()}
    settings.update(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        TWO_FACTOR_REQUIRED_ROLES=["admin"],
        LOGIN_ACCOUNT_LIMITS="5/minute",
    )
    limited = create_app(type("LimitedConfig", (), settings))
    try:
        yield IsolatedClient(limited, limited.response_class, use_cookies=True)
    finally:
        limiter.reset()
        limiter.enabled = False
        with limited.app_context():
            _db.session.remove()
            _db.engine.dispose()


def test_code_attempts_are_rate_limited_per_account(limited_client, make_user):
    admin = make_user(role="admin")
    secret, _codes = enrol(limited_client, admin)
    post(limited_client, "/logout", csrf_path="/account")
    login_as(limited_client, admin)
    statuses = [
        post(limited_client, "/login/second-factor", {"code": "000000"}).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [400] * 5 and statuses[5] == 429
    # even the right code waits now
    right = post(limited_client, "/login/second-factor", {"code": code_at(secret, 1)})
    assert right.status_code == 429


# the session list --------------------------------------------------------------------------------


def test_the_session_list_signs_one_browser_out(client, make_user):
    agent = make_user(role="agent")
    other = IsolatedClient(client.application, client.application.response_class)
    login_as(client, agent)
    login_as(
        other,
        agent,
    )
    html = text(client.get("/account"))
    assert "This browser" in html
    ids = re.findall(r'name="session_id" value="([0-9a-f]{64})"', html)
    assert len(ids) == 1  # the other browser (this one has no sign-out button of its own)
    response = post(client, "/account", {"action": "revoke", "session_id": ids[0]})
    assert response.status_code == 302
    assert other.get("/console/").status_code == 302  # signed out
    assert client.get("/console/").status_code == 200
    # a session of someone else, or made up: not found
    bogus = post(client, "/account", {"action": "revoke", "session_id": "0" * 64})
    assert bogus.status_code == 404


# breached passwords ------------------------------------------------------------------------------


@pytest.fixture
def checked(app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_LIST_CHECK", True)


def test_breached_passwords_are_refused_where_a_password_is_set(client, make_user, checked):
    from helpdesk.accounts.services import create_user
    from helpdesk.core.errors import ValidationError

    signup = post(
        client,
        "/signup",
        {
            "name": "Ana",
            "email": "ana@example.com",
            "password": "Password123",
            "confirm": "Password123",
            "language": "en",
        },
    )
    assert signup.status_code == 400 and "data breaches" in text(signup)

    user = make_user(role="agent", password="a-long-unusual-phrase")
    login_as(client, user, password="a-long-unusual-phrase")
    change = post(
        client,
        "/account",
        {
            "action": "password",
            "current_password": "a-long-unusual-phrase",
            "new_password": "iloveyou",
            "confirm": "iloveyou",
        },
    )
    assert change.status_code == 400 and "data breaches" in text(change)
    with pytest.raises(ValidationError):
        create_user(email="x@example.com", name="X", role="agent", password="qwertyuiop")
    accepted = post(
        client,
        "/account",
        {
            "action": "password",
            "current_password": "a-long-unusual-phrase",
            "new_password": "another unusual phrase 7",
            "confirm": "another unusual phrase 7",
        },
    )
    assert accepted.status_code == 302


def test_breached_passwords_are_refused_in_portuguese(client, make_user, checked):
    client.set_cookie("locale", "pt_BR")
    signup = post(
        client,
        "/signup",
        {
            "name": "Ana",
            "email": "ana2@example.com",
            "password": "senha123",
            "confirm": "senha123",
            "language": "pt_BR",
        },
        headers={"Accept-Language": "pt-BR"},
    )
    assert signup.status_code == 400
    assert "vazamentos" in text(signup)


@pytest.mark.csrf
def test_csrf_is_required_on_the_code_page(client, make_user, required):
    admin = make_user(role="admin")
    secret, _codes = enrol(client, admin)
    post(client, "/logout", csrf_path="/account")
    login_as(client, admin)
    csrf_from(client, "/login/second-factor")
    response = client.post("/login/second-factor", data={"code": code_at(secret, 1)})
    assert response.status_code == 400


def test_breached_passwords_are_refused_in_the_admin_screen_and_the_cli(
    client, db, make_user, checked, app, default_department
):
    admin = make_user(role="admin", password="a-long-unusual-phrase")
    login_as(client, admin, password="a-long-unusual-phrase")
    response = post(
        client,
        "/admin/users/new",
        {
            "email": "nova@example.com",
            "name": "Nova",
            "role": "agent",
            "departments": [str(default_department.id)],
            "password": "letmein123",
        },
        csrf_path="/admin/users/new",
    )
    assert "data breaches" in text(response)
    assert db.session.scalar(sa.select(User).where(User.email == "nova@example.com")) is None

    result = app.test_cli_runner().invoke(
        args=["user", "create", "cli@example.com", "--role", "agent", "--password", "password1"]
    )
    assert result.exit_code != 0 and "data breaches" in result.output
    assert db.session.scalar(sa.select(User).where(User.email == "cli@example.com")) is None


def test_the_operator_resets_a_lost_second_factor(app, client, db, make_user, required):
    from helpdesk.audit.models import AdminAuditEntry

    admin = make_user(role="admin")
    enrol(client, admin)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["user", "reset-2fa", admin.email]).exit_code != 0  # no --yes
    result = runner.invoke(args=["user", "reset-2fa", admin.email, "--yes"])
    assert result.exit_code == 0, result.output
    assert client.get("/admin/").status_code == 302  # signed out everywhere
    db.session.expire_all()
    assert db.session.get(User, admin.id).totp_secret is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    login_as(client, admin)
    response = client.get("/admin/")
    assert "/account/two-factor" in response.location  # enrol again
    entry = db.session.scalars(
        sa.select(AdminAuditEntry).where(AdminAuditEntry.entity_id == admin.id)
    ).all()[-1]
    assert entry.source == "cli" and "totp_secret" in entry.changes
    assert "••••••" in entry.changes
