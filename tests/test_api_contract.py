"""The answers of the documented API match the OpenAPI document generated from the models.

tests/api_contract.py checks every answer the test client sees; here each route documented by
models is called on purpose (successes and errors), and a serializer that adds, drops or renames
a field is caught.
"""

from __future__ import annotations

import base64

import pytest

from tests import test_api_support as support
from tests.test_api_support import API, headers

cast = support.cast
token_for = support.token_for

PDF = base64.b64encode(b"%PDF-1.4 fake").decode()


def _sweep(client, cast) -> None:
    """Every route documented by models, as staff and as a customer, and its errors."""
    staff, customer = headers(cast, "admin"), headers(cast, "customer_a")
    agent_x = headers(cast, "agent_x")
    url = f"{API}/tickets/{cast.ticket_a.protocol}"
    created = client.post(
        f"{API}/tickets",
        json={
            "kind": "complaint",
            "subject": "Cobrança",
            "description": "Duas vezes",
            "customer": {"name": "Maria", "email": "maria@example.com", "phone": "+5511987654321"},
            "attachments": [{"filename": "fatura.pdf", "content_base64": PDF}],
        },
        headers={**staff, "Idempotency-Key": "k1"},
    )
    assert created.status_code == 201
    own = client.post(f"{API}/tickets", json={"kind": "request", "subject": "Oi"}, headers=customer)
    assert own.status_code == 201
    answers = [
        client.get(f"{API}/tickets", headers=staff),
        client.get(f"{API}/tickets?limit=1", headers=customer),
        client.get(url, headers=staff),
        client.get(url, headers=customer),
        client.patch(url, json={"priority": "high", "assignee": cast.agent_x.id}, headers=staff),
        client.post(f"{url}/messages", json={"body": "Nota", "internal": True}, headers=staff),
        client.post(
            f"{url}/messages",
            json={"body": "Anexo", "attachments": [{"filename": "a.pdf", "content_base64": PDF}]},
            headers=customer,
        ),
        client.get(f"{url}/messages", headers=staff),
        client.get(f"{url}/messages", headers=customer),
        client.get(f"{url}/events", headers=staff),
        client.get(f"{url}/events", headers=customer),
        client.get(f"{API}/customers?email=ana@example.com", headers=staff),
    ]
    assert {r.status_code for r in answers} == {200, 201}
    errors = [
        (client.get(f"{API}/tickets"), 401),
        (client.get(f"{API}/tickets?limit=0", headers=staff), 400),
        (client.get(f"{API}/tickets/202501310000017", headers=staff), 400),  # check digit
        (client.get(f"{API}/tickets/{cast.ticket_b.protocol}", headers=agent_x), 404),
        (client.post(f"{API}/tickets", data="x", headers=staff), 415),
        (client.post(f"{API}/tickets", json={"subject": 1}, headers=staff), 422),
        (client.patch(url, json={"priority": "very"}, headers=staff), 422),
        (client.patch(url, json={}, headers=customer), 403),
        (client.post(f"{url}/messages", json={"internal": "yes"}, headers=staff), 422),
        (client.get(f"{API}/customers", headers=staff), 400),
        (client.get(f"{API}/customers?email=a@example.com", headers=customer), 403),
    ]
    assert [r.status_code for r, _ in errors] == [status for _, status in errors]


def test_every_documented_route_answers_as_documented(client, cast):
    _sweep(client, cast)  # the test client checks each answer against the document


@pytest.mark.parametrize(
    "change",
    [
        lambda data: {**data, "surprise": 1},  # a field the model does not know
        lambda data: {k: v for k, v in data.items() if k != "status"},  # a field left out
        lambda data: {("state" if k == "status" else k): v for k, v in data.items()},  # renamed
        lambda data: {**data, "escalation_level": "high"},  # another type
    ],
    ids=["added", "removed", "renamed", "retyped"],
)
def test_a_serializer_that_drifts_from_its_model_fails(client, cast, monkeypatch, change):
    from helpdesk.api import tickets

    serializer = tickets.ticket_json
    monkeypatch.setattr(tickets, "ticket_json", lambda *a, **kw: change(serializer(*a, **kw)))
    with pytest.raises(AssertionError, match="does not match the document"):
        client.get(f"{API}/tickets/{cast.ticket_a.protocol}", headers=headers(cast, "admin"))


