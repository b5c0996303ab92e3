"""Permission matrix: every /api/v1 endpoint and method for every kind of principal.

Customer A owns ticket A (department X); customer B owns ticket B (department Y). Agents see their
departments, the supervisor is in X, the admin sees everything. Out-of-scope tickets are 404.
"""

from __future__ import annotations

import pytest

from tests import test_api_support as support
from tests.conftest import customer_of, module_world
from tests.kb_matrix import ARTICLE_ROWS, add_article
from tests.test_api_support import API, headers

cast = support.cast
token_for = support.token_for

WHO = ("anonymous", "customer_a", "customer_b", "agent_x", "agent_y", "supervisor", "admin")


def _row(*codes):
    return dict(zip(WHO, codes, strict=True))


STAFF_READ = _row(401, 403, 403, 200, 200, 200, 200)
ADMIN_ONLY = _row(401, 403, 403, 403, 403, 403, 200)
ADMIN_CREATE = _row(401, 403, 403, 403, 403, 403, 201)
TICKET_A_READ = _row(401, 200, 404, 200, 404, 200, 200)
PUBLIC = _row(200, 200, 200, 200, 200, 200, 200)
SUPERVISORS = _row(401, 403, 403, 403, 403, 200, 200)


def _ticket_body(who):
    body = {"kind": "request", "subject": "Segunda via", "channel": "phone"}
    if who not in ("customer_a", "customer_b"):
        body["customer"] = {"name": "Carla", "email": "carla@example.com"}
    return body


MANAGE = _row(401, 403, 403, 403, 403, 200, 200)
INV = "/investigations/<number>"
NOTICE = {"templates": {"en": "Fixed", "es": "Arreglado", "pt_BR": "Corrigido"}}
# the investigation (linked to ticket A, one action owned by agent X) is made in full_cast
INVESTIGATION_ROWS = [
    ("GET", "/investigations", lambda c: "/investigations", None, STAFF_READ),
    (
        "POST",
        "/investigations",
        lambda c: "/investigations",
        lambda w: {"title": "Atrasos"},
        _row(401, 403, 403, 403, 403, 201, 201),
    ),
    ("GET", INV, lambda c: f"/investigations/{c.inv.number}", None, STAFF_READ),
    (
        "PATCH",
        INV,
        lambda c: f"/investigations/{c.inv.number}",
        lambda w: {"status": "analysing"},
        MANAGE,
    ),
    (
        "GET",
        INV + "/tickets",
        lambda c: f"/investigations/{c.inv.number}/tickets",
        None,
        STAFF_READ,
    ),
    (
        "POST",
        INV + "/tickets",
        lambda c: f"/investigations/{c.inv.number}/tickets?protocol={c.ticket_b.protocol}",
        None,
        _row(401, 403, 403, 403, 201, 403, 201),
    ),
    (
        "DELETE",
        INV + "/tickets",
        lambda c: f"/investigations/{c.inv.number}/tickets?protocol={c.ticket_a.protocol}",
        None,
        _row(401, 403, 403, 204, 403, 204, 204),
    ),
    (
        "GET",
        INV + "/actions",
        lambda c: f"/investigations/{c.inv.number}/actions",
        None,
        STAFF_READ,
    ),
    (
        "POST",
        INV + "/actions",
        lambda c: f"/investigations/{c.inv.number}/actions",
        lambda w: {"description": "Auditar", "due_on": "2030-01-01"},
        _row(401, 403, 403, 201, 201, 201, 201),
    ),
    (
        "PATCH",
        INV + "/actions/<int:action_id>",
        lambda c: f"/investigations/{c.inv.number}/actions/{c.inv_action.id}",
        lambda w: {"status": "done", "evidence": "Feito"},
        _row(401, 403, 403, 200, 403, 200, 200),
    ),
    (
        "POST",
        INV + "/notify",
        lambda c: f"/investigations/{c.inv.number}/notify",
        lambda w: NOTICE,
        MANAGE,
    ),
]

