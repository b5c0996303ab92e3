"""A visitor opens a demand without an account: protocol at once, emailed with a link that opens it,
guarded by a honeypot, a minimum fill time and a rate limit; an account made later sees it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.core import clock
from helpdesk.customers.models import Customer, CustomerPhone
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.protocol import display

from .test_auth import limited_client  # noqa: F401 - fixture
from .test_portal_support import *  # noqa: F403
from .test_portal_support import link_in, login_as, mail_text, page, post

DEMAND = {
    "name": "Joana Visitante",
    "email": "Joana@Example.com",
    "kind": "complaint",
    "subject": "Produto chegou quebrado",
    "description": "A caixa veio amassada e a tela trincada.",
}


def form_tokens(client, headers=None) -> dict:
    html = page(client.get("/portal/new", headers=headers or {}))
    found = {}
    for name in ("csrf_token", "started"):
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
            rf'value="([^"]*)"[^>]*name="{name}"', html
        )
        assert match, f"no {name} on the form"
        found[name] = match.group(1)
    return found


def send(client, data, headers=None, **kw):
    return client.post(
        "/portal/new",
        data={**form_tokens(client, headers), **data},
        headers=headers or {},
        content_type="multipart/form-data",
        **kw,
    )


@pytest.fixture(autouse=True)
def _sac(default_department):
    """Every deployment has a default department (the demo and `sla init` create one)."""


def tickets(db):
    return list(db.session.scalars(sa.select(Ticket)))


def test_visitor_opens_a_demand_from_the_home_page(client, new_client, db, sent_mail, app):
    home = page(client.get("/"))
    assert 'href="/portal/new"' in home
    form = page(client.get("/portal/new"))
    for label in ("Your name", "Your email", "Phone (optional)", "CPF or CNPJ (optional)"):
        assert label in form

    response = send(client, {**DEMAND, "phone": "(11) 98765-4321"})
    assert response.status_code == 302, page(response)[:2000]
    [ticket] = tickets(db)
    assert response.location == f"/portal/demands/{ticket.protocol}/registered"
    assert ticket.channel == "web" and ticket.created_by_id is None
    customer = db.session.get(Customer, ticket.customer_id)
    assert customer.name == "Joana Visitante"
    assert customer.primary_email == "joana@example.com"
    assert [p.number for p in customer.phones] == ["+5511987654321"]

    # the protocol at once, grouped for reading aloud, and the address it was sent to
    shown = page(client.get(response.location))
    assert display(ticket.protocol) in shown
    assert "joana@example.com" in shown
    assert "Create an account" in shown  # optional
    # this browser follows the demand without an account
    assert "Produto chegou quebrado" in page(client.get(f"/portal/demands/{ticket.protocol}"))

    # one email, to the address given, with the protocol and a link that opens the demand
    assert len(sent_mail) == 1
    message = sent_mail[0]
    assert "joana@example.com" in message["To"]
    assert f"[#{ticket.protocol}]" in message["Subject"]
    assert display(ticket.protocol) in mail_text(message)
    other_browser = new_client()
    opened = other_browser.get(link_in(message, "/guest/"))
    assert opened.location == f"/portal/demands/{ticket.protocol}"
    assert "Produto chegou quebrado" in page(other_browser.get(opened.location))


def test_errors_keep_what_was_typed_and_speak_the_visitors_language(client, db, sent_mail):
    pt = {"Accept-Language": "pt-BR"}
    response = send(
        client,
        {**DEMAND, "email": "joana@", "subject": "", "phone": "123", "document": "111"},
        headers=pt,
    )
    assert response.status_code == 400
    html = page(response)
    assert 'value="Joana Visitante"' in html  # kept
    assert "A caixa veio amassada" in html
    assert "Este endereço de e-mail não é válido." in html
    assert "Este número de telefone não é válido." in html  # every mistake at once
    assert "Este CPF ou CNPJ não é válido" in html
    assert tickets(db) == [] and sent_mail == []

    # the email is fine now; the service finds the bad phone, in Portuguese, and keeps the rest
    response = send(client, {**DEMAND, "phone": "123"}, headers=pt)
    assert response.status_code == 400
    html = page(response)
    assert "Este número de telefone não é válido." in html
    assert 'value="Joana@Example.com"' in html
    assert tickets(db) == []


def test_honeypot_refuses_without_registering(client, db, sent_mail):
    response = send(client, {**DEMAND, "website": "http://spam.example"})
    assert response.status_code == 400
    assert "We could not accept this form" in page(response)
    assert tickets(db) == [] and sent_mail == []


def test_a_form_posted_too_fast_or_with_a_forged_stamp_is_refused(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "GUEST_FORM_MIN_SECONDS", 3)
    tokens = form_tokens(client)
    response = client.post("/portal/new", data={**tokens, **DEMAND})
    assert response.status_code == 400
    assert "very fast" in page(response)
    assert 'value="Joana Visitante"' in page(response)

    forged = {**form_tokens(client), "started": "1700000000"}
    with time_machine.travel(clock.now() + timedelta(seconds=10)):
        assert client.post("/portal/new", data={**forged, **DEMAND}).status_code == 400
    assert tickets(db) == []

    tokens = form_tokens(client)
    with time_machine.travel(clock.now() + timedelta(seconds=10)):
        assert client.post("/portal/new", data={**tokens, **DEMAND}).status_code == 302
    assert len(tickets(db)) == 1


def test_visitor_demands_are_rate_limited(limited_client, db):  # noqa: F811
    codes = [send(limited_client, {**DEMAND, "subject": f"Caso {i}"}).status_code for i in range(6)]
    assert codes[:5] == [302] * 5
    assert codes[5] == 429


def test_an_account_made_later_sees_the_demands_of_its_email(
    client, new_client, db, sent_mail, default_department
):
    assert send(client, DEMAND).status_code == 302
    [ticket] = tickets(db)
    sent_mail.clear()

    browser = new_client()
    post(
        browser,
        "/signup",
        {
            "name": "Joana V.",
            "email": "joana@example.com",
            "password": "segredo123",
            "confirm": "segredo123",
            "language": "en",
        },
    )
    browser.get(link_in(sent_mail[-1], "/verify/"))
    mine = page(browser.get("/portal/demands"))
    assert "Produto chegou quebrado" in mine
    assert display(ticket.protocol) in mine


def test_an_existing_customers_email_adds_the_demand_but_changes_nothing_else(
    client, db, sent_mail, make_customer
):
    customer = make_customer(name="Joana Original", email="outra@example.com", phone="11912345678")
    from helpdesk.customers.models import CustomerEmail

    db.session.add(CustomerEmail(customer_id=customer.id, email="joana@example.com"))
    db.session.commit()
    response = send(client, {**DEMAND, "name": "Impostor", "phone": "(11) 98765-4321"})
    assert response.status_code == 302
    [ticket] = tickets(db)
    assert ticket.customer_id == customer.id
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "Joana Original"
    phones = db.session.scalars(
        sa.select(CustomerPhone.number).where(CustomerPhone.customer_id == customer.id)
    )
    assert list(phones) == ["+5511912345678"]
    shown = page(client.get(response.location))
    assert "joana@example.com" in shown
    assert "outra@example.com" not in shown  # the record's other address is not the visitor's
    assert "joana@example.com" in sent_mail[0]["To"]


@pytest.mark.parametrize("who", ["customer", "agent"])
def test_signed_in_people_do_not_get_the_visitor_form(client, make_user, who):
    login_as(client, make_user(role=who))
    response = client.get("/portal/new")
    if who == "customer":
        assert response.status_code == 200
        assert "Your email" not in page(response)
    else:
        assert response.status_code == 403