def test_a_problem_with_an_unknown_member_fails(client, cast, monkeypatch):
    from helpdesk.api import errors

    problem = errors.problem
    monkeypatch.setattr(errors, "problem", lambda *a, **kw: problem(*a, **kw, hint="x"))
    with pytest.raises(AssertionError, match="does not match the document"):
        client.get(f"{API}/tickets/202501310000017", headers=headers(cast, "admin"))


def test_every_documented_admin_route_answers_as_documented(client, cast):
    admin, agent = headers(cast, "admin"), headers(cast, "agent_x")
    rule = client.post(
        f"{API}/routing-rules",
        json={"name": "Fatura", "keywords": ["fatura"], "department": "Department X"},
        headers=admin,
    )
    assert rule.status_code == 201
    rule_url = f"{API}/routing-rules/{rule.get_json()['id']}"
    answers = [
        (client.get(f"{API}/departments", headers=agent), 200),
        (client.post(f"{API}/departments", json={"name": "Ouvidoria"}, headers=admin), 201),
        (client.post(f"{API}/departments", json={"name": "Ouvidoria"}, headers=admin), 409),
        (client.post(f"{API}/departments", json={"is_default": 1}, headers=admin), 422),
        (client.get(f"{API}/categories", headers=agent), 200),
        (client.post(f"{API}/categories", json={"name": "Billing"}, headers=admin), 201),
        (client.post(f"{API}/categories", json={"name": "X"}, headers=agent), 403),
        (client.get(f"{API}/routing-rules", headers=admin), 200),
        (client.patch(rule_url, json={"agent": cast.agent_x.email}, headers=admin), 200),
        (client.patch(rule_url, json={"segment": "vip"}, headers=admin), 422),
        (client.patch(rule_url, json={"department": "Nowhere"}, headers=admin), 400),
        (client.patch(f"{API}/routing-rules/999", json={}, headers=admin), 404),
    ]
    assert [r.status_code for r, _ in answers] == [status for _, status in answers]


def test_every_documented_escalation_route_answers_as_documented(client, cast):
    supervisor, agent = headers(cast, "supervisor"), headers(cast, "agent_x")
    ticket_url = f"{API}/tickets/{cast.ticket_a.protocol}"
    raised = client.post(
        f"{ticket_url}/escalations",
        json={"reason": "legal_threat", "note": "Procon"},
        headers=supervisor,
    )
    assert raised.status_code == 201 and raised.get_json()["escalation"]
    url = f"{API}/escalations/{raised.get_json()['escalation']['id']}"
    answers = [
        (client.get(f"{API}/escalations", headers=supervisor), 200),
        (client.get(f"{API}/escalations?state=late", headers=supervisor), 400),
        (client.get(f"{API}/escalations", headers=agent), 403),
        (client.get(url, headers=supervisor), 200),
        (client.get(f"{API}/escalations/999", headers=supervisor), 404),
        (client.post(f"{url}/acknowledge", headers=supervisor), 200),
        (client.post(f"{url}/acknowledge", headers=supervisor), 409),
        (client.post(f"{url}/decision", json={"note": 1}, headers=supervisor), 422),
        (client.post(f"{url}/decision", json={"decision": "fire"}, headers=supervisor), 400),
        (
            client.post(
                f"{url}/decision", json={"decision": "instruct", "note": "x"}, headers=supervisor
            ),
            200,
        ),
        (client.post(f"{ticket_url}/escalations", json={"level": "2"}, headers=agent), 422),
        (
            client.post(
                f"{ticket_url}/escalations", json={"reason": "x", "note": "y"}, headers=agent
            ),
            400,
        ),
    ]
    assert [r.status_code for r, _ in answers] == [status for _, status in answers]


