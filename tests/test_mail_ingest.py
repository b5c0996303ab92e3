"""The ingest service beyond single messages: idempotent under two concurrent workers, counts
that add up, failed messages reprocessed, the mailbox's department, closed tickets, and no
acknowledgement (no mail loop) for automatic messages."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk.mail import services as mail
from helpdesk.mail.models import InboundMessage
from helpdesk.notifications.models import OutboxMessage
from helpdesk.tickets.models import Ticket

CORPUS = Path(__file__).parent / "fixtures" / "email"

SIMPLE = (
    b"From: Bia Nunes <bia@example.org>\r\nTo: sac@example.com\r\n"
    b"Subject: Quero cancelar\r\nMessage-ID: <simple-1@example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nQuero cancelar meu plano.\r\n"
)


@pytest.fixture(autouse=True)
def _department(default_department):
    """New tickets need a department to land in."""


def _count(model, *where):
    from helpdesk.extensions import db

    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_new_sender_becomes_a_customer_with_an_email_ticket_and_an_acknowledgement(db, sent_mail):
    from helpdesk.core.unit import commit

    result = mail.ingest(SIMPLE)
    commit()
    ticket = db.session.get(Ticket, result.row.ticket_id)
    assert ticket.channel == "email" and ticket.customer.name == "Bia Nunes"
    assert ticket.customer.primary_email == "bia@example.org"
    assert len(sent_mail) == 1
    ack = sent_mail[0]
    assert f"[#{ticket.protocol}]" in ack["Subject"]
    assert ack["In-Reply-To"] == "<simple-1@example.org>"  # threads under the customer's mail


@pytest.mark.commits
def test_two_workers_importing_the_same_message_at_once_make_one_entry(app, db):
    db.session.commit()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        with app.app_context():
            from helpdesk.extensions import db as wdb

            try:
                barrier.wait(timeout=10)
                results.append(mail.ingest(SIMPLE).duplicate)
                wdb.session.commit()
            except Exception as exc:  # reported below
                wdb.session.rollback()
                errors.append(exc)
            finally:
                wdb.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    db.session.expire_all()
    assert _count(InboundMessage) == 1
    assert _count(Ticket) == 1
    # one worker imported it; the other saw a duplicate (or lost the race at commit and retries)
    assert results.count(False) == 1 and len(results) + len(errors) == 2


def test_counts_add_up_over_the_whole_corpus(db, make_customer, make_ticket):
    make_ticket(customer=make_customer(email="carla@example.com"))
    db.session.commit()
    files = sorted(CORPUS.glob("*.eml"))
    for path in files:
        mail.ingest(path.read_bytes())
        db.session.commit()
    counts = mail.inbound_counts()
    received = _count(InboundMessage)
    assert received == len(files)
    assert counts["received"] == 0
    assert received == counts["created"] + counts["appended"] + counts["ignored"] + counts["failed"]
    assert counts["ignored"] >= 6 and counts["failed"] >= 1 and counts["created"] >= 20


def test_a_failed_message_is_kept_and_can_be_reprocessed(db, monkeypatch):
    from helpdesk.mail import services

    def broken(raw):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(services, "parse", broken)
    row = mail.ingest(SIMPLE).row
    db.session.commit()
    assert row.state == "failed" and "parser bug" in row.error and row.raw == SIMPLE
    monkeypatch.undo()
    mail.reprocess(row)
    db.session.commit()
    assert row.state == "created" and row.error == "" and row.attempts == 2
    assert _count(Ticket) == 1


def test_only_failed_messages_are_reprocessed(db):
    from helpdesk.core.errors import Conflict

    row = mail.ingest(SIMPLE).row
    with pytest.raises(Conflict):
        mail.reprocess(row)


def test_new_tickets_go_to_the_mailbox_department_when_no_rule_matches(db, make_department):
    billing = make_department(name="Cobrança")
    box = mail.create_mailbox(
        name="cobranca",
        host="127.0.0.1",
        port=143,
        tls_mode="none",
        folder="INBOX",
        username="cobranca",
        department_id=billing.id,
        active=True,
    )
    row = mail.ingest(SIMPLE, box).row
    db.session.commit()
    assert db.session.get(Ticket, row.ticket_id).department_id == billing.id
    # the same message in another mailbox is another entry; in the same one, a duplicate
    assert mail.ingest(SIMPLE, box).duplicate
    assert not mail.ingest(SIMPLE, None).duplicate


def test_a_reply_to_a_closed_ticket_opens_a_new_one(db, make_customer, make_ticket):
    ticket = make_ticket(customer=make_customer(email="bia@example.org"))
    ticket.status = "closed"
    db.session.commit()
    raw = SIMPLE.replace(b"Quero cancelar\r\n", f"Re: [#{ticket.protocol}] x\r\n".encode())
    row = mail.ingest(raw).row
    db.session.commit()
    assert row.state == "created" and row.reason == "closed_ticket"
    assert row.ticket_id != ticket.id


def test_a_customer_follow_up_to_their_own_mail_lands_on_the_same_ticket(db):
    first = mail.ingest(SIMPLE).row
    db.session.commit()
    follow = SIMPLE.replace(b"<simple-1@example.org>", b"<simple-2@example.org>").replace(
        b"Subject: Quero cancelar", b"In-Reply-To: <simple-1@example.org>\r\nSubject: Re: oi"
    )
    row = mail.ingest(follow).row
    assert row.state == "appended" and row.reason == "their_message_id"
    assert row.ticket_id == first.ticket_id
    # someone else quoting that Message-ID does not get in
    other = follow.replace(b"bia@example.org", b"mallory@evil.example").replace(
        b"<simple-2@", b"<simple-3@"
    )
    assert mail.ingest(other).row.state == "created"


def test_auto_replies_are_never_answered(db, sent_mail):
    from helpdesk.core.unit import commit

    raw = SIMPLE.replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:")
    row = mail.ingest(raw).row
    commit()
    assert row.state == "ignored" and sent_mail == []
    assert _count(OutboxMessage) == 0 and _count(Ticket) == 0


def test_demo_email_demands_show_a_stripped_reply_with_the_original_kept(db):
    from helpdesk.mail.demo import load_mail_demo
    from helpdesk.mail.models import Mailbox
    from helpdesk.tickets.models import Message

    assert load_mail_demo() == 2
    db.session.commit()
    box = db.session.scalar(sa.select(Mailbox))
    assert box.host == "127.0.0.1" and not box.active
    reply = db.session.scalar(sa.select(InboundMessage).where(InboundMessage.state == "appended"))
    message = db.session.get(Message, reply.ticket_message_id)
    assert "Ainda não vi o estorno" in message.body and "escreveu" not in message.body
    assert "escreveu" in reply.body_full
    assert _count(Ticket, Ticket.channel == "email") == 2
    assert set(db.session.scalars(sa.select(OutboxMessage.status))) == {"sent"}
