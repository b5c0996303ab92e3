"""Merging duplicates: the service's effects and refusals, the API, the console, and the merged
protocol that keeps answering (API, portal owner, guest link, email by subject and by thread)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from helpdesk.core.errors import DomainError
from helpdesk.extensions import db as _db
from helpdesk.mail import services as mail
from helpdesk.tickets.merge import final_survivor, merge_tickets
from helpdesk.tickets.models import Message, Tag, Ticket, TicketEvent
from tests import test_api_support as support
from tests.conftest import customer_of
from tests.test_api_support import API, assert_problem, bearer
from tests.test_console_support import login_as
from tests.test_portal_support import link_in, page, post

token_for = support.token_for


@pytest.fixture
def owner(make_user):
    return make_user(role="customer", email="dona@example.com", name="Dona Maria")


@pytest.fixture
def agent(make_user):
    return make_user("agent", name="Ana Agente")


@pytest.fixture
def pair(owner, make_ticket, agent):
    """The same customer's complaint by phone today and by email tomorrow."""
    customer = customer_of(owner)
    phone = make_ticket(customer=customer, channel="phone", subject="Geladeira quebrada")
    email = make_ticket(
        customer=customer, channel="email", subject="Geladeira não gela", description="Já liguei."
    )
    return phone, email


def _events(ticket, action):
    return _db.session.scalars(
        sa.select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.action == action
        )
    ).all()


def _refresh(*tickets):
    _db.session.expire_all()
    return [_db.session.get(Ticket, t.id) for t in tickets]


# the service ---------------------------------------------------------------------------------


def test_merge_closes_the_duplicate_and_both_histories_say_so(db, pair, agent):
    source, target = pair
    from helpdesk.tickets.services import add_message

    add_message(source, None, "Liguei de novo, nada.", channel="phone")
    tag = Tag(name="geladeira")
    source.tags.append(tag)
    db.session.commit()
    survivor = merge_tickets(source, target, agent, db.session, reason="Mesma geladeira")
    db.session.commit()
    source, target = _refresh(source, target)
    assert survivor.id == target.id
    assert source.status == "closed" and source.merged_into_id == target.id
    assert source.closed_at is not None and source.sla_due_at is None  # clocks stopped
    assert [e.new_value for e in _events(source, "merged")] == [target.protocol]
    assert [e.new_value for e in _events(target, "merged_from")] == [source.protocol]
    assert _events(source, "merged")[0].detail == "Mesma geladeira"
    # the customer reads on the duplicate where it carries on; the survivor's note summarises it
    public = [m for m in source.messages if m.author_kind == "system"]
    assert len(public) == 1 and not public[0].is_internal and target.protocol in public[0].body
    note = [m for m in target.messages if m.author_kind == "system"]
    assert len(note) == 1 and note[0].is_internal
    assert source.protocol in note[0].body and "Liguei de novo, nada." in note[0].body
    # the duplicate's own messages stay where they were written
    assert any(m.body == "Liguei de novo, nada." for m in source.messages)
    assert [t.name for t in target.tags] == ["geladeira"]
    assert [e.new_value for e in _events(target, "tagged")] == ["geladeira"]


def test_merge_carries_the_investigation_link(db, pair, make_user):
    from helpdesk.investigations.operations import open_investigation
    from helpdesk.investigations.queries import link_of

    source, target = pair
    supervisor = make_user("supervisor", name="Sara Supervisora")
    inv = open_investigation(by=supervisor, title="Geladeiras com defeito", from_ticket=source)
    db.session.commit()
    merge_tickets(source, target, supervisor, db.session)
    db.session.commit()
    assert link_of(target).investigation_id == inv.id


def test_merge_into_a_merged_ticket_goes_to_its_final_survivor(db, owner, make_ticket, agent):
    customer = customer_of(owner)
    a, b, c = (make_ticket(customer=customer) for _ in range(3))
    merge_tickets(a, b, agent, db.session)
    db.session.commit()
    survivor = merge_tickets(c, a, agent, db.session)  # a is merged: c goes to b
    db.session.commit()
    assert survivor.id == b.id and final_survivor(a).id == b.id
    with pytest.raises(DomainError):  # a merged ticket cannot be merged again (no cycles)
        merge_tickets(b, a, agent, db.session)