OWN_OR_STAFF = _row(401, 200, 404, 200, 200, 200, 200)  # customer A's record: A and any staff
# history requests and the personal-data export (helpdesk/api/compliance.py); the request to
# fulfil is made in full_cast, fulfilling it again answers the same document
RECORD_ROWS = [
    ("GET", "/customers/<int:customer_id>", lambda c: f"/customers/{c.record_a}", None, STAFF_READ),
    (
        "PATCH",
        "/customers/<int:customer_id>",
        lambda c: f"/customers/{c.record_a}",
        lambda w: {"lifecycle_stage": "commitment"},
        STAFF_READ,
    ),
    (
        "POST",
        "/customers/<int:customer_id>/history-requests",
        lambda c: f"/customers/{c.record_a}/history-requests",
        lambda w: {},
        _row(401, 201, 404, 201, 201, 201, 201),
    ),
    (
        "GET",
        "/customers/<int:customer_id>/history-requests",
        lambda c: f"/customers/{c.record_a}/history-requests",
        None,
        OWN_OR_STAFF,
    ),
    (
        "POST",
        "/history-requests/<int:request_id>/fulfil",
        lambda c: f"/history-requests/{c.history_request}/fulfil",
        None,
        _row(401, 403, 403, 200, 200, 200, 200),
    ),
    (
        "GET",
        "/customers/<int:customer_id>/export",
        lambda c: f"/customers/{c.record_a}/export",
        None,
        OWN_OR_STAFF,
    ),
]

STAFF_WORK_A = _row(401, 403, 403, 200, 404, 200, 200)  # staff who may work ticket A
MACRO_ROWS = [
    ("GET", "/tags", lambda c: "/tags", None, STAFF_READ),
    ("GET", "/macros", lambda c: "/macros", None, STAFF_READ),
    (
        "POST",
        "/macros",
        lambda c: "/macros",
        lambda w: {"name": "Mine", "scope": "personal", "body_pt_br": "Olá"},
        _row(401, 403, 403, 201, 201, 201, 201),
    ),
    (
        "PATCH",
        "/macros/<int:macro_id>",
        lambda c: f"/macros/{c.macro.id}",
        lambda w: {"name": "Global"},
        ADMIN_ONLY,  # a global macro: only admins manage it
    ),
    (
        "DELETE",
        "/macros/<int:macro_id>",
        lambda c: f"/macros/{c.macro.id}",
        None,
        _row(401, 403, 403, 403, 403, 403, 204),
    ),
    (
        "POST",
        "/tickets/<protocol>/macros/<int:macro_id>",
        lambda c: f"/tickets/{c.ticket_a.protocol}/macros/{c.macro.id}",
        lambda w: {},
        STAFF_WORK_A,
    ),
    (
        "POST",
        "/tickets/bulk",
        lambda c: "/tickets/bulk",
        lambda w: {"protocols": [c_protocol_a()], "changes": {"add_tags": ["x"]}},
        STAFF_READ,  # agent Y's answer lists ticket A as refused
    ),
]


def c_protocol_a() -> str:
    return _WORLD["protocol_a"]


_WORLD: dict = {}

