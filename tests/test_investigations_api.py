"""API v1 investigations: permission matrix per route and token, create/read/update, closing
refused as problem+json that says why, link/unlink by protocol, actions, notices."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk.investigations import capa, dates, operations
from tests.test_api_support import API, headers
from tests.test_api_support import cast as cast  # noqa: F401 - fixture
from tests.test_api_support import token_for as token_for  # noqa: F401 - fixture

ROLES = ["anonymous", "customer_a", "agent_x", "agent_y", "supervisor", "admin"]
STAFF = {"agent_x", "agent_y", "supervisor", "admin"}
MANAGERS = {"supervisor", "admin"}


@pytest.fixture
def case(cast, db):
    inv = operations.open_investigation(
        by=cast.supervisor, title="Late deliveries", from_ticket=cast.ticket_a
    )
    action = capa.add_action(
        inv, cast.supervisor, description="Audit", owner=cast.agent_x,
        due_on=dates.today() + timedelta(days=3),
    )  # fmt: skip
    db.session.commit()
    cast.inv, cast.number, cast.action = inv, inv.number, action
    return cast


def _call(client, c, who, method, path, json=None):
    kwargs = {"headers": headers(c, who)}
    if json is not None:
        kwargs["json"] = json
    return getattr(client, method)(path, **kwargs)


ROUTES = [
    # (method, path, body, roles that succeed, success status)
    ("get", "/investigations", None, STAFF, 200),
    ("post", "/investigations", {"title": "New one"}, MANAGERS, 201),
    ("get", "/investigations/{number}", None, STAFF, 200),
    ("patch", "/investigations/{number}", {"status": "analysing"}, MANAGERS, 200),
    ("get", "/investigations/{number}/tickets", None, STAFF, 200),
    ("get", "/investigations/{number}/actions", None, STAFF, 200),
    (
        "post",
        "/investigations/{number}/actions",
        {"description": "Idea", "owner": "{owner}", "due_on": "2030-01-01"},
        STAFF,
        201,
    ),
    (
        "patch",
        "/investigations/{number}/actions/{action}",
        {"status": "done", "evidence": "Audited"},
        {"agent_x", "supervisor", "admin"},
        200,
    ),
    (
        "post",
        "/investigations/{number}/notify",
        {"templates": {"en": "Fixed", "es": "Arreglado", "pt_BR": "Corrigido"}},
        MANAGERS,
        200,
    ),
]


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("method,path,body,allowed,ok", ROUTES)
def test_permission_matrix(client, case, who, method, path, body, allowed, ok):
    path = API + path.format(number=case.number, action=case.action.id)
    if body and body.get("owner") == "{owner}":
        body = {**body, "owner": case.agent_x.email}
    response = _call(client, case, who, method, path, body)
    if who == "anonymous":
        assert response.status_code == 401
    elif who in allowed:
        assert response.status_code == ok, response.get_json()
    else:
        assert response.status_code == 403, response.get_json()
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("who", ROLES)
def test_link_and_unlink_matrix(client, case, who):
    """Linking needs a staff token that can work the ticket (agent_y works department Y)."""
    path = f"{API}/investigations/{case.number}/tickets"
    protocol = case.ticket_b.protocol  # department Y
    response = _call(client, case, who, "post", path, {"protocol": protocol})
    expected = {"anonymous": 401, "customer_a": 403, "agent_x": 403, "supervisor": 403}
    assert response.status_code == expected.get(who, 201), response.get_json()
    if response.status_code == 201:
        assert response.get_json()["recurrence"] is False
        gone = _call(client, case, who, "delete", f"{path}?protocol={protocol}")
        assert gone.status_code == 204


def test_close_refused_is_problem_json_that_says_why(client, case, db):
    h = headers(case, "supervisor")
    url = f"{API}/investigations/{case.number}"
    body = {"root_cause": "Courier route", "ishikawa": "method", "metric": "Complaints/week",
            "check_on": "2030-01-01", "status": "analysing"}  # fmt: skip
    assert client.patch(url, json=body, headers=h).status_code == 200
    for status in ("acting", "verifying"):
        r = client.patch(url, json={"status": status}, headers=h)
        assert r.status_code == 200, r.get_json()
    r = client.patch(url, json={"status": "closed", "result": "N/A"}, headers=h)
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    problem = r.get_json()
    assert problem["type"] == "/problems/investigation-close-refused"
    assert set(problem["errors"]) >= {"actions", "result"}
    assert "N/A" in problem["errors"]["result"] and "cannot be closed" in problem["detail"]
    # nothing of the refused request was kept
    assert client.get(url, headers=h).get_json()["effectiveness"]["result"] == ""
    done = client.patch(
        f"{url}/actions/{case.action.id}", json={"status": "done", "evidence": "ok, audited"},
        headers=h,
    )  # fmt: skip
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    r = client.patch(
        url, json={"status": "closed", "result": "2/week", "verdict": "effective"}, headers=h
    )
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    # a ticket linked now is a recurrence
    r = client.post(
        f"{url}/tickets", json={"protocol": case.ticket_b.protocol},
        headers=headers(case, "admin"),
    )  # fmt: skip
    assert r.status_code == 201 and r.get_json()["recurrence"] is True
    assert client.get(url, headers=h).get_json()["recurrences"] == 1


def test_create_with_tickets_and_errors(client, case):
    h = headers(case, "admin")
    r = client.post(
        f"{API}/investigations",
        json={"title": "Billing", "impact": "high", "tickets": [case.ticket_b.protocol],
              "keywords": "fatura, cobrança", "owner": case.supervisor.email},
        headers=h,
    )  # fmt: skip
    assert r.status_code == 201, r.get_json()
    data = r.get_json()
    assert data["number"].startswith("INV-") and r.headers["Location"].endswith(data["number"])
    assert [t["protocol"] for t in data["tickets"]] == [case.ticket_b.protocol]
    assert data["impact"] == "high" and data["owner"]["id"] == case.supervisor.id
    # the same ticket cannot be in two investigations
    r = client.post(
        f"{API}/investigations/{case.number}/tickets",
        json={"protocol": case.ticket_b.protocol}, headers=h,
    )  # fmt: skip
    assert r.status_code == 409 and data["number"] in r.get_json()["detail"]
    assert client.post(f"{API}/investigations", json={}, headers=h).status_code == 400
    bad = client.post(f"{API}/investigations", json={"title": "x", "impact": "huge"}, headers=h)
    assert bad.status_code == 422 and "impact" in bad.get_json()["errors"]
    assert client.get(f"{API}/investigations/INV-99999", headers=h).status_code == 404
    assert client.get(f"{API}/investigations?status=nope", headers=h).status_code == 400
    cancel = client.patch(
        f"{API}/investigations/{data['number']}", json={"status": "cancelled"}, headers=h
    )
    assert cancel.status_code == 400 and "reason" in cancel.get_json()["errors"]


def test_list_is_paged_by_cursor(client, case, db):
    for i in range(3):
        operations.open_investigation(by=case.supervisor, title=f"P{i}")
    db.session.commit()
    h = headers(case, "agent_y")
    first = client.get(f"{API}/investigations?limit=2", headers=h).get_json()
    assert len(first["items"]) == 2 and first["next"]
    rest = client.get(f"{API}/investigations?limit=2&cursor={first['next']}", headers=h).get_json()
    numbers = [i["number"] for i in first["items"] + rest["items"]]
    assert len(numbers) == len(set(numbers)) == 4


def test_agent_proposes_an_action_and_notify_is_idempotent(client, case, db):
    r = client.post(
        f"{API}/investigations/{case.number}/actions",
        json={"description": "Call the courier"}, headers=headers(case, "agent_y"),
    )  # fmt: skip
    assert r.status_code == 201 and r.get_json()["status"] == "proposed"
    body = {"templates": {"en": "Fixed {protocol}", "es": "Listo", "pt_BR": "Pronto"}}
    h = headers(case, "supervisor")
    first = client.post(f"{API}/investigations/{case.number}/notify", json=body, headers=h)
    again = client.post(f"{API}/investigations/{case.number}/notify", json=body, headers=h)
    assert first.get_json() == {"sent": 1, "skipped": 0, "already": 0}
    assert again.get_json() == {"sent": 0, "skipped": 0, "already": 1}
