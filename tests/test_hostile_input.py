"""Hostile input, class by class: each is a 4xx in the user's language, never a 5xx, on SQLite and
PostgreSQL. Ids past the column's range in any path; crafted cursors on every keyset list; lone
surrogates in JSON; NUL bytes in paths, query strings, headers, JSON and forms.
(tests/test_hostile_properties.py throws the same values at every route at random.)"""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.core.boundary import up_to
from helpdesk.core.text import MAX_ID
from tests import hostile, test_api_support
from tests.hostile import CURSORS, world  # noqa: F401
from tests.test_api_support import API, assert_problem

cast = test_api_support.cast
token_for = test_api_support.token_for

PAST_RANGE = ["2147483648", "9223372036854775808", "1" + "0" * 24]
BAD_TEXT = "This text contains a character that is not accepted"
BAD_PAGE = "This page link is no longer valid. Please start from the first page."


def _as_admin(w, path, method="GET", **kw):
    if path.startswith("/api/"):
        return w.api.open(path, method=method, headers=w.bearer["admin"], **kw)
    data = {"csrf_token": w.csrf["admin"]} if method == "POST" else None
    return w.web["admin"].open(path, method=method, data=data, **kw)


def test_ids_past_the_column_range_are_404_on_every_int_route(app, world):  # noqa: F811
    routes = [r for r in hostile.rules(app) if "int:" in r.rule]
    assert len(routes) > 40  # every <int:...> of the app, not a sample
    wrong = []
    for rule in routes:
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        for value in PAST_RANGE:
            values = {
                name: value if conv == "IdConverter" else "1"
                for name, conv in ((n, type(c).__name__) for n, c in rule._converters.items())
            }
            path = hostile.fill(rule, values)
            status = _as_admin(world, path, method).status_code
            if status != 404:
                wrong.append(f"{status} {method} {path}")
    assert not wrong, "\n".join(wrong)


# (role, path) of every keyset list, API and console; `cursor` (or `after`) is appended
KEYSET_LISTS = [
    ("admin", f"{API}/tickets?cursor="),
    ("admin", f"{API}/tickets?sort=priority&cursor="),
    ("admin", f"{API}/tickets?sort=due&cursor="),
    ("admin", f"{API}/tickets?sort=updated&cursor="),
    ("customer", f"{API}/tickets?cursor="),
    ("supervisor", f"{API}/escalations?cursor="),
    ("supervisor", f"{API}/investigations?cursor="),
    ("agent", "/console/?cursor="),
    ("agent", "/console/?sort=priority&cursor="),
    ("agent", "/console/?sort=due&cursor="),
    ("agent", "/console/search?q=problema&cursor="),
    ("supervisor", "/console/escalations?cursor="),
    ("supervisor", "/console/escalations?tab=closed&cursor="),
    ("agent", "/console/notifications?cursor="),
    ("agent", "/console/customers/{customer}?cursor="),
    ("supervisor", "/console/investigations?cursor="),
    ("customer", "/portal/demands?cursor="),
    ("admin", "/admin/users?after="),
]


def test_every_keyset_list_is_in_the_cursor_test(app):
    """A new view that reads a cursor must join KEYSET_LISTS (and so the test below)."""
    listed = {path.split("?")[0].replace("{customer}", "1") for _role, path in KEYSET_LISTS}
    adapter = app.url_map.bind("localhost")
    covered = {adapter.match(path)[0] for path in listed}
    readers = {
        endpoint
        for endpoint in app.view_functions
        if endpoint != "static"
        and any(
            hostile.view_reads(app, endpoint, word)
            for word in ('args.get("cursor")', 'args.get("after"')
        )
    }
    assert readers <= covered, readers - covered


@pytest.mark.parametrize("cursor", CURSORS)
def test_crafted_cursors_are_400_on_every_keyset_list(app, world, cursor):  # noqa: F811
    customer = world.cast.ticket_a.customer_id
    wrong = []
    for role, path in KEYSET_LISTS:
        url = path.format(customer=customer) + cursor
        if path.startswith(API):
            response = world.api.get(url, headers=world.bearer[role])
        else:
            response = world.web[role].get(url)
        if response.status_code != 400:
            wrong.append(f"{response.status_code} {role} {url[:120]}")
    assert not wrong, "\n".join(wrong)


