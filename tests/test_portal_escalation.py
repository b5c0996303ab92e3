"""The customer's escalation to the ombudsman: the portal's button after the deadline passed, the
notice once the demand is there, and "not resolved" on an answered demand (record_verdict, so
every surface) sending it to the ombudsman."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.escalations.models import Escalation
from helpdesk.escalations.verdicts import record_verdict
from helpdesk.sla.policies import ensure_default_policy
from helpdesk.tickets import services as tickets
from tests.conftest import customer_of

from .test_portal_support import *  # noqa: F403
from .test_portal_support import fresh, login_as, page, post

REGISTERED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # resolution due 9 March 12:00 UTC
BEFORE = REGISTERED + timedelta(days=6)
AFTER = REGISTERED + timedelta(days=8)


@pytest.fixture
def ombudsman(make_department):
    return make_department("Ouvidoria", is_ombudsman=True)


@pytest.fixture
def customer(make_user):
    return make_user(role="customer", name="Maria Cliente")


@pytest.fixture
def demand(db, customer, make_ticket, ombudsman, default_department):
    ensure_default_policy()
    db.session.commit()
    with time_machine.travel(REGISTERED, tick=False):
        return make_ticket(customer=customer_of(customer), subject="Geladeira não chegou")


def escalations(db, ticket):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Escalation).where(Escalation.ticket_id == ticket.id)))


def test_no_button_before_the_deadline_and_a_post_is_refused(client, db, customer, demand):
    with time_machine.travel(BEFORE, tick=False):
        login_as(client, customer)
        url = f"/portal/demands/{demand.protocol}"
        assert "Escalate to the ombudsman" not in page(client.get(url))
        response = post(client, f"{url}/escalate", {"note": "Cadê?"}, csrf_path=url)
    assert response.status_code == 409
    assert "You can escalate once the deadline has passed." in page(response)
    assert escalations(db, demand) == []


def test_customer_escalates_after_the_deadline(client, db, customer, demand, ombudsman):
    with time_machine.travel(AFTER, tick=False):
        login_as(client, customer)
        url = f"/portal/demands/{demand.protocol}"
        html = page(client.get(url))
        assert "The deadline for your demand has passed" in html
        assert "Escalate to the ombudsman" in html
        response = post(client, f"{url}/escalate", {"note": "Já passou o prazo."}, csrf_path=url)
        assert response.status_code == 302
        html = page(client.get(url))
    assert "Your demand is with the ombudsman" in html
    assert "Escalate to the ombudsman" not in html
    (escalation,) = escalations(db, demand)
    assert (escalation.level, escalation.trigger, escalation.reason) == (
        3,
        "customer",
        "deadline_passed",
    )
    assert escalation.note == "Já passou o prazo."
    ticket = fresh(demand)
    assert (ticket.escalation_level, ticket.department_id) == (3, ombudsman.id)


def test_escalating_twice_is_refused(client, db, customer, demand):
    with time_machine.travel(AFTER, tick=False):
        login_as(client, customer)
        url = f"/portal/demands/{demand.protocol}"
        post(client, f"{url}/escalate", {}, csrf_path=url)
        response = post(client, f"{url}/escalate", {}, csrf_path=url)
    assert response.status_code == 409
    assert "already with the ombudsman" in page(response)
    assert len(escalations(db, demand)) == 1


def test_note_too_long_is_an_error_next_to_the_field(client, db, customer, demand):
    with time_machine.travel(AFTER, tick=False):
        login_as(client, customer)
        url = f"/portal/demands/{demand.protocol}"
        response = post(client, f"{url}/escalate", {"note": "x" * 2001}, csrf_path=url)
    assert response.status_code == 400
    html = page(response)
    assert "has-error" in html.split("Anything the ombudsman should know")[0].rsplit("<div", 1)[1]
    assert escalations(db, demand) == []


@pytest.mark.parametrize("who", ["anonymous", "other_customer", "agent"])
def test_only_the_owner_can_escalate(client, db, make_user, demand, who):
    url = f"/portal/demands/{demand.protocol}"
    with time_machine.travel(AFTER, tick=False):
        if who == "other_customer":
            login_as(client, make_user(role="customer"))
        elif who == "agent":
            login_as(client, make_user(role="agent"))
        csrf_path = {"anonymous": "/login", "other_customer": "/", "agent": "/console/"}[who]
        response = post(client, f"{url}/escalate", {}, csrf_path=csrf_path)
    expected = {"anonymous": 302, "other_customer": 404, "agent": 403}[who]
    assert response.status_code == expected
    assert escalations(db, demand) == []


@pytest.mark.csrf
def test_escalate_needs_csrf_and_post(client, db, customer, demand):
    with time_machine.travel(AFTER, tick=False):
        login_as(client, customer)
        url = f"/portal/demands/{demand.protocol}/escalate"
        assert client.post(url, data={}).status_code == 400
        assert client.get(url).status_code == 405
    assert escalations(db, demand) == []


# "not resolved" ---------------------------------------------------------------------------------


@pytest.fixture
def answered(db, demand, make_user):
    agent = make_user(role="agent", name="Agente Ana")
    with time_machine.travel(REGISTERED + timedelta(hours=2), tick=False):
        tickets.add_message(demand, agent, "Entrega reagendada para amanhã.")
        db.session.commit()
    return demand


def test_not_resolved_in_the_portal_sends_it_to_the_ombudsman(
    client, db, customer, answered, ombudsman
):
    with time_machine.travel(REGISTERED + timedelta(days=1), tick=False):
        login_as(client, customer)
        url = f"/portal/demands/{answered.protocol}"
        response = post(
            client,
            f"{url}/verdict",
            {"resolved": "no", "comment": "Não chegou de novo."},
            csrf_path=url,
        )
        assert response.status_code == 302
        html = page(client.get(url))
    assert "Your demand is with the ombudsman" in html
    (escalation,) = escalations(db, answered)
    assert (escalation.level, escalation.trigger, escalation.reason) == (
        3,
        "customer",
        "not_resolved",
    )
    ticket = fresh(answered)
    assert (ticket.status, ticket.escalation_level) == ("reopened", 3)
    assert ticket.department_id == ombudsman.id


def test_record_verdict_escalates_for_every_surface_once(db, customer, answered):
    user = customer
    record_verdict(answered, user, resolved=False, comment="")
    db.session.commit()
    assert [e.reason for e in escalations(db, answered)] == ["not_resolved"]
    # already with the ombudsman: saying it again reopens without a second escalation
    tickets.change_status(answered, None, "resolved", notify_customer=False)
    record_verdict(answered, user, resolved=False)
    db.session.commit()
    assert len(escalations(db, answered)) == 1


def test_resolved_verdict_does_not_escalate(db, customer, answered):
    record_verdict(answered, customer, resolved=True, rating=5)
    db.session.commit()
    assert escalations(db, answered) == []
    assert fresh(answered).escalation_level == 0


def test_the_customer_sees_the_resolution_deadline_until_it_is_met(client, db, customer, demand):
    from helpdesk.sla.clocks import ticket_slas

    due = next(r.due_at for r in ticket_slas(demand) if r.target == "resolution")
    url = f"/portal/demands/{demand.protocol}"
    with time_machine.travel(BEFORE, tick=False):
        login_as(client, customer)
        html = page(client.get(url))
        assert "Resolution due" in html and f'datetime="{due.isoformat()}"' in html
        assert "First response due" not in html  # internal targets stay internal
        tickets.change_status(demand, None, "resolved")
        db.session.commit()
        assert "Resolution due" not in page(client.get(url))
