"""Email sender authenticity (issue 9): a genuine reference to our mail from someone who is not a
participant of the ticket opens a new ticket; the Authentication-Results of our own receiving
server (only that header) are stored and shown; an admin may hold unauthenticated replies to
existing tickets for review and release them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from helpdesk.customers.models import CustomerEmail
from helpdesk.mail import services as mail
from helpdesk.mail.models import InboundMessage
from helpdesk.notifications.models import OutboxMessage
from helpdesk.tickets.models import Message, Ticket
from tests.conftest import csrf_from

OURS_AR = (
    "Authentication-Results: mx.sac.example; spf=pass smtp.mailfrom=example.com;\r\n"
    " dkim=pass (2048-bit key) header.d=example.com; dmarc=pass header.from=example.com\r\n"
)
FAIL_AR = (
    "Authentication-Results: mx.sac.example; spf=fail smtp.mailfrom=example.com;"
    " dkim=none; dmarc=fail (p=reject) header.from=example.com\r\n"
)


@pytest.fixture
def thread(db, make_customer, make_ticket):
    customer = make_customer(name="Carla Souza", email="carla@example.com")
    ticket = make_ticket(customer=customer)
    ours = db.session.scalar(
        sa.select(OutboxMessage.message_id).where(OutboxMessage.ticket_id == ticket.id)
    )
    return ticket, ours


def _reply(ours, sender="Carla Souza <carla@example.com>", extra="", mid="<r1@example.com>"):
    return (
        f"{extra}From: {sender}\r\nTo: sac@example.com\r\nSubject: Re: sua demanda\r\n"
        f"Message-ID: {mid}\r\nIn-Reply-To: {ours}\r\nReferences: {ours}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nAinda aguardo o estorno.\r\n"
    ).encode()


def _messages(db, ticket):
    return db.session.scalars(sa.select(Message).where(Message.ticket_id == ticket.id)).all()


def test_a_genuine_reference_from_a_stranger_opens_a_new_ticket(db, thread):
    ticket, ours = thread
    row = mail.ingest(_reply(ours, sender="Mallory <mallory@evil.example>")).row
    db.session.commit()
    assert row.state == "created" and row.reason == "sender_not_participant"
    new = db.session.get(Ticket, row.ticket_id)
    assert new.id != ticket.id and new.customer.primary_email == "mallory@evil.example"
    assert _messages(db, ticket) == []  # nothing landed on Carla's ticket


def test_participants_reply_into_the_ticket(db, thread):
    ticket, ours = thread
    db.session.add(CustomerEmail(customer_id=ticket.customer_id, email="carla@work.example"))
    db.session.commit()
    first = mail.ingest(_reply(ours)).row
    second = mail.ingest(_reply(ours, sender="carla@work.example", mid="<r2@work.example>")).row
    db.session.commit()
    assert (first.state, first.ticket_id) == ("appended", ticket.id)
    assert (second.state, second.ticket_id) == ("appended", ticket.id)


def test_only_our_servers_authentication_results_count(app, db, thread):
    ticket, ours = thread
    forged_below = "Authentication-Results: mx.sac.example; spf=pass; dkim=pass; dmarc=pass\r\n"
    top_fail = FAIL_AR
    row = mail.ingest(_reply(ours, extra=top_fail + forged_below)).row
    db.session.commit()
    # the top-most header is the one our server added last; the sender's own one is ignored
    assert (row.auth_spf, row.auth_dkim, row.auth_dmarc) == ("fail", "none", "fail")
    # with our authserv-id configured, only a header with that id counts, wherever it is
    app.config["MAIL_AUTHSERV_ID"] = "mx.sac.example"
    try:
        sender_made = "Authentication-Results: mx.evil.example; spf=pass; dkim=pass; dmarc=pass\r\n"
        other = mail.ingest(_reply(ours, extra=sender_made + OURS_AR, mid="<r3@x>")).row
        none = mail.ingest(_reply(ours, extra=sender_made, mid="<r4@x>")).row
        db.session.commit()
    finally:
        app.config["MAIL_AUTHSERV_ID"] = ""
    assert (other.auth_spf, other.auth_dkim, other.auth_dmarc) == ("pass", "pass", "pass")
    assert "mx.sac.example" in other.auth_header
    assert (none.auth_spf, none.auth_dkim, none.auth_dmarc, none.auth_header) == ("", "", "", "")


def test_agents_see_the_verdicts_on_the_original_email(client, auth, db, thread, make_user):
    ticket, ours = thread
    agent = make_user(role="agent")
    row = mail.ingest(_reply(ours, extra=FAIL_AR)).row
    db.session.commit()
    auth.login(agent)
    html = client.get(f"/console/tickets/{ticket.protocol}/emails/{row.id}").get_data(as_text=True)
    assert "Sender authentication" in html
    assert "SPF: fail" in html and "DMARC: fail" in html and "DKIM: none" in html


def _hold_box(db):
    box = mail.create_mailbox(
        name="sac",
        host="127.0.0.1",
        port=143,
        tls_mode="none",
        folder="INBOX",
        username="sac",
        department_id=None,
        active=False,
        hold_unauthenticated=True,
    )
    db.session.commit()
    return box


def test_unauthenticated_replies_are_held_and_an_admin_releases_them(
    client, auth, db, thread, make_user
):
    ticket, ours = thread
    box = _hold_box(db)
    good = mail.ingest(_reply(ours, extra=OURS_AR, mid="<good@x>"), box).row
    bad = mail.ingest(_reply(ours, extra=FAIL_AR, mid="<bad@x>"), box).row
    unknown = mail.ingest(_reply(ours, mid="<unknown@x>"), box).row  # no verdict at all
    new = mail.ingest(  # a new demand is never held: it lands in no one else's ticket
        _reply("<nothing@x>", sender="bia@example.org", extra=FAIL_AR, mid="<new@x>"), box
    ).row
    db.session.commit()
    assert good.state == "appended"
    assert bad.state == "held" and unknown.state == "held" and new.state == "created"
    assert len(_messages(db, ticket)) == 1  # only the authenticated reply
    assert mail.inbound_counts()["held"] == 2

    admin = make_user(role="admin")
    auth.login(admin)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Replies held for review" in page and f"/admin/mail/inbound/{bad.id}/release" in page
    assert ticket.protocol in page
    detail = client.get(f"/admin/mail/inbound/{bad.id}").get_data(as_text=True)
    assert "DMARC: fail" in detail
    token = csrf_from(client, "/admin/mail")
    answer = client.post(f"/admin/mail/inbound/{bad.id}/release", data={"csrf_token": token})
    assert answer.status_code == 302
    db.session.expire_all()
    released = db.session.get(InboundMessage, bad.id)
    assert released.state == "appended" and released.ticket_id == ticket.id
    assert len(_messages(db, ticket)) == 2
    # a second release is refused with a message, not a 500
    again = client.post(
        f"/admin/mail/inbound/{bad.id}/release", data={"csrf_token": token}, follow_redirects=True
    )
    assert again.status_code == 200 and "Only a held message can be released." in again.get_data(
        as_text=True
    )


def test_the_pipe_holds_when_configured_and_not_by_default(app, db, thread):
    ticket, ours = thread
    row = mail.ingest(_reply(ours, extra=FAIL_AR)).row
    assert row.state == "appended"  # off by default: nothing changes for existing set-ups
    app.config["MAIL_HOLD_UNAUTHENTICATED"] = True
    try:
        held = mail.ingest(_reply(ours, extra=FAIL_AR, mid="<r9@x>")).row
    finally:
        app.config["MAIL_HOLD_UNAUTHENTICATED"] = False
    assert held.state == "held"


def test_the_admin_sets_holding_on_a_mailbox(client, auth, db, make_user):
    box = _hold_box(db)
    box.hold_unauthenticated = False
    db.session.commit()
    auth.login(make_user(role="admin"))
    url = f"/admin/mailboxes/{box.id}"
    form = client.get(url).get_data(as_text=True)
    assert 'name="hold_unauthenticated"' in form
    data = {
        "csrf_token": csrf_from(client, url),
        "name": "sac",
        "host": "127.0.0.1",
        "port": "143",
        "tls_mode": "none",
        "folder": "INBOX",
        "username": "sac",
        "department_id": "0",
        "hold_unauthenticated": "y",
    }
    assert client.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(box), box.id).hold_unauthenticated is True


@pytest.mark.parametrize("role", ["anonymous", "customer", "agent", "supervisor"])
def test_only_an_admin_releases_a_held_reply(client, auth, db, thread, make_user, role):
    """Releasing puts a stranger's words into a demand: nobody but an admin may do it."""
    ticket, ours = thread
    bad = mail.ingest(_reply(ours, extra=FAIL_AR, mid="<bad@x>"), _hold_box(db)).row
    db.session.commit()
    if role != "anonymous":
        auth.login(make_user(role=role))
    page = {"anonymous": "/login", "customer": "/account"}.get(role, "/console/")
    token = csrf_from(client, page)
    answer = client.post(f"/admin/mail/inbound/{bad.id}/release", data={"csrf_token": token})
    if role == "anonymous":
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    else:
        assert answer.status_code == 403
    db.session.expire_all()
    assert db.session.get(InboundMessage, bad.id).state == "held"
    assert _messages(db, ticket) == []  # nothing of the held reply reached the demand
