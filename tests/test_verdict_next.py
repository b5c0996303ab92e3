"""After "not resolved" the verdict form does not come back until we answer again, and the page
says one thing about what happens next (the ombudsman), never also "reopened as a priority"."""

from __future__ import annotations

import pytest

from helpdesk.tickets import services as tickets
from tests.conftest import customer_of

from .test_portal_support import *  # noqa: F403
from .test_portal_support import login_as, page, post, settle_mail

VERDICT_FORM = "Is your demand resolved?"


@pytest.fixture
def customer(make_user):
    return make_user(role="customer")


@pytest.fixture
def answered(app, db, customer, make_ticket, make_user, make_department):
    make_department("Ouvidoria", is_ombudsman=True)
    agent = make_user(role="agent", name="Agente Bia")
    ticket = make_ticket(customer=customer_of(customer), subject="Fatura errada")
    tickets.add_message(ticket, agent, "Corrigimos a fatura.")
    settle_mail(app)
    return ticket, agent


def test_not_resolved_says_one_thing_and_the_form_does_not_come_back(
    client, db, customer, answered
):
    ticket, agent = answered
    login_as(client, customer)
    url = f"/portal/demands/{ticket.protocol}"
    assert VERDICT_FORM in page(client.get(url))
    response = post(client, f"{url}/verdict", {"resolved": "no"}, csrf_path=url)
    assert response.status_code == 302
    html = page(client.get(response.location))
    assert VERDICT_FORM not in html
    assert "ombudsman" in html
    assert "as a priority" not in html
    assert "we reopen it and look at it again" not in html

    # a new answer from us: the customer can judge it
    ticket = db.session.merge(ticket)
    db.session.refresh(ticket)
    tickets.add_message(ticket, agent, "A ouvidoria revisou e estornou o valor.")
    settle_mail(client.application)
    assert VERDICT_FORM in page(client.get(url))


def test_resolving_again_without_a_message_offers_the_verdict_again(client, db, customer, answered):
    ticket, agent = answered
    login_as(client, customer)
    url = f"/portal/demands/{ticket.protocol}"
    post(client, f"{url}/verdict", {"resolved": "no"}, csrf_path=url)
    assert VERDICT_FORM not in page(client.get(url))
    ticket = db.session.merge(ticket)
    db.session.refresh(ticket)
    tickets.change_status(ticket, agent, "resolved")
    settle_mail(client.application)
    assert VERDICT_FORM in page(client.get(url))