# (method, rule as registered, path builder, body builder, expected codes)
MATRIX = [
    ("GET", "/tickets", lambda c: "/tickets", None, _row(401, 200, 200, 200, 200, 200, 200)),
    (
        "POST",
        "/tickets",
        lambda c: "/tickets",
        _ticket_body,
        _row(401, 201, 201, 201, 201, 201, 201),
    ),
    (
        "GET",
        "/tickets/<protocol>",
        lambda c: f"/tickets/{c.ticket_a.protocol}",
        None,
        TICKET_A_READ,
    ),
    (
        "PATCH",
        "/tickets/<protocol>",
        lambda c: f"/tickets/{c.ticket_a.protocol}",
        lambda who: {"priority": "high"},
        _row(401, 403, 403, 200, 404, 200, 200),
    ),
    (
        "GET",
        "/tickets/<protocol>/messages",
        lambda c: f"/tickets/{c.ticket_a.protocol}/messages",
        None,
        TICKET_A_READ,
    ),
    (
        "POST",
        "/tickets/<protocol>/messages",
        lambda c: f"/tickets/{c.ticket_a.protocol}/messages",
        lambda who: {"body": "Alguma novidade?"},
        _row(401, 201, 404, 201, 404, 201, 201),
    ),
    (
        "GET",
        "/tickets/<protocol>/events",
        lambda c: f"/tickets/{c.ticket_a.protocol}/events",
        None,
        TICKET_A_READ,
    ),
    (
        # no "into": staff who may work it are told what is missing (400); others never get there
        "POST",
        "/tickets/<protocol>/merge",
        lambda c: f"/tickets/{c.ticket_a.protocol}/merge",
        lambda who: {},
        _row(401, 403, 403, 400, 404, 400, 400),
    ),
    ("GET", "/customers", lambda c: "/customers?email=ana@example.com", None, STAFF_READ),
    ("GET", "/departments", lambda c: "/departments", None, STAFF_READ),
    (
        "POST",
        "/departments",
        lambda c: "/departments",
        lambda w: {"name": "Ouvidoria"},
        ADMIN_CREATE,
    ),
    ("GET", "/categories", lambda c: "/categories", None, STAFF_READ),
    ("POST", "/categories", lambda c: "/categories", lambda w: {"name": "Billing"}, ADMIN_CREATE),
    ("GET", "/routing-rules", lambda c: "/routing-rules", None, ADMIN_ONLY),
    (
        "POST",
        "/routing-rules",
        lambda c: "/routing-rules",
        lambda w: {"name": "Fatura", "keywords": "fatura", "department": "Department Y"},
        ADMIN_CREATE,
    ),
    (
        "PATCH",
        "/routing-rules/<int:rule_id>",
        lambda c: f"/routing-rules/{c.rule.id}",
        lambda w: {"active": False},
        ADMIN_ONLY,
    ),
    ("GET", "/escalations", lambda c: "/escalations", None, SUPERVISORS),
    ("GET", "/reports", lambda c: "/reports", None, SUPERVISORS),
    ("GET", "/reports/<name>", lambda c: "/reports/volume_by_kind", None, SUPERVISORS),
    (
        "GET",
        "/escalations/<int:escalation_id>",
        lambda c: f"/escalations/{c.escalation.id}",
        None,
        SUPERVISORS,
    ),
    (
        "POST",
        "/escalations/<int:escalation_id>/acknowledge",
        lambda c: f"/escalations/{c.escalation.id}/acknowledge",
        None,
        SUPERVISORS,
    ),
    (
        "POST",
        "/escalations/<int:escalation_id>/decision",
        lambda c: f"/escalations/{c.escalation.id}/decision",
        lambda w: {"decision": "instruct", "note": "Ofereça a troca."},
        SUPERVISORS,
    ),
    (
        "POST",
        "/tickets/<protocol>/escalations",
        lambda c: f"/tickets/{c.ticket_a.protocol}/escalations",
        lambda w: {"reason": "complex_case", "note": "Precisa de alçada."},
        # customers may escalate only after the deadline (409 before it)
        _row(401, 409, 404, 201, 404, 201, 201),
    ),
    (
        "POST",
        "/calls",
        lambda c: "/calls",
        lambda w: {"call_id": f"matrix-{w}", "event": "ringing", "caller": "+5511987654321"},
        ADMIN_CREATE,  # and integration accounts: tests/test_cti.py
    ),
    (
        "POST",
        "/conversations",
        lambda c: "/conversations",
        lambda w: {
            "channel": "chat",
            "conversation_id": f"matrix-{w}",
            "contact": f"visitor-{w}",
            "text": "Olá",
        },
        ADMIN_CREATE,  # and integration accounts: tests/test_connectors.py
    ),
    *INVESTIGATION_ROWS,
    *MACRO_ROWS,
    *ARTICLE_ROWS,
    *RECORD_ROWS,
    ("GET", "/openapi.json", lambda c: "/openapi.json", None, PUBLIC),
    ("GET", "/docs", lambda c: "/docs", None, PUBLIC),
]


@module_world
def full_cast(cast, db):
    from helpdesk.escalations.services import escalate_by_agent
    from helpdesk.routing.services import create_rule

    cast.rule = create_rule(name="Regra", keywords="zzz", department_id=cast.dept_y.id)
    cast.escalation = escalate_by_agent(
        cast.ticket_a, cast.agent_x, reason="complex_case", note="Caso difícil."
    )
    from datetime import date

    from helpdesk.investigations.capa import add_action
    from helpdesk.investigations.operations import open_investigation

    cast.inv = open_investigation(by=cast.supervisor, title="Atrasos", from_ticket=cast.ticket_a)
    cast.inv_action = add_action(
        cast.inv,
        cast.supervisor,
        description="Auditar",
        owner=cast.agent_x,
        due_on=date(2030, 1, 1),
    )
    from helpdesk.macros.services import MacroValues, create_macro

    cast.macro = create_macro(
        cast.admin, MacroValues(name="Global", scope="global", body_pt_br="Olá")
    )
    _WORLD["protocol_a"] = cast.ticket_a.protocol
    add_article(cast)
    from helpdesk.compliance.models import DataRequest
    from helpdesk.core.clock import now

    cast.record_a = customer_of(cast.customer_a).id
    # without its ticket (a request_history ticket would join the scoped lists below)
    pending = DataRequest(
        customer_id=cast.record_a,
        kind="history",
        channel="phone",
        status="open",
        requested_at=now(),
    )
    db.session.add(pending)
    db.session.flush()
    cast.history_request = pending.id
    db.session.commit()
    return cast


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(
    ("method", "rule", "path", "body", "expected"),
    MATRIX,
    ids=[f"{m} {r}" for m, r, *_ in MATRIX],
)
def test_permission_matrix(client, full_cast, who, method, rule, path, body, expected):
    response = client.open(
        API + path(full_cast),
        method=method,
        headers=headers(full_cast, who),
        json=body(who) if body else None,
    )
    assert response.status_code == expected[who], response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"