def test_a_bad_cursor_is_explained_in_the_users_language(app, world):  # noqa: F811
    with force_locale("pt_BR"):
        expected = gettext(BAD_PAGE)
    assert expected != BAD_PAGE
    world.web["customer"].post(
        "/language", data={"lang": "pt_BR", "csrf_token": world.csrf["customer"]}
    )
    page = world.web["customer"].get("/portal/demands?cursor=" + CURSORS[1])
    assert page.status_code == 400
    assert expected in page.get_data(as_text=True)
    api = world.api.get(
        f"{API}/tickets?cursor={CURSORS[0]}",
        headers={**world.bearer["admin"], "Accept-Language": "es"},
    )
    with force_locale("es"):
        assert assert_problem(api, 400)["errors"]["cursor"] == gettext("This cursor is not valid.")


# lone surrogates and NUL in JSON ------------------------------------------------------------


@pytest.mark.parametrize("bad", ["\ud800", "a\udfffb", "a\x00b"])
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/tickets", {"kind": "complaint", "subject": "{bad}"}, "subject"),
        (
            "POST",
            "/tickets",
            {"kind": "complaint", "subject": "x", "customer": {"name": "{bad}"}},
            "customer.name",
        ),
        (
            "POST",
            "/tickets",
            {"subject": "x", "attachments": [{"filename": "{bad}.pdf", "content_base64": ""}]},
            "attachments[0].filename",
        ),
        ("POST", "/tickets/{protocol}/messages", {"body": "{bad}"}, "body"),
        ("PATCH", "/tickets/{protocol}", {"reason": "{bad}", "priority": "high"}, "reason"),
        ("POST", "/departments", {"name": "{bad}"}, "name"),
        ("POST", "/categories", {"name": "{bad}", "kinds": ["complaint"]}, "name"),
        ("POST", "/investigations", {"title": "{bad}"}, "title"),
    ],
)
def test_bad_characters_in_any_json_string_are_400_naming_the_field(
    client, db, cast, method, path, body, field, bad
):
    import json

    raw = json.dumps(body).replace("{bad}", json.dumps(bad)[1:-1])  # \ud800 / \u0000 escapes
    response = client.open(
        API + path.format(protocol=cast.ticket_a.protocol),
        method=method,
        data=raw.encode(),
        content_type="application/json",
        headers=test_api_support.headers(cast, "admin"),
    )
    problem = assert_problem(response, 400)
    assert BAD_TEXT in problem["errors"][field]


def test_a_surrogate_in_a_json_key_is_400(client, db, cast):
    response = client.post(
        f"{API}/tickets",
        data=b'{"\\ud800": 1, "subject": "x"}',
        content_type="application/json",
        headers=test_api_support.headers(cast, "admin"),
    )
    assert "body" in assert_problem(response, 400)["errors"]


def test_get_json_refuses_bad_text_too(app):
    from flask import request
    from werkzeug.exceptions import BadRequest

    def body(raw):
        return app.test_request_context(
            "/", method="POST", data=raw, content_type="application/json"
        )

    with body('{"a": ["\\ud800"]}'), pytest.raises(BadRequest):
        request.get_json()
    with body('{"a": "ok"}'):
        assert request.get_json() == {"a": "ok"}
    # only request bodies: the app's own JSON (the session cookie among it) decodes as ever
    assert app.json.loads('{"a": "\\ud800"}') == {"a": "\ud800"}


