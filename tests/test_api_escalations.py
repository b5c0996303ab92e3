"""Escalations through the API: list with filters and pages, acknowledge and decide as in the
console, escalate a ticket, and `escalation_level` on the ticket."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from tests import test_api_support as support
from tests.test_api_support import API, headers

cast = support.cast
token_for = support.token_for


def _escalate(cast, db, n=1):
    from helpdesk.escalations.services import escalate_by_agent

    found = []
    for _ in range(n):
        found.append(
            escalate_by_agent(cast.ticket_a, cast.agent_x, reason="complex_case", note="Ajuda")
        )
    db.session.commit()
    return found


def test_list_filters_and_pages(client, cast, db):
    first, second = _escalate(cast, db, 2)
    h = headers(cast, "supervisor")
    page = client.get(f"{API}/escalations?limit=1", headers=h)
    assert page.status_code == 200
    body = page.get_json()
    assert [e["id"] for e in body["items"]] == [second.id]
    assert body["items"][0]["ticket"] == cast.ticket_a.protocol
    assert body["items"][0]["state"] == "open" and body["items"][0]["level"] == 2
    assert 'rel="next"' in page.headers["Link"]
    rest = client.get(f"{API}/escalations?limit=1&cursor={body['next']}", headers=h).get_json()
    assert [e["id"] for e in rest["items"]] == [first.id] and rest["next"] is None
    by_level = client.get(f"{API}/escalations?level=1", headers=h).get_json()
    assert [e["id"] for e in by_level["items"]] == [first.id]
    by_ticket = client.get(f"{API}/escalations?ticket={cast.ticket_b.protocol}", headers=h)
    assert by_ticket.get_json()["items"] == []
    # the other department's supervisor-less view: admin sees all, filter by department
    admin = headers(cast, "admin")
    other = client.get(f"{API}/escalations?department={cast.dept_y.id}", headers=admin)
    assert other.get_json()["items"] == []


def test_bad_filters_are_problems_in_the_users_language(client, cast, db):
    h = {**headers(cast, "supervisor"), "Accept-Language": "pt-BR"}
    for query, field in (("state=late", "state"), ("level=9", "level"), ("cursor=x", "cursor")):
        response = client.get(f"{API}/escalations?{query}", headers=h)
        assert response.status_code == 400, query
        assert response.mimetype == "application/problem+json"
        assert field in response.get_json()["errors"]
    response = client.get(f"{API}/escalations?state=late", headers=h)
    assert "Estado desconhecido" in response.get_json()["errors"]["state"]


def test_acknowledge_then_decide_and_conflicts(client, cast, db):
    (escalation,) = _escalate(cast, db)
    h = headers(cast, "supervisor")
    url = f"{API}/escalations/{escalation.id}"
    ack = client.post(f"{url}/acknowledge", headers=h)
    assert ack.status_code == 200 and ack.get_json()["state"] == "acknowledged"
    assert client.post(f"{url}/acknowledge", headers=h).status_code == 409
    missing = client.post(f"{url}/decision", headers=h, json={"decision": "de_escalate"})
    assert missing.status_code == 400 and "note" in missing.get_json()["errors"]
    wrong = client.post(f"{url}/decision", headers=h, json={"decision": "fire"})
    assert wrong.status_code == 400 and "decision" in wrong.get_json()["errors"]
    moved = client.post(
        f"{url}/decision",
        headers=h,
        json={"decision": "reassign", "department": cast.dept_y.name, "note": "Financeiro"},
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["state"] == "closed" and moved.get_json()["decision"] == "reassign"
    db.session.refresh(cast.ticket_a)
    assert cast.ticket_a.department_id == cast.dept_y.id
    again = client.post(f"{url}/decision", headers=h, json={"decision": "instruct", "note": "x"})
    assert again.status_code == 409


def test_ticket_shows_its_escalation_level_and_next_response(client, cast, db):
    h = headers(cast, "agent_x")
    url = f"{API}/tickets/{cast.ticket_a.protocol}"
    assert client.get(url, headers=h).get_json()["escalation_level"] == 0
    response = client.post(
        f"{url}/escalations", headers=h, json={"reason": "legal_threat", "note": "Procon"}
    )
    assert response.status_code == 201 and response.get_json()["escalation_level"] == 1
    assert "escalation" not in response.get_json()  # agents do not get the record
    assert client.get(url, headers=h).get_json()["escalation_level"] == 1
    bad = client.post(f"{url}/escalations", headers=h, json={"reason": "x", "note": "y"})
    assert bad.status_code == 400 and "reason" in bad.get_json()["errors"]


def test_customer_escalates_to_the_ombudsman_after_the_deadline(client, cast, db):
    from helpdesk.sla.clocks import recompute_sla
    from helpdesk.sla.policies import ensure_default_policy

    ensure_default_policy()
    recompute_sla(cast.ticket_a)
    db.session.commit()
    due = cast.ticket_a.sla_due_at
    h = headers(cast, "customer_a")
    url = f"{API}/tickets/{cast.ticket_a.protocol}/escalations"
    early = client.post(url, headers=h, json={"note": "Quero resposta"})
    assert early.status_code == 409 and early.mimetype == "application/problem+json"
    with time_machine.travel(datetime(2099, 1, 1, tzinfo=UTC), tick=False):
        late = client.post(url, headers=h, json={"note": "Ninguém respondeu"})
    assert due is not None
    assert late.status_code == 201 and late.get_json()["escalation_level"] == 3
