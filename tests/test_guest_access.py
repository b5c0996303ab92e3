"""Guest access is decided by the database on every request, not by what the signed cookie holds:
a revoked (by the owner, the guest or an agent) or expired grant opens nothing any more."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from helpdesk.core import clock
from tests.conftest import customer_of

from .test_portal_support import *  # noqa: F403
from .test_portal_support import link_in, login_as, page, post, settle_mail


@pytest.fixture
def owner(make_user):
    return make_user(role="customer", email="dona@example.com", name="Dona Maria")


@pytest.fixture
def demand(app, owner, make_ticket):
    ticket = make_ticket(customer=customer_of(owner), subject="Geladeira quebrada")
    settle_mail(app)
    return ticket


def open_as_guest(client, sent_mail, ticket, email="dona@example.com"):
    sent_mail.clear()
    post(client, "/guest", {"protocol": ticket.protocol, "email": email})
    client.get(link_in(sent_mail[-1], "/guest/"))
    url = f"/portal/demands/{ticket.protocol}"
    response = client.get(url)
    assert response.status_code == 200
    assert "Geladeira quebrada" in page(response)
    return url


def grants_in_cookie(client):
    with client.session_transaction() as s:
        return list(s.get("guest_grants", []))


def test_owner_revokes_and_the_same_cookie_no_longer_opens_it(
    client, new_client, db, owner, demand, sent_mail
):
    url = open_as_guest(client, sent_mail, demand)
    cookie_grants = grants_in_cookie(client)
    assert cookie_grants

    owner_browser = new_client()
    login_as(owner_browser, owner)
    assert "End guest links" in page(owner_browser.get(url))
    response = post(owner_browser, f"{url}/guest-access/end", csrf_path=url)
    assert response.status_code == 302
    assert "no longer open it" in page(owner_browser.get(url))

    # the guest's browser still sends the same signed cookie, naming the same grant
    with client.session_transaction() as s:
        s["guest_grants"] = cookie_grants
    response = client.get(url)
    assert response.status_code == 302  # sign in first: the grant no longer holds
    assert "/login" in response.location
    assert "Geladeira quebrada" not in page(client.get(url, follow_redirects=True))


def test_guest_closes_the_demand_on_this_device(client, db, demand, sent_mail):
    url = open_as_guest(client, sent_mail, demand)
    cookie_grants = grants_in_cookie(client)
    response = post(client, f"{url}/guest-access/end", csrf_path=url)
    assert response.status_code == 302
    with client.session_transaction() as s:
        s["guest_grants"] = cookie_grants  # a copy of the cookie taken before closing
    assert client.get(url).status_code == 302
    # replying with the old cookie is refused too
    assert client.post(f"{url}/reply", data={"body": "oi"}).status_code in (302, 400)


def test_an_expired_grant_no_longer_opens_the_demand(app, client, db, demand, sent_mail):
    url = open_as_guest(client, sent_mail, demand)
    hours = app.config["GUEST_ACCESS_HOURS"]
    with time_machine.travel(clock.now() + timedelta(hours=hours - 1), tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(clock.now() + timedelta(hours=hours + 1), tick=False):
        assert client.get(url).status_code == 302


def test_a_planted_ticket_id_in_the_cookie_opens_nothing(client, db, demand):
    """The old cookie format (ticket ids) and grant ids that are not grants open nothing."""
    with client.session_transaction() as s:
        s["guest_tickets"] = [demand.id]
        s["guest_grants"] = [demand.id, 10**30, "1", True]
    assert client.get(f"/portal/demands/{demand.protocol}").status_code == 302


def test_agent_revokes_guest_links_from_the_console(
    client, new_client, db, demand, sent_mail, make_user
):
    url = open_as_guest(client, sent_mail, demand)
    agent = make_user(role="agent")
    console = new_client()
    login_as(console, agent)
    ticket_url = f"/console/tickets/{demand.protocol}"
    assert "End guest links" in page(console.get(ticket_url))
    response = post(console, f"{ticket_url}/guest-links/revoke", csrf_path=ticket_url)
    assert response.status_code == 302
    assert client.get(url).status_code == 302


def test_emails_to_a_customer_without_an_account_open_the_demand(
    app, new_client, db, make_ticket, make_customer, make_user, sent_mail
):
    from helpdesk.core.unit import commit
    from helpdesk.tickets import services as tickets

    ticket = make_ticket(customer=make_customer(email="semconta@example.com"), subject="Sem conta")
    commit()
    agent = make_user(role="agent")
    tickets.add_message(db.session.merge(ticket), agent, "Resolvemos o seu caso.")
    commit()
    assert len(sent_mail) == 2  # the acknowledgement, then the answer
    for message in sent_mail:  # each with its own one-time link that opens the demand
        browser = new_client()
        opened = browser.get(link_in(message, "/guest/"))
        assert opened.location == f"/portal/demands/{ticket.protocol}"
        assert "Sem conta" in page(browser.get(opened.location))


def test_emails_to_a_customer_with_an_account_link_to_the_portal(db, demand, sent_mail):
    from helpdesk.core.unit import commit
    from helpdesk.tickets import services as tickets

    tickets.change_status(db.session.merge(demand), None, "resolved")
    commit()
    [resolved] = sent_mail
    assert f"/portal/demands/{demand.protocol}" in resolved.get_body(("plain",)).get_content()
    assert "/guest/" not in resolved.get_body(("plain",)).get_content()


def test_another_customer_cannot_end_the_guest_access_of_a_demand(
    client, new_client, db, make_user, demand, sent_mail
):
    """Ending guest access is the owner's (or the guest's own browser's): another customer's
    request is refused and the guest keeps the demand open."""
    url = open_as_guest(client, sent_mail, demand)
    stranger = new_client()
    login_as(stranger, make_user(role="customer", email="outra@example.com"))
    response = post(stranger, f"{url}/guest-access/end", csrf_path="/account")
    assert response.status_code in (403, 404)
    assert "Geladeira quebrada" in page(client.get(url))
