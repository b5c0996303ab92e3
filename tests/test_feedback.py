"""Suggestions forwarded to the product feedback list: a staff action on a suggestion adds it to a
topic (new or existing, by title), counting distinct customers; the list sorts topics by that."""

from __future__ import annotations

import re

import sqlalchemy as sa

from helpdesk.customers.merge import merge_customers
from helpdesk.customers.models import Customer
from helpdesk.feedback.models import FeedbackItem, FeedbackTopic
from helpdesk.tickets.models import TicketEvent
from tests.conftest import csrf_from


def _forward(client, ticket, title):
    url = f"/console/tickets/{ticket.protocol}"
    return client.post(
        f"{url}/feedback", data={"csrf_token": csrf_from(client, url), "title": title}
    )


def _topics(db):
    return {t.title: t.customer_count for t in db.session.scalars(sa.select(FeedbackTopic)).all()}


def test_forwarding_suggestions_counts_distinct_customers_and_lists_by_count(
    db, client, auth, make_user, make_customer, make_ticket
):
    agent = make_user("agent")
    ana, bia = make_customer(name="Ana"), make_customer(name="Bia")
    dark = make_ticket(customer=ana, kind="suggestion", subject="Tema escuro no app")
    again = make_ticket(customer=ana, kind="suggestion", subject="Modo noturno, por favor")
    other = make_ticket(customer=bia, kind="suggestion", subject="Quero o modo escuro")
    pix = make_ticket(customer=bia, kind="suggestion", subject="Pagar com Pix")
    complaint = make_ticket(customer=bia, kind="complaint", subject="Cobrança")
    auth.login(agent)

    page = client.get(f"/console/tickets/{dark.protocol}").get_data(as_text=True)
    assert 'for="feedback-topic"' in page
    no_panel = client.get(f"/console/tickets/{complaint.protocol}").get_data(as_text=True)
    assert 'id="feedback"' not in no_panel

    assert _forward(client, dark, "Modo escuro").status_code == 302
    assert _forward(client, again, "  modo   ESCURO ").status_code == 302  # same topic, by title
    assert _topics(db) == {"Modo escuro": 1}  # the same customer counts once
    assert _forward(client, other, "Modo escuro").status_code == 302
    assert _forward(client, pix, "Pix").status_code == 302
    assert _topics(db) == {"Modo escuro": 2, "Pix": 1}

    listing = client.get("/console/feedback").get_data(as_text=True)
    titles = re.findall(r'href="/console/feedback/\d+">([^<]+)</a>', listing)
    assert titles == ["Modo escuro", "Pix"]
    topic = db.session.scalar(sa.select(FeedbackTopic).where(FeedbackTopic.title == "Modo escuro"))
    detail = client.get(f"/console/feedback/{topic.id}").get_data(as_text=True)
    assert "2 customers ask for this" in detail
    assert dark.protocol in detail and other.protocol in detail
    shown = client.get(f"/console/tickets/{dark.protocol}").get_data(as_text=True)
    assert "On the feedback list as" in shown
    assert (
        db.session.scalar(
            sa.select(TicketEvent.new_value).where(
                TicketEvent.ticket_id == dark.id, TicketEvent.action == "feedback_forwarded"
            )
        )
        == "Modo escuro"
    )

    # bad input: a clear 4xx, nothing added
    twice = _forward(client, dark, "Outro tema")
    assert twice.status_code == 409 and "already on the feedback list" in twice.get_data(
        as_text=True
    )
    assert _forward(client, complaint, "Cobrança").status_code == 400
    assert _forward(client, pix, "").status_code == 422
    assert _forward(client, pix, "x" * 300).status_code == 422
    assert client.get("/console/feedback/999999").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(FeedbackItem.id))) == 4

    # two records merged into one person: the topic counts them once
    supervisor = make_user("supervisor")
    merge_customers(db.session.get(Customer, ana.id), db.session.get(Customer, bia.id), supervisor)
    db.session.commit()
    assert _topics(db) == {"Modo escuro": 1, "Pix": 1}


def test_customers_cannot_reach_the_feedback_pages(db, client, auth, make_user, make_ticket):
    customer = make_user(role="customer")
    auth.login(customer)
    assert client.get("/console/feedback").status_code in (302, 403)
