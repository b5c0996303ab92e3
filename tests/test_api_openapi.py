"""The OpenAPI document describes every /api/v1 route; the docs page renders it without scripts."""

from __future__ import annotations

import re

from tests import test_api_support as support
from tests.test_api_support import API

cast = support.cast
token_for = support.token_for


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_every_api_route_is_in_the_document(app, client):
    spec = client.get(f"{API}/openapi.json").get_json()
    registered = {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert registered <= described, registered - described
    assert described <= registered, described - registered


def test_document_is_openapi_31_with_bearer_and_problems(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        **spec["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    schemas = spec["components"]["schemas"]
    assert {"type", "title", "status", "detail", "errors"} <= set(schemas["Problem"]["properties"])
    for ref in _refs(spec):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    tags = {t["name"] for t in spec["tags"]}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert op["summary"] and op["tags"][0] in tags and op["operationId"], (method, path)
            assert op["responses"], (method, path)
            for param in op.get("parameters", []):
                assert {"name", "in", "schema"} <= set(param)
            if "{protocol}" in path:
                assert any(p["name"] == "protocol" and p["in"] == "path" for p in op["parameters"])
            if op.get("security") != []:
                assert op["responses"]["401"]["content"]["application/problem+json"]
            if method in ("post", "patch"):
                assert "application/json" in op["requestBody"]["content"]
    post = spec["paths"][f"{API}/tickets"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    listing = spec["paths"][f"{API}/tickets"]["get"]
    assert {
        "status",
        "department",
        "customer_email",
        "customer_phone",
        "updated_since",
        "cursor",
    } <= {p["name"] for p in listing["parameters"]}


def test_docs_page_renders_every_operation(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    spec = client.get(f"{API}/openapi.json").get_json()
    for path, item in spec["paths"].items():
        assert f"<code>{path}</code>" in html
        for op in item.values():
            assert f'id="{op["operationId"]}"' in html
    assert "curl -X POST" in html
    assert "-H &#34;Authorization: Bearer $TOKEN&#34;" in html  # expanded by the shell
    assert "Idempotency-Key" in html
    # no inline script, no CDN: every script is our own file
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in tag
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "style=" not in html
    assert "Content-Security-Policy" in response.headers


def test_docs_page_for_a_signed_in_user_shows_their_session(client, cast, auth, make_user):
    staff = make_user("agent")
    auth.login(staff)
    # an API request in between must not leak its token's user into the page
    client.get(f"{API}/tickets", headers=support.headers(cast, "customer_a"))
    html = client.get(f"{API}/docs").get_data(as_text=True)
    assert staff.name in html
    assert "Ana" not in html
