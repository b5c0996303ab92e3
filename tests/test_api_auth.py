"""Bearer-token authentication, problem+json for auth failures, no cookies, no CORS, languages."""

from __future__ import annotations

import pytest

from tests import test_api_support as support
from tests.test_api_support import API, assert_problem, bearer

token_for = support.token_for


@pytest.fixture
def agent(make_user):
    return make_user("agent")


def test_missing_token_is_401_with_bearer_challenge(client):
    response = client.get(f"{API}/tickets")
    body = assert_problem(response, 401, "/problems/unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert body["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer nope", "Bearer ", "Basic dXNlcjpwYXNz", "hd_notatoken", "Bearer " + "x" * 500],
)
def test_wrong_token_is_401(client, agent, header):
    response = client.get(f"{API}/tickets", headers={"Authorization": header})
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_valid_token_works(client, agent, token_for):
    response = client.get(f"{API}/tickets", headers=bearer(token_for(agent)))
    assert response.status_code == 200
    assert response.get_json() == {"items": [], "next": None}


def test_revoked_token_is_401(client, db, agent, token_for):
    from helpdesk.accounts.models import ApiToken
    from helpdesk.core.clock import now

    raw = token_for(agent)
    for token in db.session.query(ApiToken).filter_by(user_id=agent.id):
        token.revoked_at = now()
    db.session.commit()
    response = client.get(f"{API}/tickets", headers=bearer(raw))
    assert_problem(response, 401)
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_deactivated_owner_token_is_401(client, db, agent, token_for):
    from helpdesk.accounts.services import set_user_active

    raw = token_for(agent)
    set_user_active(agent, False)
    db.session.commit()
    assert_problem(client.get(f"{API}/tickets", headers=bearer(raw)), 401)


def test_session_cookie_is_not_accepted(client, auth, agent):
    auth.login(agent)
    assert client.get("/console/").status_code != 401  # the browser session works in the UI
    assert_problem(client.get(f"{API}/tickets"), 401)
    response = client.post(
        f"{API}/tickets",
        json={"kind": "complaint", "subject": "x", "customer": {"email": "a@b.co"}},
    )
    assert_problem(response, 401)


def test_openapi_and_docs_are_public(client):
    assert client.get(f"{API}/openapi.json").status_code == 200
    assert client.get(f"{API}/docs").status_code == 200


@pytest.mark.parametrize("method", ["get", "options"])
def test_foreign_origin_is_never_echoed(client, agent, token_for, method):
    response = getattr(client, method)(
        f"{API}/tickets",
        headers={
            **bearer(token_for(agent)),
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    allowed = response.headers.get("Access-Control-Allow-Origin")
    assert allowed in (None, "")
    assert "evil.example" not in str(response.headers)
    assert response.headers.get("Access-Control-Allow-Credentials") is None


def test_unknown_api_path_and_wrong_method_are_problems(client, agent, token_for):
    assert_problem(client.get(f"{API}/nothing-here", headers=bearer(token_for(agent))), 404)
    assert_problem(client.delete(f"{API}/tickets", headers=bearer(token_for(agent))), 405)


# full length with a wrong check digit (a short number has its own "too short" message)
MISTYPED = "202612020003010"


def _expected(locale: str) -> str:
    """The translated message as the catalogs have it now (equal to English until translated)."""
    from flask_babel import force_locale

    from helpdesk.core.errors import InvalidProtocol

    with force_locale(locale):
        return str(InvalidProtocol())


def test_accept_language_picks_problem_language(client, agent, token_for):
    headers = bearer(token_for(agent))
    english = assert_problem(
        client.get(f"{API}/tickets/{MISTYPED}", headers={**headers, "Accept-Language": "en"}), 400
    )
    portuguese = assert_problem(
        client.get(
            f"{API}/tickets/{MISTYPED}", headers={**headers, "Accept-Language": "pt-BR,pt;q=0.9"}
        ),
        400,
        "/problems/invalid-protocol",
    )
    assert english["type"] == portuguese["type"] == "/problems/invalid-protocol"
    assert english["detail"] == _expected("en")
    assert portuguese["detail"] == _expected("pt_BR")  # Portuguese once the catalog has it
    assert portuguese["errors"] == {"protocol": portuguese["detail"]}


def test_token_owner_language_preference(client, db, agent, token_for):
    agent.locale = "es"
    db.session.commit()
    body = assert_problem(
        client.get(
            f"{API}/tickets/{MISTYPED}",
            headers={**bearer(token_for(agent)), "Accept-Language": "en"},
        ),
        400,
    )
    assert body["detail"] == _expected("es")