def test_matrix_covers_every_api_route(app):
    covered = {(method, API + rule) for method, rule, *_ in MATRIX}
    registered = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert registered == covered


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("customer_a", {"a"}),
        ("customer_b", {"b"}),
        ("agent_x", {"a"}),
        ("agent_y", {"b"}),
        ("supervisor", {"a"}),
        ("admin", {"a", "b"}),
    ],
)
def test_list_is_scoped(client, cast, who, visible):
    protocols = {"a": cast.ticket_a.protocol, "b": cast.ticket_b.protocol}
    items = client.get(f"{API}/tickets", headers=headers(cast, who)).get_json()["items"]
    assert {i["protocol"] for i in items} == {protocols[k] for k in visible}


def test_agent_sees_ticket_assigned_to_them_in_another_department(client, db, cast):
    support.move_ticket(db, cast.ticket_b, cast.dept_y, assignee=cast.agent_x)
    items = client.get(f"{API}/tickets", headers=headers(cast, "agent_x")).get_json()["items"]
    assert cast.ticket_b.protocol in {i["protocol"] for i in items}
    response = client.get(
        f"{API}/tickets/{cast.ticket_b.protocol}", headers=headers(cast, "agent_x")
    )
    assert response.status_code == 200


def test_out_of_scope_is_indistinguishable_from_unknown(client, cast):
    foreign = client.get(
        f"{API}/tickets/{cast.ticket_b.protocol}", headers=headers(cast, "customer_a")
    )
    unknown = client.get(
        f"{API}/tickets/{support.unknown_protocol()}", headers=headers(cast, "customer_a")
    )
    assert foreign.status_code == unknown.status_code == 404
    assert (
        foreign.get_json()["type"] == unknown.get_json()["type"] == "/problems/protocol-not-found"
    )


def test_customer_filters_cannot_widen_scope(client, cast):
    response = client.get(
        f"{API}/tickets?customer_email=bruno@example.com&department=Department Y",
        headers=headers(cast, "customer_a"),
    )
    assert response.status_code == 200
    assert response.get_json()["items"] == []


def test_internal_notes_and_events_hidden_from_customers(client, cast):
    protocol = cast.ticket_a.protocol
    note = client.post(
        f"{API}/tickets/{protocol}/messages",
        json={"body": "Cliente recorrente, cuidado", "internal": True},
        headers=headers(cast, "agent_x"),
    )
    assert note.status_code == 201
    staff_msgs = client.get(f"{API}/tickets/{protocol}/messages", headers=headers(cast, "agent_x"))
    cust_msgs = client.get(
        f"{API}/tickets/{protocol}/messages", headers=headers(cast, "customer_a")
    )
    assert any(m["internal"] for m in staff_msgs.get_json()["items"])
    assert not any(m["internal"] for m in cust_msgs.get_json()["items"])
    assert "cuidado" not in cust_msgs.get_data(as_text=True)
    staff_events = client.get(f"{API}/tickets/{protocol}/events", headers=headers(cast, "agent_x"))
    cust_events = client.get(
        f"{API}/tickets/{protocol}/events", headers=headers(cast, "customer_a")
    )
    assert any(not e["public"] for e in staff_events.get_json()["items"])
    assert cust_events.get_json()["items"]
    assert all(e["public"] for e in cust_events.get_json()["items"])


def test_customer_cannot_write_internal_note(client, cast):
    response = client.post(
        f"{API}/tickets/{cast.ticket_a.protocol}/messages",
        json={"body": "psst", "internal": True},
        headers=headers(cast, "customer_a"),
    )
    support.assert_problem(response, 403)


def test_customer_view_hides_staff_details(client, cast):
    body = client.get(
        f"{API}/tickets/{cast.ticket_a.protocol}", headers=headers(cast, "customer_a")
    ).get_json()
    assert "document" not in body["customer"]
    assert body["assignee"] is None or "email" not in body["assignee"]
