"""Hostile values and a cast of signed-in clients, shared by the hostile-input tests.

Imported by tests/test_hostile_input.py and tests/test_hostile_properties.py; it holds no tests.
"""

from __future__ import annotations

import base64
import inspect
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.test_api_support import bearer

ROOT = Path(__file__).resolve().parent.parent / "helpdesk"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HUGE_INTS = [2**31, 2**63, 10**24, 2**64, -(2**63) - 1]
HUGE_DIGITS = [str(n) for n in HUGE_INTS] + ["9" * 25, "٣", "²"]
CURSORS = [
    b64(b"[1e300, 1]"),
    b64(b"[Infinity, 1]"),
    b64(b"[NaN, 1]"),
    b64(b'["9999-12-31T23:59:59-14:00", 1]'),  # an instant that does not exist in UTC
    b64(b'["0001-01-01T00:00:00+14:00", 1]'),
    b64(b'["2026-02-30T10:00:00", 1]'),  # no such day
    b64(b'["2026-01-01T00:00:00", 99999999999999999999999]'),
    b64(b'["2026-01-01T00:00:00", 2147483648]'),
    b64(b'[99999999999999999999, "2026-01-01T00:00:00", 1]'),
    b64(b"[null, 9223372036854775808]"),
    b64(b"[9223372036854775808]"),
    b64(b"[" * 3000),
    b64(b"[" * 3000 + b"]" * 3000),
    b64(b"\xff\xfe\xfd\xfc"),  # not UTF-8
    b64(b'{"a": 1}'),
    "!!!not base64!!!",
    "W10",  # []
    "A" * 5000,
]
TEXTS = ["a\x00b", "\x00", "", " ", "%00", "1e300", "NaN", "-Infinity", "x" * 300]
SURROGATES = ["\ud800", "a\udfffb"]  # reach the app only as JSON escapes


def query_names() -> list[str]:
    """Every query-string name the views read (request.args, arg_choice, query_int, ...)."""
    pattern = re.compile(
        r"""(?:args\.get(?:list)?|arg_(?:int_)?choice|query_(?:int|datetime))\(\s*["'](\w+)["']"""
    )
    names = set()
    for path in ROOT.rglob("*.py"):
        names.update(pattern.findall(path.read_text()))
    return sorted(names | {"q", "page", "after", "date_from", "date_to", "email", "phone"})


def form_names() -> list[str]:
    """Every field name of every form class of the app."""
    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    names, todo = set(), [FlaskForm]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        for klass in cls.__mro__:
            names.update(k for k, v in vars(klass).items() if isinstance(v, UnboundField))
    return sorted(names)


def json_names(client) -> list[str]:
    """Every property name of the OpenAPI description's schemas, plus the query names."""
    spec = client.get("/api/v1/openapi.json").get_json()
    names = set()
    for schema in spec["components"]["schemas"].values():
        names.update(schema.get("properties", {}))
    return sorted(names)


def rules(app, *, skip=("static", "auth.logout")):
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint not in skip), key=lambda r: r.rule
    )


def fill(rule, values: dict) -> str:
    """The rule's path with each variable replaced by values[name] (URL-quoted)."""

    def one(match):
        return quote(str(values[match.group(1)]), safe="")

    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", one, rule.rule)


def view_reads(app, endpoint: str, word: str) -> bool:
    return word in inspect.getsource(app.view_functions[endpoint])


def raw_json(value) -> bytes:
    """JSON bytes as a client may send them: lone surrogates become \\ud800 escapes."""
    return json.dumps(value, ensure_ascii=True).encode()


class World:
    """The API cast (tokens) plus one signed-in browser per role and its CSRF token."""


@pytest.fixture
def world(app, db, cast, make_user):
    from tests.conftest import AuthActions, csrf_from

    w = World()
    w.cast = cast
    w.web, w.csrf = {}, {}
    for role in ("anonymous", "customer", "agent", "supervisor", "admin"):
        browser = app.test_client()
        if role != "anonymous":
            AuthActions(browser).login(make_user(role))
        w.web[role] = browser
        w.csrf[role] = csrf_from(browser, "/login" if role == "anonymous" else "/account")
    w.api = app.test_client()
    tokens = {
        "customer": "customer_a",
        "agent": "agent_x",
        "supervisor": "supervisor",
        "admin": "admin",
    }
    w.bearer = {"anonymous": {}} | {r: bearer(cast.tokens[t]) for r, t in tokens.items()}
    return w
