"""Web plumbing every page relies on: headers, language choice, proxies, error pages."""

import pytest

from helpdesk.core.web import is_safe_next


def test_security_headers_on_pages(client):
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "target,safe",
    [
        ("/portal/demands", True),
        ("//evil.example", False),
        ("https://evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
        ("\t//evil.example", False),
        ("", False),
    ],
)
def test_only_same_origin_paths_are_safe_redirects(target, safe):
    assert is_safe_next(target) is safe


def test_language_switch_stays_on_our_origin(client):
    from tests.conftest import csrf_from

    token = csrf_from(client, "/login")
    response = client.post(
        "/language", data={"lang": "es", "next": "//evil.example", "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_browser_language_then_choice(client):
    from tests.conftest import csrf_from

    page = client.get("/login", headers={"Accept-Language": "es-ES,es;q=0.9"}).get_data(
        as_text=True
    )
    assert 'lang="es"' in page
    token = csrf_from(client, "/login")
    client.post("/language", data={"lang": "pt_BR", "next": "/login", "csrf_token": token})
    page = client.get("/login", headers={"Accept-Language": "es-ES"}).get_data(as_text=True)
    assert 'lang="pt-BR"' in page


@pytest.mark.parametrize("proxies,expected", [(0, "127.0.0.1"), (1, "6.6.6.6")])
def test_forwarded_for_is_honoured_only_behind_configured_proxies(app, proxies, expected):
    from flask import request

    from helpdesk import create_app

    config = type("ProxyConfig", (), {k: v for k, v in app.config.items() if k.isupper()})
    config.PROXY_COUNT = proxies
    fresh = create_app(config)

    @fresh.get("/_test_remote_addr")
    def remote_addr():
        return request.remote_addr

    response = fresh.test_client().get("/_test_remote_addr", headers={"X-Forwarded-For": "6.6.6.6"})
    assert response.get_data(as_text=True) == expected


def test_unknown_page_is_a_translated_404_page(client):
    response = client.get("/nope", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "does not exist" in response.get_data(as_text=True)


def test_api_errors_are_problem_json(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_huge_body_is_413_not_500(client):
    response = client.post(
        "/login", data="x" * (30 * 1024 * 1024), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (400, 413)


def test_wrong_method_on_api_is_problem_json_with_allow(client):
    response = client.delete("/api/v1/tickets")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_a_broken_page_link_is_a_translated_400(client, make_user, auth):
    customer = make_user(role="customer")
    auth.login(customer)
    response = client.get("/portal/demands?cursor=not-a-cursor", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "This page link is no longer valid" in response.get_data(as_text=True)


def test_fields_without_errors_have_no_aria_invalid_attribute(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'name="email"' in html
    assert "aria-invalid" not in html  # not even aria-invalid="None"