# NUL in path, query string and headers; stripped from forms ------------------------------------


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("admin", f"{API}/investigations/INV%00"),
        ("admin", f"{API}/tickets?customer_email=a%00b@example.com"),
        ("admin", f"{API}/tickets?department=SAC%00"),
        ("supervisor", "/console/investigations/1%00"),
        ("agent", "/console/?q=boleto%00"),
        ("anonymous", "/login?next=/%00"),
        ("customer", "/portal/demands?cursor=%00"),
    ],
)
def test_nul_in_a_path_or_query_is_400_in_the_users_language(world, role, path):  # noqa: F811
    headers = {"Accept-Language": "pt-BR"}
    if path.startswith(API):
        response = world.api.get(path, headers={**world.bearer[role], **headers})
    else:
        response = world.web[role].get(path, headers=headers)
    assert response.status_code == 400
    with force_locale("pt_BR"):
        expected = gettext(BAD_TEXT + " (a NUL byte or an unpaired surrogate).")
    text = (
        response.get_json()["detail"] if path.startswith(API) else response.get_data(as_text=True)
    )
    assert expected in text


@pytest.mark.parametrize("header", ["Idempotency-Key", "User-Agent", "X-Request-Id"])
def test_nul_in_a_header_is_400(client, db, cast, header):
    response = client.post(
        f"{API}/tickets",
        json={"kind": "complaint", "subject": "x", "customer": {"email": "n@example.com"}},
        headers={**test_api_support.headers(cast, "admin"), header: "k\x00"},
    )
    assert_problem(response, 400)


def test_nul_in_a_form_field_is_dropped_not_a_500(world, db):  # noqa: F811
    from helpdesk.tickets.models import Message

    protocol = world.cast.ticket_a.protocol
    admin = world.web["admin"]
    response = admin.post(
        f"/console/tickets/{protocol}/note",
        data={"body": "Cliente ligou\x00 de novo", "csrf_token": world.csrf["admin"]},
    )
    assert response.status_code == 302
    note = db.session.query(Message).filter_by(ticket_id=world.cast.ticket_a.id).all()[-1]
    assert note.body == "Cliente ligou de novo"


def test_nul_in_the_login_form_is_a_wrong_password(world):  # noqa: F811
    anonymous = world.web["anonymous"]
    response = anonymous.post(
        "/login",
        data={
            "email": "a\x00@example.com",
            "password": "x\x00",
            "csrf_token": world.csrf["anonymous"],
        },
    )
    assert response.status_code == 400  # the login page's answer to a wrong password
    assert "The email or the password is not correct." in response.get_data(as_text=True)


# integers in query strings and forms ---------------------------------------------------------


def test_admin_users_page_after_a_huge_id_is_400(world):  # noqa: F811
    assert world.web["admin"].get("/admin/users?after=999999999999").status_code == 400
    assert world.web["admin"].get("/admin/users?after=1").status_code == 200


@pytest.mark.parametrize("value", PAST_RANGE)
def test_huge_numbers_in_bounded_form_fields_are_form_errors(world, value):  # noqa: F811
    admin = world.web["admin"]
    page = admin.post(
        "/admin/mailboxes/new",
        data={
            "name": "Caixa",
            "host": "imap.example.com",
            "port": value,
            "username": "sac",
            "password": "x",
            "csrf_token": world.csrf["admin"],
        },
    )
    assert page.status_code == 200  # the form again, with the error next to the port
    assert "Number must be between 1 and 65535." in page.get_data(as_text=True)
    started = world.web["agent"].post(
        "/console/phone/start", data={"customer_id": value, "csrf_token": world.csrf["agent"]}
    )
    assert started.status_code < 500


@given(limit=st.integers(0, 2**40), number=st.integers(0, 2**41), zeros=st.integers(0, 3))
def test_the_id_pattern_matches_exactly_the_numbers_up_to_its_limit(limit, number, zeros):
    pattern = re.compile(up_to(limit))
    for n in (number, limit, limit + 1, max(limit - 1, 0), number % (limit + 1)):
        assert (pattern.fullmatch("0" * zeros + str(n)) is not None) == (n <= limit), (limit, n)


def test_a_resource_served_by_two_rules_is_404_past_the_id_range(client):
    """PATCH and DELETE of a macro are two rules on one path: an id past the range was a 405
    (the other rule's method), now no rule's pattern matches it."""
    for method in ("PATCH", "DELETE", "GET"):
        response = client.open(f"/api/v1/macros/{MAX_ID + 1}", method=method)
        assert response.status_code == 404, method