def test_every_documented_channel_route_answers_as_documented(client, cast, make_user, token_for):
    pbx = support.bearer(token_for(make_user("integration", password=None, name="PBX")))
    call = {"call_id": "c-1", "event": "ringing", "caller": "+5511987654321"}
    chat = {"channel": "whatsapp", "conversation_id": "wa-1", "contact": "+5511987654321"}
    answers = [
        (client.post(f"{API}/calls", json=call, headers=pbx), 201),
        (
            client.post(
                f"{API}/calls",
                json={**call, "event": "answered", "agent": cast.agent_x.id},
                headers=pbx,
            ),
            200,
        ),
        (client.post(f"{API}/calls", json={"event": "ringing"}, headers=pbx), 422),
        (client.post(f"{API}/calls", json={**call, "agent": "nobody@x.org"}, headers=pbx), 400),
        (client.post(f"{API}/calls", json=call, headers=headers(cast, "agent_x")), 403),
        (client.post(f"{API}/conversations", json={**chat, "text": "Oi"}, headers=pbx), 201),
        (client.post(f"{API}/conversations", json={**chat, "text": "De novo"}, headers=pbx), 200),
        (client.post(f"{API}/conversations", json={**chat, "kind": "x"}, headers=pbx), 422),
        (client.post(f"{API}/conversations", json={"text": "Oi"}, headers=pbx), 400),
    ]
    assert [r.status_code for r, _ in answers] == [status for _, status in answers]


def test_every_documented_investigation_route_answers_as_documented(client, cast):
    supervisor, customer = headers(cast, "supervisor"), headers(cast, "customer_a")
    opened = client.post(
        f"{API}/investigations",
        json={"title": "Atrasos", "impact": "high", "tickets": [cast.ticket_a.protocol]},
        headers=supervisor,
    )
    assert opened.status_code == 201
    url = opened.headers["Location"]
    action = client.post(
        f"{url}/actions",
        json={"description": "Auditar", "owner": cast.supervisor.email, "due_on": "2030-01-01"},
        headers=supervisor,
    )
    assert action.status_code == 201
    answers = [
        (client.get(f"{API}/investigations?status=active", headers=supervisor), 200),
        (client.get(f"{API}/investigations", headers=customer), 403),
        (client.get(url, headers=supervisor), 200),
        (client.patch(url, json={"impact": "huge"}, headers=supervisor), 422),
        (client.patch(url, json={"status": "closed"}, headers=supervisor), 400),  # not next
        (client.patch(url, json={"status": "analysing"}, headers=supervisor), 200),
        (client.get(f"{url}/tickets", headers=supervisor), 200),
        (client.get(f"{url}/actions", headers=supervisor), 200),
        (
            client.patch(
                f"{url}/actions/{action.get_json()['id']}",
                json={"status": "done", "evidence": "Feito"},
                headers=supervisor,
            ),
            200,
        ),
        (client.post(f"{url}/notify", json={"templates": {"fr": "x"}}, headers=supervisor), 422),
        (client.post(f"{url}/notify", json={"templates": {"en": "Ok"}}, headers=supervisor), 200),
        (client.post(f"{url}/tickets", json={"protocol": 1}, headers=supervisor), 422),
        (
            client.delete(f"{url}/tickets?protocol={cast.ticket_a.protocol}", headers=supervisor),
            204,
        ),
        (
            client.post(
                f"{url}/tickets", json={"protocol": cast.ticket_a.protocol}, headers=supervisor
            ),
            201,
        ),
        (client.get(f"{API}/investigations/INV-99999", headers=supervisor), 404),
    ]
    assert [r.status_code for r, _ in answers] == [status for _, status in answers]
