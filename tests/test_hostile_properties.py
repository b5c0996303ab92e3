"""Property test: hostile values at every route of app.url_map, as every role, never a 5xx.

Each example sends one request to EVERY route (method, role, path variables, query string and
JSON body or form fields all drawn): integers past every column's range, crafted keyset cursors,
NUL bytes, lone surrogates (as raw JSON escapes), 3,000 nested brackets, non-UTF-8 bytes.
Routes, query names, form fields and JSON properties are read from the app itself (url_map, the
views' sources, the form classes, the OpenAPI description), so a new endpoint is covered the day
it is added. Deterministic (derandomize) and bounded: a few hundred requests per database.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests import hostile, test_api_support
from tests.hostile import CURSORS, HUGE_DIGITS, HUGE_INTS, SURROGATES, TEXTS, world  # noqa: F401

cast = test_api_support.cast
token_for = test_api_support.token_for

ROLES = ("anonymous", "customer", "agent", "supervisor", "admin")
EXAMPLES = 8  # x every route: about 1,400 requests, ~10 s of CPU per database
ROUTES_PER_EXAMPLE = 25
DEEP_TEXTS = ["", " ", "1", "0", "-1", "1e300", "NaN", "x" * 300, "2026-02-30", "0001-01-01"]

# mostly values that pass the boundary and reach the views; NUL bytes now and then
deep_text = st.one_of(
    st.sampled_from(HUGE_DIGITS + CURSORS + DEEP_TEXTS),
    st.text(max_size=12),
)
hostile_text = st.one_of(
    deep_text,
    deep_text,
    deep_text,
    st.sampled_from(TEXTS),
    st.text(max_size=12).map(lambda s: s + "\x00"),
)
json_scalar = st.one_of(
    st.sampled_from(HUGE_INTS),
    st.sampled_from([1e300, -1, 0, True, None, 2147483647]),
    hostile_text,
    st.sampled_from(SURROGATES),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["filename", "name", "content_base64", "email"]), inner, max_size=3
        ),
    ),
    max_leaves=6,
)
HEADER_VALUES = ["k\x00", "\x00", "x" * 300, "", " ", "²", "key-1", *HUGE_DIGITS[:2]]
RAW_BODIES = [
    b"[" * 3000 + b"]" * 3000,
    b'{"a": ' * 3000 + b"1" + b"}" * 3000,
    b'{"body": NaN}',
    b"\xff\xfe{}",
    b'{"subject": "\\ud800", "body": "\\udc00x"}',
    b"",
]


def _request(draw, w, rule, json_names, form_names, query_names, valid):
    method = draw(st.sampled_from(sorted(rule.methods - {"HEAD", "OPTIONS"})))
    role = draw(st.sampled_from(ROLES))
    values = {
        name: draw(
            st.one_of(st.just(valid.get(name, "1")), hostile_text, st.sampled_from(HUGE_DIGITS))
        )
        for name in rule.arguments
    }
    path = hostile.fill(rule, values)
    query = draw(st.dictionaries(st.sampled_from(query_names), hostile_text, max_size=3))
    api = rule.rule.startswith("/api/")
    client = w.api if api else w.web[role]
    kwargs = {"method": method, "query_string": query, "headers": {}}
    if api:
        kwargs["headers"].update(w.bearer[role])
    if draw(st.booleans()):
        kwargs["headers"]["Idempotency-Key"] = draw(st.sampled_from(HEADER_VALUES))
    if method in ("POST", "PATCH", "PUT", "DELETE"):
        if api:
            if draw(st.integers(0, 4)) == 0:
                body = draw(st.sampled_from(RAW_BODIES))
            else:
                obj = draw(st.dictionaries(st.sampled_from(json_names), json_value, max_size=6))
                body = hostile.raw_json(obj)
            kwargs["data"] = body
            kwargs["content_type"] = "application/json"
        else:
            fields = draw(st.dictionaries(st.sampled_from(form_names), hostile_text, max_size=6))
            kwargs["data"] = {**fields, "csrf_token": w.csrf[role]}
    return client, path, kwargs, role


def test_no_route_answers_5xx_to_hostile_input(app, db, world):  # noqa: F811
    routes = hostile.rules(app)
    json_names = hostile.json_names(world.api) + hostile.query_names()
    form_names = hostile.form_names()
    query_names = hostile.query_names()
    from helpdesk.investigations.operations import open_investigation

    found = open_investigation(
        by=world.cast.supervisor, title="Cobrança duplicada", from_ticket=world.cast.ticket_a
    )
    db.session.commit()
    # valid path values reach the views' bodies; the rest of the draw stays hostile
    valid = {"protocol": world.cast.ticket_a.protocol, "number": found.number}
    seen: set[str] = set()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the message lists each request
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def some_routes(chunk, data):
        failures = []
        for rule in chunk:
            client, path, kwargs, role = _request(
                data.draw, world, rule, json_names, form_names, query_names, valid
            )
            response = client.open(path, **kwargs)
            seen.add(rule.endpoint)
            if response.status_code >= 500:
                failures.append(
                    f"{response.status_code} {kwargs['method']} {path} as {role}: "
                    f"query={kwargs['query_string']!r} body={str(kwargs.get('data'))[:200]!r}"
                )
            db.session.rollback()
        assert not failures, "\n".join(failures)

    # A few routes per example: the draws for every route at once overran Hypothesis's buffer
    # once the app had ~175 routes, and each overrun example was drawn again (~74 examples
    # instead of 8: 13,000 requests, past the 300 s timeout).
    for start in range(0, len(routes), ROUTES_PER_EXAMPLE):
        some_routes(routes[start : start + ROUTES_PER_EXAMPLE])
    assert seen == {r.endpoint for r in routes}
