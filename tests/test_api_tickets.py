"""Tickets through the API: the full flow, a chat connector, idempotency (also under concurrency),
filters, keyset pagination, query counts, bad input, mass assignment and XSS as data."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import test_api_support as support
from tests.test_api_support import API, assert_problem, bearer, headers

cast = support.cast
token_for = support.token_for
headers_for = support.headers_for


@pytest.fixture
def agent(make_user):
    return make_user("agent", password=None, name="Agente Paula")


@pytest.fixture
def agent_headers(agent, token_for):
    return bearer(token_for(agent))


def _ticket_count(db) -> int:
    from helpdesk.tickets.models import Ticket

    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Ticket.id)))


def new_ticket(client, hdrs, **fields):
    body = {
        "kind": "complaint",
        "subject": "Cobrança indevida",
        "description": "Cobraram duas vezes.",
        "customer": {"name": "Maria Souza", "email": "maria@example.com"},
        **fields,
    }
    response = client.post(f"{API}/tickets", json=body, headers=hdrs)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


# the flow ------------------------------------------------------------------------------------


def test_register_get_message_patch_flow(client, db, agent, agent_headers, sent_mail):
    response = client.post(
        f"{API}/tickets",
        json={
            "kind": "complaint",
            "channel": "email",
            "subject": "Produto com defeito",
            "description": "A tela chegou trincada.",
            "remedy": "Troca do aparelho",
            "customer": {
                "name": "João Lima",
                "email": "joao@example.com",
                "phone": "11 98888-7777",
            },
        },
        headers=agent_headers,
    )
    assert response.status_code == 201
    ticket = response.get_json()
    protocol = ticket["protocol"]
    assert response.headers["Location"] == f"{API}/tickets/{protocol}"
    assert ticket["status"] == "new" and ticket["channel"] == "email"
    assert ticket["customer"]["emails"] == ["joao@example.com"]
    assert ticket["customer"]["phones"] == ["+5511988887777"]
    assert ticket["created_at"].endswith("Z")
    assert any("joao@example.com" in m["To"] for m in sent_mail)  # acknowledgement went out

    got = client.get(f"{API}/tickets/{protocol}", headers=agent_headers).get_json()
    for field in ("protocol", "kind", "category", "channel", "subject", "description", "remedy"):
        assert got[field] == ticket[field]
    assert set(got) >= {
        "status", "priority", "department", "assignee", "customer", "created_at", "updated_at",
        "first_response_at", "resolved_at", "closed_at", "links",
    }  # fmt: skip
    assert got["links"]["self"] == f"{API}/tickets/{protocol}"

    reply = client.post(
        f"{API}/tickets/{protocol}/messages",
        json={"body": "Vamos trocar o aparelho."},
        headers=agent_headers,
    )
    assert reply.status_code == 201
    assert reply.get_json()["author_kind"] == "agent"
    thread = client.get(f"{API}/tickets/{protocol}/messages", headers=agent_headers).get_json()
    assert [m["body"] for m in thread["items"]] == ["Vamos trocar o aparelho."]

    patched = client.patch(
        f"{API}/tickets/{protocol}",
        json={"status": "resolved", "priority": "high", "outcome": "Aparelho trocado"},
        headers=agent_headers,
    )
    assert patched.status_code == 200
    body = patched.get_json()
    assert body["status"] == "resolved" and body["priority"] == "high"
    assert body["resolved_at"] and body["first_response_at"]

    events = client.get(f"{API}/tickets/{protocol}/events", headers=agent_headers).get_json()
    actions = [e["action"] for e in events["items"]]
    assert actions[0] == "created"
    assert {"answered", "priority", "status"} <= set(actions)


def test_customer_token_registers_and_replies_for_themself(client, cast):
    from tests.conftest import customer_of

    hdrs = headers(cast, "customer_a")
    response = client.post(
        f"{API}/tickets", json={"kind": "suggestion", "subject": "Horário"}, headers=hdrs
    )
    assert response.status_code == 201
    ticket = response.get_json()
    assert ticket["customer"]["id"] == customer_of(cast.customer_a).id
    reply = client.post(
        f"{API}/tickets/{ticket['protocol']}/messages",
        json={"body": "Mais um detalhe"},
        headers=hdrs,
    )
    assert reply.status_code == 201
    assert reply.get_json()["author_kind"] == "customer"


def test_patch_assign_transfer_and_close(client, cast):
    hdrs = headers(cast, "supervisor")
    protocol = cast.ticket_a.protocol
    url = f"{API}/tickets/{protocol}"

    body = client.patch(url, json={"assignee": cast.agent_x.email}, headers=hdrs).get_json()
    assert body["assignee"]["id"] == cast.agent_x.id
    body = client.patch(url, json={"assignee": None}, headers=hdrs).get_json()
    assert body["assignee"] is None

    bad = client.patch(url, json={"assignee": cast.agent_y.id}, headers=hdrs)
    assert assert_problem(bad, 400)["errors"]["assignee"]
    unknown = client.patch(url, json={"assignee": "nobody@example.com"}, headers=hdrs)
    assert "assignee" in assert_problem(unknown, 400)["errors"]

    no_reason = client.patch(url, json={"department": "Department Y"}, headers=hdrs)
    assert "reason" in assert_problem(no_reason, 400)["errors"]
    moved = client.patch(
        url, json={"department": cast.dept_y.id, "reason": "Assunto financeiro"}, headers=hdrs
    )
    assert moved.status_code == 200
    assert moved.get_json()["department"]["name"] == "Department Y"
    # the supervisor of X no longer sees it; the admin closes it
    assert client.get(url, headers=hdrs).status_code == 404
    admin = headers(cast, "admin")
    assert client.patch(url, json={"status": "closed"}, headers=admin).status_code == 200
    closed = client.post(f"{url}/messages", json={"body": "Oi"}, headers=admin)
    assert_problem(closed, 409, "/problems/ticket-closed")


def test_patch_rejects_wrong_values(client, cast):
    hdrs = headers(cast, "agent_x")
    url = f"{API}/tickets/{cast.ticket_a.protocol}"
    assert (
        "priority"
        in assert_problem(client.patch(url, json={"priority": "very"}, headers=hdrs), 422)["errors"]
    )
    assert (
        "status"
        in assert_problem(client.patch(url, json={"status": "done"}, headers=hdrs), 400)["errors"]
    )
    assert (
        "department"
        in assert_problem(
            client.patch(url, json={"department": 9999, "reason": "x"}, headers=hdrs), 400
        )["errors"]
    )
    assert client.patch(url, json={}, headers=hdrs).status_code == 200


def test_category_by_id_or_name_and_attachments(client, db, agent_headers):
    from helpdesk.tickets.models import Category

    db.session.add(Category(name="Billing", name_pt_br="Cobrança", kinds=["complaint"]))
    db.session.commit()
    pdf = base64.b64encode(b"%PDF-1.4 fake").decode()
    ticket = new_ticket(
        client,
        agent_headers,
        category="cobrança",
        attachments=[{"filename": "fatura.pdf", "content_base64": pdf}],
    )
    assert ticket["category"]["name"] == "Billing"
    assert [a["filename"] for a in ticket["attachments"]] == ["fatura.pdf"]
    bad_type = client.post(
        f"{API}/tickets",
        json={
            "kind": "complaint",
            "subject": "x",
            "customer": {"email": "z@example.com"},
            "attachments": [{"filename": "x.html", "content_base64": pdf}],
        },
        headers=agent_headers,
    )
    assert "attachments" in assert_problem(bad_type, 400)["errors"]
    bad_b64 = client.post(
        f"{API}/tickets",
        json={
            "kind": "complaint",
            "subject": "x",
            "customer": {"email": "z@example.com"},
            "attachments": [{"filename": "x.pdf", "content_base64": "!!not base64!!"}],
        },
        headers=agent_headers,
    )
    assert "attachments" in assert_problem(bad_b64, 422)["errors"]
    unknown = client.post(
        f"{API}/tickets",
        json={
            "kind": "request",
            "subject": "x",
            "customer": {"email": "z@example.com"},
            "category": 999,
        },
        headers=agent_headers,
    )
    assert "category" in assert_problem(unknown, 400)["errors"]


# a chat connector ----------------------------------------------------------------------------


def test_chat_connector_ticket_then_customer_found_by_phone(client, make_user, token_for):
    bot = make_user("agent", password=None, name="Chat bot")
    hdrs = bearer(token_for(bot))
    ticket = new_ticket(
        client,
        hdrs,
        channel="chat",
        subject="Pedido não chegou",
        customer={"name": "Rita Alves", "phone": "+55 (21) 99876-5432"},
    )
    assert ticket["channel"] == "chat"
    found = client.get(f"{API}/customers?phone=21998765432", headers=hdrs)
    assert found.status_code == 200
    items = found.get_json()["items"]
    assert [c["name"] for c in items] == ["Rita Alves"]
    assert items[0]["phones"] == ["+5521998765432"]
    listed = client.get(f"{API}/tickets?customer_phone=(21) 99876-5432", headers=hdrs).get_json()
    assert [t["protocol"] for t in listed["items"]] == [ticket["protocol"]]


# idempotency ---------------------------------------------------------------------------------


def test_idempotency_key_replay_and_conflict(client, db, agent_headers):
    body = {"kind": "request", "subject": "Segunda via", "customer": {"phone": "11987654321"}}
    hdrs = {**agent_headers, "Idempotency-Key": "chat-123"}
    first = client.post(f"{API}/tickets", json=body, headers=hdrs)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = client.post(f"{API}/tickets", json=dict(reversed(body.items())), headers=hdrs)
    assert again.status_code in (200, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["protocol"] == first.get_json()["protocol"]
    assert _ticket_count(db) == 1

    other = client.post(f"{API}/tickets", json={**body, "subject": "Outra"}, headers=hdrs)
    assert_problem(other, 409, "/problems/idempotency-key-reused")
    assert _ticket_count(db) == 1

    fresh = client.post(
        f"{API}/tickets", json=body, headers={**agent_headers, "Idempotency-Key": "chat-124"}
    )
    assert fresh.status_code == 201 and _ticket_count(db) == 2
    too_long = client.post(
        f"{API}/tickets", json=body, headers={**agent_headers, "Idempotency-Key": "k" * 201}
    )
    assert_problem(too_long, 400)


def test_idempotency_keys_are_per_token_owner(client, db, make_user, token_for):
    body = {"kind": "request", "subject": "Segunda via", "customer": {"phone": "11987654321"}}
    one, two = make_user("agent", password=None), make_user("agent", password=None)
    a = client.post(
        f"{API}/tickets", json=body, headers={**bearer(token_for(one)), "Idempotency-Key": "k1"}
    )
    b = client.post(
        f"{API}/tickets", json=body, headers={**bearer(token_for(two)), "Idempotency-Key": "k1"}
    )
    assert a.status_code == b.status_code == 201
    assert a.get_json()["protocol"] != b.get_json()["protocol"]


@pytest.mark.commits
def test_concurrent_posts_with_same_key_create_one_ticket(app, db, agent, token_for):
    raw = token_for(agent)
    body = {
        "kind": "complaint",
        "channel": "chat",
        "subject": "Chat caiu",
        "customer": {"name": "Lia", "phone": "11912345678"},
    }
    barrier = threading.Barrier(10)
    results: list = []

    def post():
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"{API}/tickets",
            json=body,
            headers={**bearer(raw), "Idempotency-Key": "same-key"},
        )
        results.append((response.status_code, (response.get_json() or {}).get("protocol")))

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 10
    assert {status for status, _ in results} <= {200, 201}, results
    assert len({protocol for _, protocol in results}) == 1
    assert _ticket_count(db) == 1


# filters and pagination ----------------------------------------------------------------------


def test_filters(client, db, cast, make_ticket, make_customer):
    import time_machine

    from tests.conftest import customer_of

    hdrs = headers(cast, "admin")
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        old = support.move_ticket(
            db, make_ticket(customer=make_customer(phone="11955554444")), cast.dept_x
        )
    with time_machine.travel(start + timedelta(days=2), tick=False):
        recent = support.move_ticket(
            db, make_ticket(customer=customer_of(cast.customer_a)), cast.dept_y
        )
        recent.status = "open"
        db.session.commit()

    def protocols(query):
        response = client.get(f"{API}/tickets?{query}", headers=hdrs)
        assert response.status_code == 200, response.get_data(as_text=True)
        return {t["protocol"] for t in response.get_json()["items"]}

    a, b = cast.ticket_a.protocol, cast.ticket_b.protocol
    assert protocols("status=open") == {recent.protocol}
    assert protocols("status=new,open") == {a, b, old.protocol, recent.protocol}
    assert protocols("department=Department X") == {a, old.protocol}
    assert protocols(f"department={cast.dept_y.id}") == {b, recent.protocol}
    assert protocols("customer_email=ANA@example.com") == {a, recent.protocol}
    assert protocols("customer_phone=%2B5511955554444") == {old.protocol}
    assert protocols("customer_email=nobody@example.com") == set()
    since = (start + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert recent.protocol in protocols(f"updated_since={since}")
    assert old.protocol not in protocols(f"updated_since={since}")
    assert protocols("updated_since=2025-03-02T09:00:00-03:00") == protocols(
        f"updated_since={since}"
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("department=Nowhere", "department"),
        ("customer_email=not-an-email", "customer_email"),
        ("customer_phone=12", "customer_phone"),
        ("updated_since=yesterday", "updated_since"),
        ("sort=title)%20--", "sort"),
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("cursor=%%%", "cursor"),
        ("cursor=eyJ4IjoxfQ", "cursor"),
    ],
)
def test_bad_list_parameters_are_400(client, agent_headers, query, field):
    body = assert_problem(client.get(f"{API}/tickets?{query}", headers=agent_headers), 400)
    assert field in body["errors"]


@pytest.mark.parametrize("sort", ["newest", "oldest", "updated", "priority"])
def test_keyset_pagination_walks_every_ticket_once(client, db, cast, make_ticket, sort):
    for i in range(12):
        ticket = make_ticket(priority=1 + i % 4)
    del ticket
    hdrs = headers(cast, "admin")
    expected = _ticket_count(db)
    seen: list[str] = []
    url = f"{API}/tickets?limit=5&sort={sort}"
    pages = 0
    while url:
        response = client.get(url, headers=hdrs)
        assert response.status_code == 200
        page = response.get_json()
        assert len(page["items"]) <= 5
        seen += [t["protocol"] for t in page["items"]]
        pages += 1
        if page["next"]:
            assert response.headers["Link"].endswith('rel="next"')
            url = f"{API}/tickets?limit=5&sort={sort}&cursor={page['next']}"
        else:
            url = None
    assert len(seen) == len(set(seen)) == expected == 14
    assert pages == 3


def test_list_query_count_does_not_grow_with_page_size(
    client, db, cast, make_ticket, make_customer, count_queries
):
    from helpdesk.accounts.models import Department

    hdrs = headers(cast, "agent_x")
    dept_x_id = cast.dept_x.id

    def measure():
        db.session.expunge_all()  # the test shares the request's session: start cold
        with count_queries() as q:
            response = client.get(f"{API}/tickets?limit=100", headers=hdrs)
        assert response.status_code == 200
        return q.count, len(response.get_json()["items"])

    few_queries, few = measure()
    dept_x = db.session.get(Department, dept_x_id)
    for i in range(15):
        customer = make_customer(phone=f"+55119{i:08d}" if i % 2 else None)
        support.move_ticket(db, make_ticket(customer=customer), dept_x)
    many_queries, many = measure()
    assert many == few + 15
    assert many_queries == few_queries


# bad input -----------------------------------------------------------------------------------


def test_malformed_json_and_wrong_content_type(client, agent_headers):
    url = f"{API}/tickets"
    assert_problem(
        client.post(url, data="{nope", content_type="application/json", headers=agent_headers),
        400,
        "/problems/malformed-json",
    )
    assert_problem(
        client.post(url, data=b"\xff\xfe", content_type="application/json", headers=agent_headers),
        400,
    )
    assert_problem(
        client.post(url, data="[" * 100000, content_type="application/json", headers=agent_headers),
        400,
    )
    assert_problem(
        client.post(url, data={"kind": "complaint"}, headers=agent_headers),
        415,
        "/problems/unsupported-media-type",
    )
    assert_problem(
        client.post(url, data="", content_type="application/json", headers=agent_headers), 400
    )
    assert_problem(client.post(url, json=[1, 2], headers=agent_headers), 422)
    assert_problem(client.post(url, json="text", headers=agent_headers), 422)


def test_wrong_types_are_422_with_errors(client, agent_headers):
    response = client.post(
        f"{API}/tickets",
        json={"kind": ["complaint"], "subject": 12, "category": True, "customer": "maria"},
        headers=agent_headers,
    )
    body = assert_problem(response, 422)
    assert {"kind", "subject", "category", "customer"} <= set(body["errors"])
    bad_customer = client.post(
        f"{API}/tickets",
        json={"kind": "complaint", "subject": "x", "customer": {"email": 5}},
        headers=agent_headers,
    )
    assert "customer.email" in assert_problem(bad_customer, 422)["errors"]


def test_domain_validation_is_400_with_field(client, agent_headers):
    missing = client.post(
        f"{API}/tickets",
        json={"kind": "complaint", "customer": {"email": "a@example.com"}},
        headers=agent_headers,
    )
    assert "subject" in assert_problem(missing, 400, "/problems/validation")["errors"]
    kind = client.post(
        f"{API}/tickets",
        json={"kind": "praise", "subject": "x", "customer": {"email": "a@example.com"}},
        headers=agent_headers,
    )
    assert "kind" in assert_problem(kind, 400)["errors"]
    no_customer = client.post(
        f"{API}/tickets", json={"kind": "complaint", "subject": "x"}, headers=agent_headers
    )
    assert "customer" in assert_problem(no_customer, 400)["errors"]
    bad_email = client.post(
        f"{API}/tickets",
        json={"kind": "complaint", "subject": "x", "customer": {"email": "nope"}},
        headers=agent_headers,
    )
    assert "customer.email" in assert_problem(bad_email, 400)["errors"]


def test_huge_subject_is_rejected_not_500(client, db, agent_headers):
    response = client.post(
        f"{API}/tickets",
        json={
            "kind": "complaint",
            "subject": "A" * (10 * 1024 * 1024),
            "customer": {"email": "a@example.com"},
        },
        headers=agent_headers,
    )
    assert response.status_code in (400, 413)
    assert response.mimetype == "application/problem+json"
    assert _ticket_count(db) == 0


def test_oversized_body_is_413(client, app, agent_headers):
    size = app.config["MAX_CONTENT_LENGTH"] + 1
    response = client.post(
        f"{API}/tickets",
        data=b'{"subject": "' + b"A" * size + b'"}',
        content_type="application/json",
        headers=agent_headers,
    )
    assert_problem(response, 413)


def test_unknown_protocol_and_wrong_check_digit(client, cast):
    hdrs = headers(cast, "admin")
    unknown = client.get(f"{API}/tickets/{support.unknown_protocol()}", headers=hdrs)
    assert_problem(unknown, 404, "/problems/protocol-not-found")
    typo = support.wrong_check_digit(cast.ticket_a.protocol)
    for method, suffix in (("GET", ""), ("PATCH", ""), ("GET", "/messages"), ("GET", "/events")):
        response = client.open(
            f"{API}/tickets/{typo}{suffix}",
            method=method,
            headers=hdrs,
            json={} if method == "PATCH" else None,
        )
        assert_problem(response, 400, "/problems/invalid-protocol")
    assert_problem(
        client.get(f"{API}/tickets/abc", headers=hdrs), 400, "/problems/invalid-protocol"
    )


# mass assignment and XSS ---------------------------------------------------------------------


def test_customer_token_cannot_mass_assign(client, db, cast):
    from helpdesk.tickets.models import Ticket
    from tests.conftest import customer_of

    response = client.post(
        f"{API}/tickets",
        json={
            "kind": "complaint",
            "subject": "Quero tudo",
            "status": "closed",
            "priority": "urgent",
            "assignee": cast.agent_y.id,
            "assignee_id": cast.agent_y.id,
            "department": cast.dept_y.id,
            "department_id": cast.dept_y.id,
            "customer_id": customer_of(cast.customer_b).id,
            "customer": {"email": "bruno@example.com"},
            "protocol": "202501010000010",
            "created_by_id": cast.admin.id,
            "channel": "phone",
            "role": "admin",
        },
        headers=headers(cast, "customer_a"),
    )
    assert response.status_code in (201, 400, 422)
    if response.status_code == 201:
        body = response.get_json()
        ticket = db.session.scalar(sa.select(Ticket).where(Ticket.protocol == body["protocol"]))
        assert ticket.customer_id == customer_of(cast.customer_a).id
        assert ticket.status == "new"
        assert ticket.priority == 2
        assert ticket.channel == "api"
        assert ticket.created_by_id == cast.customer_a.id
        assert body["protocol"] != "202501010000010"
        assert ticket.assignee_id != cast.agent_y.id
    assert cast.customer_a.role == "customer"


def test_staff_create_ignores_owner_fields_too(client, db, cast):
    body = new_ticket(
        client,
        headers(cast, "admin"),
        status="resolved",
        protocol="202501010000010",
        closed_at="2020-01-01T00:00:00Z",
    )
    assert body["status"] == "new"
    assert body["closed_at"] is None
    assert body["protocol"] != "202501010000010"


def test_xss_payloads_come_back_as_escaped_data(client, agent_headers):
    payload = "<img src=x onerror=alert(1)>"
    svg = '<svg onload="alert(1)">&'
    ticket = new_ticket(
        client,
        agent_headers,
        subject=payload,
        description=svg,
        customer={"name": "<script>alert(1)</script>", "email": "x@example.com"},
    )
    response = client.get(f"{API}/tickets/{ticket['protocol']}", headers=agent_headers)
    raw = response.get_data()
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<img" not in raw and b"<svg" not in raw and b"<script" not in raw
    body = response.get_json()
    assert body["subject"] == payload
    assert body["description"] == svg
    assert body["customer"]["name"] == "<script>alert(1)</script>"
    listed = client.get(f"{API}/tickets", headers=agent_headers)
    assert b"<img" not in listed.get_data()
    problem = client.post(
        f"{API}/tickets",
        json={
            "kind": "complaint",
            "subject": "x",
            "customer": {"email": "x@example.com"},
            "attachments": [{"filename": "<b>x</b>.pdf", "content_base64": "%%"}],
        },
        headers=agent_headers,
    )
    assert b"<b>" not in problem.get_data()
