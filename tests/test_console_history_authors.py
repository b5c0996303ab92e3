"""The history names who really acted: routing, automatic assignment, deadlines and the
escalation sweep are the system's (or the named rule's) work, never the customer's, on the
console ticket page and in GET /api/v1/tickets/<protocol>/events."""

from __future__ import annotations

from .test_api_support import API, bearer
from .test_console_support import *  # noqa: F403 - fixtures
from .test_console_support import login_as


def _register_as_customer(client, token, subject):
    response = client.post(
        f"{API}/tickets",
        json={"kind": "complaint", "channel": "web", "subject": subject, "description": "Veja."},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["protocol"]


def _setup(db, world):
    from helpdesk.accounts.services import issue_api_token
    from helpdesk.routing.services import create_rule
    from helpdesk.sla.policies import create_policy

    create_rule(
        name="Boletos", keywords="boleto", department_id=world.dept_x.id, agent_id=world.agent_x.id
    )
    create_policy(name="Padrão", first_response_minutes=240)
    token = issue_api_token(world.customer_user, "app")
    staff_token = issue_api_token(world.admin, "ops")
    db.session.commit()
    return token, staff_token


def test_console_history_names_the_system_and_the_rule_not_the_customer(client, app, db, world):
    token, _staff = _setup(db, world)
    protocol = _register_as_customer(client, token, "Boleto em dobro")
    login_as(client, app, world.admin)
    page = client.get(f"/console/tickets/{protocol}").get_data(as_text=True)
    history = page.split('id="history"')[1] if 'id="history"' in page else page
    customer = world.customer_user.name
    assert f"{customer} registered the demand" in history  # the customer did register it
    assert "Routing rule “Boletos” assigned it to Ana X." in history
    assert f"{customer} assigned" not in history
    assert f"{customer}: sla" not in history and f"{customer}: " not in history


def test_api_events_give_the_system_as_author_of_routing_and_deadlines(client, app, db, world):
    token, staff_token = _setup(db, world)
    protocol = _register_as_customer(client, token, "Boleto em dobro")
    events = client.get(f"{API}/tickets/{protocol}/events", headers=bearer(staff_token)).get_json()
    by_action = {e["action"]: e for e in events["items"]}
    assert by_action["created"]["actor"]["name"] == world.customer_user.name
    assert by_action["created"]["actor_type"] == "customer"
    for action in ("routed", "assigned", "sla"):
        assert by_action[action]["actor"] is None, by_action[action]
    assert by_action["sla"]["actor_type"] == "system"
    assert by_action["assigned"]["actor_type"] == "routing_rule"
    assert by_action["assigned"]["rule"]["name"] == "Boletos"


def test_sweep_actions_are_named_after_the_escalation_rule(client, app, db, world, make_ticket):
    from datetime import UTC, datetime

    import time_machine

    from helpdesk.escalations import services as esc
    from helpdesk.escalations.sweep import sweep
    from helpdesk.sla.policies import ensure_default_policy

    ensure_default_policy()
    esc.create_rule(
        name="Primeira resposta vencida",
        target="first_response",
        trigger="after_breach",
        offset_minutes=0,
        level=2,
        set_priority=4,
        reassign_department_id=world.dept_y.id,
        reassign_user_id=world.agent_y.id,
    )
    db.session.commit()
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        ticket = place(make_ticket(subject="Sem resposta"), world.dept_x)  # noqa: F405
    sweep(datetime(2026, 3, 3, 12, 1, tzinfo=UTC))
    db.session.commit()
    login_as(client, app, world.admin)
    page = client.get(f"/console/tickets/{ticket.protocol}").get_data(as_text=True)
    assert "Escalation rule “Primeira resposta vencida” changed the priority" in page
    assert (
        "Escalation rule “Primeira resposta vencida” transferred it from Billing to Logistics."
        in page
    )
    assert "Escalation rule “Primeira resposta vencida” assigned it to Yara Y." in page
    assert "removed the assignee" not in page
