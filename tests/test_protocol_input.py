"""A protocol as people type and read it: what is wrong is said plainly on every surface (too short
is not a wrong check digit), any spacing or punctuation is accepted, and it is shown grouped."""

from __future__ import annotations

import pytest

from helpdesk.core.errors import InvalidProtocol
from helpdesk.core.unit import commit
from helpdesk.tickets import protocol as protocols
from helpdesk.tickets.protocol import display
from tests.conftest import customer_of

from .test_api_support import bearer
from .test_portal_support import *  # noqa: F403
from .test_portal_support import login_as, page, post, settle_mail

SHORT = "2026120200031"  # 13 digits: one missing (ours have 15)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        (SHORT, "too short"),
        ("20261202", "too short"),
        ("1" * 25, "too long"),
        ("2026120200030x", "only digits"),
        ("", "type the protocol"),
        (" . - ", "type the protocol"),
    ],
)
def test_parse_says_what_is_wrong(typed, says):
    with pytest.raises(InvalidProtocol) as caught:
        protocols.parse(typed)
    assert says in str(caught.value)
    assert "check digit" not in str(caught.value)


def test_any_spacing_or_punctuation_is_accepted():
    value = protocols.format_protocol("20261202", 301)
    for typed in (
        f"{value[:8]} {value[8:14]} {value[14:]}",
        f"{value[:4]}-{value[4:6]}-{value[6:8]}/{value[8:14]}.{value[14:]}",
        f"#{value}",
        f"  {value[:8]}\u00a0{value[8:]}\u200b ",  # no-break space, zero-width space
        f"({value[:8]}) {value[8:14]}_{value[14:]};",
        "".join(chr(0xFF10 + int(d)) for d in value),  # full-width digits
    ):
        assert protocols.parse(typed) == value, typed


def test_display_groups_for_reading_aloud():
    value = protocols.format_protocol("20261202", 301)
    assert display(value) == f"20261202 000301 {value[-1]}"
    assert display("garbage") == "garbage"


# every surface ----------------------------------------------------------------------------------


def test_portal_lookup_says_too_short(client, db, sent_mail):
    response = post(client, "/guest", {"protocol": SHORT, "email": "a@example.com"})
    assert response.status_code == 400
    assert "too short" in page(response)
    assert "check digit" not in page(response)
    assert f'value="{SHORT}"' in page(response)  # what was typed stays


def test_portal_lookup_in_portuguese(client, db):
    response = post(
        client,
        "/guest",
        {"protocol": SHORT, "email": "a@example.com"},
        headers={"Accept-Language": "pt-BR"},
    )
    assert "curto demais" in page(response)


def test_portal_url_api_and_console_say_too_short(client, new_client, db, make_user, token_for):
    customer = make_user(role="customer")
    login_as(client, customer)
    response = client.get(f"/portal/demands/{SHORT}")
    assert response.status_code == 400
    assert "too short" in page(response)

    agent = make_user(role="agent")
    response = client.get(f"/api/v1/tickets/{SHORT}", headers=bearer(token_for(agent)))
    assert response.status_code == 400
    assert response.content_type.startswith("application/problem+json")
    assert "too short" in response.get_json()["detail"]

    console = new_client()
    login_as(console, agent)
    response = console.get(f"/console/tickets/{SHORT}")
    assert response.status_code == 400
    assert "too short" in page(response)


def test_typed_with_punctuation_finds_it_everywhere(
    client, db, make_user, make_ticket, token_for, sent_mail
):
    customer = make_user(role="customer", email="pontos@example.com")
    ticket = make_ticket(customer=customer_of(customer))
    settle_mail(client.application)
    p = ticket.protocol
    typed = f"{p[:8]}.{p[8:14]}-{p[14:]}"
    assert (
        post(client, "/guest", {"protocol": typed, "email": "pontos@example.com"}).status_code
        == 302
    )
    assert len(sent_mail) == 1

    agent = make_user(role="agent")
    response = client.get(f"/api/v1/tickets/{p[:8]}-{p[8:]}", headers=bearer(token_for(agent)))
    assert response.status_code == 200
    assert response.get_json()["protocol"] == p  # the API keeps the plain digits


@pytest.fixture
def token_for(db):
    from helpdesk.accounts.services import issue_api_token

    def make(user):
        raw = issue_api_token(user, "test")
        db.session.commit()
        return raw

    return make


def test_protocol_is_grouped_where_people_read_it(client, db, make_user, make_ticket, sent_mail):
    customer = make_user(role="customer")
    ticket = make_ticket(customer=customer_of(customer), subject="Leitura em voz alta")
    commit()  # delivers the queued acknowledgement
    grouped = display(ticket.protocol)
    # the acknowledgement: grouped in the text, plain digits in the subject tag and the link
    [ack] = sent_mail
    text = ack.get_body(("plain",)).get_content()
    assert grouped in text
    assert f"[#{ticket.protocol}]" in ack["Subject"]
    assert f"/portal/demands/{ticket.protocol}" in text
    settle_mail(client.application)

    login_as(client, customer)
    for url in ("/portal/demands", f"/portal/demands/{ticket.protocol}"):
        html = page(client.get(url))
        assert grouped in html, url
        assert f'href="/portal/demands/{ticket.protocol}"' in html or url != "/portal/demands"
    html = page(client.get(f"/portal/demands/{ticket.protocol}"))
    assert f'data-copy="{ticket.protocol}"' in html  # a copy pastes the digits


def test_an_email_quoting_the_grouped_protocol_lands_in_that_demand(db, make_ticket, make_customer):
    from helpdesk.mail import services as mail

    ticket = make_ticket(customer=make_customer(email="carla@example.com"))
    commit()
    raw = (
        f"From: Carla <carla@example.com>\r\nTo: sac@example.com\r\n"
        f"Subject: Sobre o protocolo {display(ticket.protocol)} (2 itens)\r\n"
        "Message-ID: <grouped@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nE agora?\r\n"
    ).encode()
    row = mail.ingest(raw).row
    commit()
    assert row.ticket_id == ticket.id
