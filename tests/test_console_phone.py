"""Phone registration: find the caller in any format, the protocol before the details, routing."""

from __future__ import annotations

import re

import sqlalchemy as sa

from helpdesk.customers.models import Customer
from helpdesk.extensions import db as _db
from helpdesk.tickets.models import Ticket

from .test_console_support import *  # noqa: F403 - fixtures


def _start(client, customer_id):
    return post_form(client, "/console/phone/start", {"customer_id": customer_id})  # noqa: F405


def test_find_caller_by_phone_in_any_format(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    for typed in ("(11) 98765-4321", "11987654321", "+55 11 98765-4321"):
        html = client.get("/console/phone", query_string={"by": "phone", "q": typed}).get_data(
            as_text=True
        )
        assert "Diego Caller" in html, typed
        assert "Start call" in html
    # their open demands are listed with the match
    assert world.ticket_x.protocol in html and world.ticket_y.protocol in html


def test_find_caller_by_email_and_document(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    email = world.customer.primary_email.upper()
    html = client.get("/console/phone", query_string={"by": "email", "q": email}).get_data(
        as_text=True
    )
    assert "Diego Caller" in html
    html = client.get("/console/phone", query_string={"by": "document", "q": "52998224725"})
    assert "Diego Caller" in html.get_data(as_text=True)


def _callers(client, typed):
    html = client.get("/console/phone", query_string={"q": typed}).get_data(as_text=True)
    return html


def test_one_box_finds_the_caller_by_anything_through_the_search_service(client, app, world):
    """The default lookup takes a name, a word of a demand, a protocol (with or without its
    check digit), a CPF with punctuation or a phone written any way."""
    login_as(client, app, world.agent_x)  # noqa: F405
    protocol = world.ticket_x.protocol
    for typed in (
        "diego",  # the name, lower-case, as a prefix while typing
        "cobranca duplicada",  # words of their demand, without the accent
        protocol,
        protocol[:-1],  # without its check digit
        "529.982.247-25",
        "+55 (11) 98765 4321",
    ):
        html = _callers(client, typed)
        assert "Diego Caller" in html, typed
        assert "Start call" in html, typed


def test_a_name_is_looked_for_only_in_the_demands_the_agent_may_open(
    client, app, world, make_customer, make_ticket
):
    other = make_customer(name="Zuleica Distante", phone="+5511912345678")
    ticket = make_ticket(customer=other, subject="Troca de produto")
    ticket.department_id = world.dept_y.id
    _db.session.commit()
    login_as(client, app, world.agent_x)  # noqa: F405
    assert "Zuleica" not in _callers(client, "zuleica")
    # her phone still identifies her: the agent answering the call must be able to register it
    assert "Zuleica Distante" in _callers(client, "11 91234-5678")
    client.post("/logout")
    login_as(client, app, world.agent_y)  # noqa: F405
    assert "Zuleica Distante" in _callers(client, "zuleica")


def test_a_name_nobody_has_offers_the_new_caller_form_with_the_name_typed(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    html = _callers(client, "Xerxes Inexistente")
    assert "Diego Caller" not in html
    assert 'value="Xerxes Inexistente"' in html


def test_invalid_search_shows_field_error(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    html = client.get("/console/phone", query_string={"by": "phone", "q": "123"}).get_data(
        as_text=True
    )
    assert "This phone number is not valid." in html
    html = client.get("/console/phone", query_string={"by": "document", "q": "111.111.111-11"})
    assert "CPF or CNPJ is not valid" in html.get_data(as_text=True)


def test_start_registers_at_once_and_shows_protocol_before_details(client, app, world, sent_mail):
    login_as(client, app, world.agent_x)  # noqa: F405
    response = _start(client, world.customer.id)
    assert response.status_code == 302
    match = re.search(r"/console/phone/(\d+)$", response.headers["Location"])
    assert match
    protocol = match.group(1)
    # committed before any detail is typed
    ticket = _db.session.scalar(sa.select(Ticket).where(Ticket.protocol == protocol))
    assert ticket is not None
    assert (ticket.channel, ticket.kind, ticket.assignee_id) == (
        "phone",
        "request",
        world.agent_x.id,
    )
    assert ticket.subject == "Phone call in progress"
    assert not any(e.action == "routed" for e in ticket.events)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="protocol-number"' in html and protocol in html
    assert "Read this protocol to the caller before continuing" in html
    assert html.index(protocol) < html.index('name="subject"')
    assert sent_mail == []  # acknowledged once the real subject is known, not with a placeholder


def test_completing_the_call_routes_it_and_acknowledges(client, app, world, make_user, sent_mail):
    login_as(client, app, world.agent_x)  # noqa: F405
    location = _start(client, world.customer.id).headers["Location"]
    protocol = location.rsplit("/", 1)[1]
    response = post_form(  # noqa: F405
        client,
        location,
        {
            "kind": "complaint",
            "category": "",
            "subject": "Cobrança em dobro",
            "description": "Cliente relata cobrança em dobro.",
            "remedy": "Estorno",
        },
        csrf_path=location,
    )
    assert response.status_code == 302
    ticket = _db.session.scalar(sa.select(Ticket).where(Ticket.protocol == protocol))
    _db.session.refresh(ticket)
    assert (ticket.kind, ticket.subject, ticket.remedy) == (
        "complaint",
        "Cobrança em dobro",
        "Estorno",
    )
    assert any(e.action == "routed" for e in ticket.events)
    assert ticket.status == "new"
    assert len(sent_mail) == 1
    assert protocol in sent_mail[0]["Subject"]
    assert "Cobrança em dobro" in sent_mail[0].get_body(("plain",)).get_content()


def test_resolved_during_the_call(client, app, world, sent_mail):
    login_as(client, app, world.agent_x)  # noqa: F405
    location = _start(client, world.customer.id).headers["Location"]
    sent_mail.clear()
    protocol = location.rsplit("/", 1)[1]
    response = post_form(  # noqa: F405
        client,
        location,
        {
            "kind": "request",
            "subject": "Segunda via",
            "resolved_in_call": "y",
            "resolution": "Enviamos a segunda via por email.",
        },
        csrf_path=location,
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/console/tickets/{protocol}")
    ticket = _db.session.scalar(sa.select(Ticket).where(Ticket.protocol == protocol))
    _db.session.refresh(ticket)
    assert ticket.status == "resolved" and ticket.first_response_at is not None
    assert not any(e.action == "routed" for e in ticket.events)
    assert ticket.messages[-1].channel == "phone"
    # one acknowledgement with the protocol that says it was resolved and carries the answer
    # given on the phone (issue 9: not "we answer within 7 days", nor a second email)
    assert len(sent_mail) == 1
    text = sent_mail[0].get_body(("plain",)).get_content()
    assert "Enviamos a segunda via" in text
    assert "resolved during your contact" in text
    assert "7 days" not in text


def test_resolution_text_required_when_resolved(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    location = _start(client, world.customer.id).headers["Location"]
    response = post_form(  # noqa: F405
        client,
        location,
        {"kind": "request", "subject": "Algo", "resolved_in_call": "y", "resolution": ""},
        csrf_path=location,
    )
    assert response.status_code == 400
    assert "Tell the customer how it was resolved." in response.get_data(as_text=True)


def test_new_caller_invalid_cpf_and_phone_are_field_errors(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    before = _db.session.scalar(sa.select(sa.func.count(Customer.id)))
    response = post_form(  # noqa: F405
        client,
        "/console/phone",
        {"name": "Nova Pessoa", "phone": "11 91234-0000", "document": "123.456.789-00"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'name="document"[^>]*aria-invalid="true"', html) or "has-error" in html
    assert "This CPF or CNPJ is not valid" in html
    response = post_form(client, "/console/phone", {"name": "Nova Pessoa", "phone": "12"})  # noqa: F405
    assert response.status_code == 400
    assert "This phone number is not valid." in response.get_data(as_text=True)
    response = post_form(client, "/console/phone", {"name": "Nova Pessoa", "email": "x@"})  # noqa: F405
    assert "This email address is not valid." in response.get_data(as_text=True)
    assert _db.session.scalar(sa.select(sa.func.count(Customer.id))) == before
    assert _db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 2


def test_new_caller_registered_and_call_started(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    response = post_form(  # noqa: F405
        client,
        "/console/phone",
        {"name": "Nova Pessoa", "phone": "(21) 99876-5432", "document": "529.982.247-25"},
    )
    # that CPF belongs to Diego: a conflict at the field, nothing created
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    response = post_form(  # noqa: F405
        client, "/console/phone", {"name": "Nova Pessoa", "phone": "(21) 99876-5432"}
    )
    assert response.status_code == 302
    assert re.search(r"/console/phone/\d+$", response.headers["Location"])
    customer = _db.session.scalar(sa.select(Customer).where(Customer.name == "Nova Pessoa"))
    assert customer.primary_phone == "+5521998765432"


def test_phone_start_unknown_customer_is_404(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    assert _start(client, 999999).status_code == 404
    assert post_form(client, "/console/phone/start", {"customer_id": "abc"}).status_code == 400  # noqa: F405
