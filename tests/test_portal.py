"""Customer portal flows: landing, filing a demand, my demands, the demand page, replies, verdict."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from helpdesk.core.unit import commit
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Category, Message, Ticket
from tests.conftest import customer_of

from .test_portal_support import *  # noqa: F403
from .test_portal_support import (
    fresh,
    login_as,
    mail_text,
    page,
    post,
    settle_mail,
)


def file_demand(client, **fields):
    data = {
        "kind": "complaint",
        "subject": "Cobrança em dobro",
        "description": "Fui cobrado duas vezes na fatura de março.",
        "remedy": "Estorno do valor",
        **fields,
    }
    return post(client, "/portal/new", data, content_type="multipart/form-data")


def ticket_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(Ticket.id)))


@pytest.fixture
def customer(make_user):
    return make_user(role="customer", name="Maria Cliente")


@pytest.fixture
def signed_in(client, customer):
    login_as(client, customer)
    return client


# landing ----------------------------------------------------------------------------------------


def test_home_offers_the_three_ways_in(client, db):
    response = client.get("/")
    assert response.status_code == 200
    html = page(response)
    for text in ("Open a demand", "Follow my demands", "Look up a protocol", "Sign in"):
        assert text in html
    assert "Content-Security-Policy" in response.headers


def test_staff_on_home_go_to_the_console(client, make_user):
    login_as(client, make_user(role="agent"))
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/console")


# filing a demand --------------------------------------------------------------------------------


def test_new_demand_form_lists_kinds_and_active_categories(signed_in, db):
    db.session.add_all(
        [
            Category(name="Billing", name_pt_br="Cobrança", kinds=["complaint", "request"]),
            Category(name="Old", active=False),
        ]
    )
    db.session.commit()
    html = page(signed_in.get("/portal/new"))
    assert "Complaint" in html and "Request" in html and "Suggestion" in html
    assert "Something went wrong" in html  # the one-line explanation of a complaint
    assert "Billing" in html
    assert ">Old<" not in html
    post(signed_in, "/language", {"lang": "pt_BR", "next": "/portal/new"}, csrf_path="/portal/new")
    assert "Cobrança" in page(signed_in.get("/portal/new"))  # the label in the user's language


def test_filing_a_complaint_shows_the_protocol_and_emails_it(signed_in, db, customer, sent_mail):
    response = file_demand(signed_in)
    assert response.status_code == 302
    ticket = db.session.scalar(sa.select(Ticket))
    assert response.location == f"/portal/demands/{ticket.protocol}/registered"
    assert (ticket.channel, ticket.kind, ticket.status) == ("web", "complaint", "new")
    assert ticket.customer_id == customer_of(customer).id
    assert ticket.created_by_id == customer.id
    assert ticket.remedy == "Estorno do valor"

    html = page(signed_in.get(response.location))
    assert ticket.protocol in html
    assert 'class="protocol-number"' in html
    assert "7 days" in html
    assert customer.email in html

    assert len(sent_mail) == 1
    assert customer.email in sent_mail[0]["To"]
    assert ticket.protocol in mail_text(sent_mail[0])
    assert ticket.protocol in sent_mail[0]["Subject"] or ticket.protocol in mail_text(sent_mail[0])


def test_filing_with_a_category_and_an_attachment(signed_in, db):
    category = Category(name="Billing", kinds=["complaint"])
    db.session.add(category)
    db.session.commit()
    response = file_demand(
        signed_in,
        category=str(category.id),
        attachments=[(io.BytesIO(b"%PDF-1.4 fatura"), "fatura.pdf")],
    )
    assert response.status_code == 302
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.category_id == category.id
    assert [a.filename for a in ticket.attachments] == ["fatura.pdf"]


def test_category_that_does_not_apply_to_the_kind_is_a_form_error(signed_in, db):
    category = Category(name="Ideas", kinds=["suggestion"])
    db.session.add(category)
    db.session.commit()
    response = file_demand(signed_in, category=str(category.id))
    assert response.status_code == 400
    assert "does not apply to this kind" in page(response)
    assert ticket_count(db) == 0


def test_missing_fields_are_errors_next_to_them(signed_in, db):
    response = file_demand(signed_in, kind="", subject="", description="")
    assert response.status_code == 400
    html = page(response)
    assert "Please choose the kind of demand." in html
    assert html.count('class="error"') >= 3
    assert ticket_count(db) == 0


def test_unknown_kind_is_refused(signed_in, db):
    response = file_demand(signed_in, kind="praise")
    assert response.status_code == 400
    assert ticket_count(db) == 0


# my demands -------------------------------------------------------------------------------------


def test_my_demands_lists_only_mine_newest_first(signed_in, db, customer, make_ticket):
    mine_old = make_ticket(customer=customer_of(customer), subject="Primeira")
    make_ticket(subject="De outra pessoa")
    mine_new = make_ticket(customer=customer_of(customer), subject="Segunda")
    html = page(signed_in.get("/portal/demands"))
    assert "De outra pessoa" not in html
    assert html.index(mine_new.protocol) < html.index(mine_old.protocol)
    assert "New" in html  # the status badge


def test_my_demands_pages_with_a_cursor(signed_in, db, customer, make_ticket):
    from helpdesk.portal.views import PAGE_SIZE

    for n in range(PAGE_SIZE + 2):
        make_ticket(customer=customer_of(customer), subject=f"Demanda {n:02d}")
    first = page(signed_in.get("/portal/demands"))
    assert f"Demanda {PAGE_SIZE + 1:02d}" in first
    assert "Demanda 00" not in first
    assert 'rel="next"' in first
    import re

    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = page(signed_in.get(next_url))
    assert "Demanda 00" in second and "Demanda 01" in second
    assert f"Demanda {PAGE_SIZE + 1:02d}" not in second
    assert signed_in.get("/portal/demands?cursor=%%%garbage").status_code == 400


def test_my_demands_query_count_does_not_grow(signed_in, db, customer, make_ticket, count_queries):
    category = Category(name="Billing", kinds=["complaint"])
    db.session.add(category)
    db.session.commit()
    for _ in range(2):
        make_ticket(customer=customer_of(customer), category_id=category.id)
    with count_queries() as few:
        assert signed_in.get("/portal/demands").status_code == 200
    for _ in range(8):
        make_ticket(customer=customer_of(customer), category_id=category.id)
    with count_queries() as many:
        assert signed_in.get("/portal/demands").status_code == 200
    assert many.count == few.count
    assert many.count <= 6


def test_my_demands_empty_state(signed_in, db):
    assert "You have no demands yet." in page(signed_in.get("/portal/demands"))


# the demand page --------------------------------------------------------------------------------


@pytest.fixture
def answered(db, customer, make_ticket, make_user, app):
    """A demand of `customer` with an internal note and a public answer."""
    agent = make_user(role="agent", name="Agente Ana")
    ticket = make_ticket(customer=customer_of(customer), subject="Internet caiu")
    tickets.add_message(ticket, agent, "SEGREDO: cliente VIP, priorizar", internal=True)
    tickets.add_message(ticket, agent, "Já enviamos um técnico para amanhã.")
    settle_mail(app)
    return ticket


def test_demand_page_shows_the_public_thread_only(signed_in, answered):
    response = signed_in.get(f"/portal/demands/{answered.protocol}")
    assert response.status_code == 200
    html = page(response)
    assert answered.protocol in html
    assert "Internet caiu" in html
    assert "Já enviamos um técnico" in html
    assert "Agente Ana" in html
    assert "SEGREDO" not in html
    assert "priorizar" not in html
    assert "Pending customer" in html  # the status after the answer
    assert "We answered" in html  # public history
    assert "Demand registered" in html
    assert "Estorno" not in html  # no remedy given for this one: nothing invented


def test_wrong_check_digit_unknown_and_foreign_protocols(signed_in, db, make_ticket):
    other = make_ticket(subject="Não é seu")
    bad_digit = other.protocol[:-1] + str((int(other.protocol[-1]) + 1) % 10)
    response = signed_in.get(f"/portal/demands/{bad_digit}")
    assert response.status_code == 400
    assert "wrong check digit" in page(response)

    from helpdesk.tickets.protocol import format_protocol

    response = signed_in.get(f"/portal/demands/{format_protocol('20200101', 424242)}")
    assert response.status_code == 404

    response = signed_in.get(f"/portal/demands/{other.protocol}")
    assert response.status_code == 404
    assert "Não é seu" not in page(response)


def test_anonymous_is_asked_to_sign_in_with_next(client, answered):
    response = client.get(f"/portal/demands/{answered.protocol}")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert answered.protocol in response.location


# replies ----------------------------------------------------------------------------------------


def test_customer_reply_is_added_to_the_thread(signed_in, db, answered, customer):
    url = f"/portal/demands/{answered.protocol}"
    response = post(
        signed_in,
        f"{url}/reply",
        {
            "body": "O técnico não veio.",
            "attachments": [(io.BytesIO(b"foto"), "foto.jpg")],
        },
        csrf_path=url,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    ticket = fresh(answered)
    last = ticket.messages[-1]
    assert (last.body, last.author_id, last.author_kind, last.channel) == (
        "O técnico não veio.",
        customer.id,
        "customer",
        "web",
    )
    assert [a.filename for a in last.attachments] == ["foto.jpg"]
    assert ticket.status == "open"
    assert "O técnico não veio." in page(signed_in.get(url))


def test_empty_reply_is_a_form_error(signed_in, db, answered):
    url = f"/portal/demands/{answered.protocol}"
    response = post(signed_in, f"{url}/reply", {"body": "  "}, csrf_path=url)
    assert response.status_code == 400
    assert 'class="error"' in page(response)
    assert len(fresh(answered).messages) == 2


def test_reply_to_a_closed_demand_is_refused(signed_in, db, answered):
    tickets.change_status(answered, None, "closed")
    commit()
    url = f"/portal/demands/{answered.protocol}"
    assert "Write to us about this demand" not in page(signed_in.get(url))
    response = post(signed_in, f"{url}/reply", {"body": "Olá?"}, csrf_path=url)
    assert response.status_code == 409
    assert "closed" in page(response)
    assert len(fresh(answered).messages) == 2


def test_guest_reply_is_in_the_customers_name(client, db, sent_mail, make_ticket, make_customer):
    from .test_portal_support import link_in

    customer = make_customer(name="Convidado Silva", email="convidado@example.com")
    ticket = make_ticket(customer=customer)
    settle_mail(client.application)
    post(client, "/guest", {"protocol": ticket.protocol, "email": "convidado@example.com"})
    client.get(link_in(sent_mail[0], "/guest/"))
    url = f"/portal/demands/{ticket.protocol}"
    response = post(client, f"{url}/reply", {"body": "Mais detalhes."}, csrf_path=url)
    assert response.status_code == 302
    message = db.session.scalar(sa.select(Message).where(Message.ticket_id == ticket.id))
    assert (message.author_id, message.author_name, message.author_kind) == (
        None,
        "Convidado Silva",
        "customer",
    )


# verdict ----------------------------------------------------------------------------------------


def test_verdict_is_offered_only_after_an_answer(signed_in, db, customer, make_ticket):
    ticket = make_ticket(customer=customer_of(customer))
    url = f"/portal/demands/{ticket.protocol}"
    assert "Is your demand resolved?" not in page(signed_in.get(url))
    response = post(signed_in, f"{url}/verdict", {"resolved": "yes", "rating": "5"}, csrf_path=url)
    assert response.status_code == 400
    assert "once the demand has been answered" in page(response)
    assert fresh(ticket).customer_verdict is None


def test_verdict_not_resolved_reopens(signed_in, db, answered):
    url = f"/portal/demands/{answered.protocol}"
    assert "Is your demand resolved?" in page(signed_in.get(url))
    response = post(
        signed_in,
        f"{url}/verdict",
        {"resolved": "no", "rating": "2", "comment": "Continua sem internet."},
        csrf_path=url,
    )
    assert response.status_code == 302
    ticket = fresh(answered)
    assert ticket.status == "reopened"
    assert ticket.customer_verdict == "not_resolved"
    assert ticket.rating == 2
    assert ticket.messages[-1].body == "Continua sem internet."


def test_verdict_resolved_with_rating(signed_in, db, answered):
    url = f"/portal/demands/{answered.protocol}"
    response = post(signed_in, f"{url}/verdict", {"resolved": "yes", "rating": "5"}, csrf_path=url)
    assert response.status_code == 302
    ticket = fresh(answered)
    assert (ticket.status, ticket.customer_verdict, ticket.rating) == ("resolved", "resolved", 5)
    assert ticket.rated_at is not None
    html = page(signed_in.get(url))
    assert "You told us this demand is resolved" in html
    assert "Is your demand resolved?" not in html


@pytest.mark.parametrize("rating", ["0", "6", "abc"])
def test_verdict_rejects_a_bad_rating(signed_in, db, answered, rating):
    url = f"/portal/demands/{answered.protocol}"
    response = post(
        signed_in, f"{url}/verdict", {"resolved": "yes", "rating": rating}, csrf_path=url
    )
    assert response.status_code == 400
    assert fresh(answered).rating is None


def test_no_verdict_on_a_closed_demand(signed_in, db, answered):
    tickets.change_status(answered, None, "closed")
    commit()
    url = f"/portal/demands/{answered.protocol}"
    assert "Is your demand resolved?" not in page(signed_in.get(url))
    response = post(signed_in, f"{url}/verdict", {"resolved": "no"}, csrf_path=url)
    assert response.status_code == 409
    assert fresh(answered).status == "closed"