@pytest.mark.parametrize("case", ["itself", "other_customer", "closed_target", "closed_source"])
def test_merge_refusals_change_nothing(db, pair, agent, make_ticket, case):
    source, target = pair
    if case == "itself":
        target = source
    elif case == "other_customer":
        target = make_ticket(subject="De outro cliente")
    elif case == "closed_target":
        target.status = "closed"
    else:
        source.status = "closed"
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        merge_tickets(source, target, agent, db.session)
    db.session.rollback()
    assert refused.value.status in (400, 409)
    assert _db.session.get(Ticket, source.id).merged_into_id is None


def test_staff_who_cannot_work_the_survivor_cannot_merge(db, pair, make_user, make_department):
    source, target = pair
    elsewhere = make_department("Logística")
    target.department_id = elsewhere.id
    db.session.commit()
    agent = make_user("agent", name="Outro Agente")
    with pytest.raises(DomainError) as refused:
        merge_tickets(source, target, agent, db.session)
    assert refused.value.status == 403


# the API -------------------------------------------------------------------------------------


@pytest.fixture
def api(client, agent, token_for):
    return bearer(token_for(agent))


def test_api_merge_answers_with_the_survivor(client, db, pair, api):
    source, target = pair
    response = client.post(
        f"{API}/tickets/{source.protocol}/merge", json={"into": target.protocol}, headers=api
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["protocol"] == target.protocol
    assert _refresh(source)[0].merged_into_id == target.id


def test_api_merge_refusals_are_problems(client, db, pair, api, make_ticket):
    source, target = pair
    stranger = make_ticket(subject="De outro cliente")
    url = f"{API}/tickets/{source.protocol}/merge"
    body = assert_problem(
        client.post(url, json={"into": stranger.protocol}, headers=api),
        409,
        "/problems/merge-refused",
    )
    assert "same customer" in body["detail"]
    assert_problem(client.post(url, json={"into": source.protocol}, headers=api), 409)
    assert_problem(client.post(url, json={}, headers=api), 400)
    assert_problem(client.post(url, json={"into": "123"}, headers=api), 400)
    wrong = target.protocol[:-1] + str((int(target.protocol[-1]) + 1) % 10)
    assert_problem(client.post(url, json={"into": wrong}, headers=api), 400)
    assert _refresh(source)[0].merged_into_id is None


def test_api_merge_is_staff_only(client, db, pair, owner, token_for):
    source, target = pair
    response = client.post(
        f"{API}/tickets/{source.protocol}/merge",
        json={"into": target.protocol},
        headers=bearer(token_for(owner)),
    )
    assert_problem(response, 403)


def test_the_merged_protocol_keeps_answering_in_the_api(client, db, pair, agent, owner, token_for):
    source, target = pair
    merge_tickets(source, target, agent, db.session)
    db.session.commit()
    for user in (agent, owner):
        hdrs = bearer(token_for(user))
        response = client.get(f"{API}/tickets/{source.protocol}", headers=hdrs)
        assert response.status_code == 200
        assert response.get_json()["protocol"] == target.protocol
        assert response.headers["Content-Location"].endswith(f"/tickets/{target.protocol}")
    # a customer's message to the merged protocol lands in the survivor
    response = client.post(
        f"{API}/tickets/{source.protocol}/messages",
        json={"body": "Alguma novidade?"},
        headers=bearer(token_for(owner)),
    )
    assert response.status_code == 201
    assert _db.session.scalar(
        sa.select(Message.ticket_id).where(Message.body == "Alguma novidade?")
    ) == (target.id)
    # the merged protocol's own history ends with its merge
    events = client.get(f"{API}/tickets/{source.protocol}/events", headers=bearer(token_for(agent)))
    assert "merged" in [e["action"] for e in events.get_json()["items"]]


# the portal and guest links ------------------------------------------------------------------


def test_the_owner_opening_the_merged_protocol_lands_on_the_survivor(
    client, db, pair, agent, owner
):
    from tests.test_portal_support import login_as as portal_login

    source, target = pair
    merge_tickets(source, target, agent, db.session)
    db.session.commit()
    portal_login(client, owner)
    response = client.get(f"/portal/demands/{source.protocol}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/portal/demands/{target.protocol}")
    html = page(client.get(response.headers["Location"]))
    assert "was merged into" in html and "Geladeira não gela" in html
    listing = page(client.get("/portal/demands"))
    assert "Merged into" in listing


def test_a_guest_link_to_the_merged_protocol_opens_the_survivor(client, db, pair, agent, sent_mail):
    source, target = pair
    merge_tickets(source, target, agent, db.session)
    db.session.commit()
    sent_mail.clear()
    post(client, "/guest", {"protocol": source.protocol, "email": "dona@example.com"})
    client.get(link_in(sent_mail[-1], "/guest/"))
    response = client.get(f"/portal/demands/{source.protocol}", follow_redirects=True)
    assert response.status_code == 200
    assert "Geladeira não gela" in page(response)
    assert client.get(f"/portal/demands/{target.protocol}").status_code == 200


# inbound email -------------------------------------------------------------------------------


def _mail(subject: str, extra: str = "", msgid: str = "m1") -> bytes:
    return (
        f"From: Dona Maria <dona@example.com>\r\nTo: sac@example.com\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{msgid}@example.com>\r\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\nContinua sem gelar.\r\n"
    ).encode()


def test_an_email_quoting_the_merged_protocol_lands_in_the_survivor(db, pair, agent):
    source, target = pair
    merge_tickets(source, target, agent, db.session)
    db.session.commit()
    row = mail.ingest(_mail(f"Re: [#{source.protocol}] Geladeira")).row
    db.session.commit()
    assert row.state == "appended" and row.ticket_id == target.id


def test_a_reply_to_our_email_about_the_merged_ticket_lands_in_the_survivor(db, pair, agent):
    from helpdesk.notifications.services import make_message_id

    source, target = pair
    ours = make_message_id(source.id)
    merge_tickets(source, target, agent, db.session)
    db.session.commit()
    row = mail.ingest(_mail("Re: sua demanda", f"In-Reply-To: {ours}\r\n", msgid="m2")).row
    db.session.commit()
    assert row.state == "appended" and row.reason == "our_message_id"
    assert row.ticket_id == target.id


# the console ---------------------------------------------------------------------------------


def test_console_merge_confirms_then_merges_and_shows_the_banner(client, app, db, pair, agent):
    source, target = pair
    login_as(client, app, agent)
    workspace = page(client.get(f"/console/tickets/{source.protocol}"))
    assert "Merge into" in workspace and target.protocol in workspace  # a candidate
    confirm = client.get(f"/console/tickets/{source.protocol}/merge?into={target.protocol}")
    html = page(confirm)
    assert confirm.status_code == 200
    assert "Geladeira quebrada" in html and "Geladeira não gela" in html
    response = client.post(
        f"/console/tickets/{source.protocol}/merge",
        data={"into": target.protocol, "reason": "Duplicada"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/console/tickets/{target.protocol}")
    merged = page(client.get(f"/console/tickets/{source.protocol}"))
    assert "This demand was merged into" in merged and target.protocol in merged
    survivor = page(client.get(f"/console/tickets/{target.protocol}"))
    assert source.protocol in survivor  # the note and the history name the duplicate


def test_console_merge_refused_shows_why_and_changes_nothing(
    client, app, db, pair, agent, make_ticket
):
    source, _target = pair
    stranger = make_ticket(subject="De outro cliente")
    login_as(client, app, agent)
    confirm = client.get(f"/console/tickets/{source.protocol}/merge?into={stranger.protocol}")
    assert confirm.status_code == 400 and "same customer" in page(confirm)
    response = client.post(
        f"/console/tickets/{source.protocol}/merge", data={"into": stranger.protocol}
    )
    assert response.status_code == 400 and "same customer" in page(response)
    assert _refresh(source)[0].merged_into_id is None
    bad = client.get(f"/console/tickets/{source.protocol}/merge?into=abc")
    assert bad.status_code == 400
