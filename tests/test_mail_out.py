"""Email out, received by a real SMTP server (aiosmtpd on 127.0.0.1): localized HTML and text
parts, `[#protocol]` in the subject, our HMAC'd Message-ID, In-Reply-To/References chaining the
ticket's thread, retries with back-off, the delivery log and the dead letter an admin retries."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import sqlalchemy as sa

from helpdesk.core.clock import as_utc, now
from helpdesk.core.unit import commit
from helpdesk.notifications.models import OutboxAttempt, OutboxMessage
from helpdesk.notifications.services import (
    deliver_outbox,
    retry_dead_letter,
    verify_message_id,
)
from helpdesk.tickets.services import add_message
from tests.mailservers import free_port


def _received(inbox, n=-1):
    rcpts, raw = inbox.messages[n]
    return rcpts, message_from_bytes(raw, policy=default_policy)


def test_acknowledgement_arrives_with_both_parts_protocol_and_our_headers(
    db, smtp_server, make_customer, make_ticket
):
    customer = make_customer(name="Carla Souza", email="carla@example.com", locale="pt_BR")
    ticket = make_ticket(customer=customer, subject="Cobrança indevida")
    commit()
    rcpts, msg = _received(smtp_server)
    assert rcpts == ["carla@example.com"]
    assert msg["Subject"].startswith(f"[#{ticket.protocol}] ")
    assert msg["Subject"] == f"[#{ticket.protocol}] Recebemos a sua demanda"  # pt, no repeat
    assert msg["To"].addresses[0].display_name == "Carla Souza"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert verify_message_id(msg["Message-ID"]) == ticket.id
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    from helpdesk.tickets.protocol import display

    # grouped for reading aloud in the body (issue 9); the subject tag above keeps the digits
    assert display(ticket.protocol) in text and display(ticket.protocol) in html
    assert "Olá" in text and "<p>" in html
    assert msg["In-Reply-To"] is None  # the first message of the thread


def test_spanish_customer_gets_spanish_mail(db, smtp_server, make_customer, make_ticket):
    customer = make_customer(email="lucia@example.com", locale="es")
    make_ticket(customer=customer)
    commit()
    _, msg = _received(smtp_server)
    assert "Hola" in msg.get_body(("plain",)).get_content()


def test_answer_threads_under_the_acknowledgement(
    db, smtp_server, make_customer, make_ticket, make_user
):
    agent = make_user(role="agent")
    ticket = make_ticket(customer=make_customer(email="ana@example.com"))
    commit()
    add_message(ticket, agent, "Estornamos o valor.")
    commit()
    resolved = add_message(ticket, agent, "Resolvido.", new_status="resolved")
    assert resolved
    commit()
    msgs = [_received(smtp_server, i)[1] for i in range(len(smtp_server.messages))]
    ack, answer, last = msgs[0], msgs[1], msgs[-1]
    assert answer["In-Reply-To"] == ack["Message-ID"]
    assert answer["References"].split() == [ack["Message-ID"]]
    assert last["References"].split()[:2] == [ack["Message-ID"], answer["Message-ID"]]
    assert last["In-Reply-To"] == last["References"].split()[-1]
    assert all(f"[#{ticket.protocol}]" in m["Subject"] for m in msgs)
    assert "Estornamos o valor." in answer.get_body(("plain",)).get_content()
    assert len({m["Message-ID"] for m in msgs}) == len(msgs)


def test_crlf_in_subject_cannot_inject_headers(db, smtp_server, make_customer, make_ticket):
    customer = make_customer(name="Eva\r\nBcc: x@evil.example", email="eva@example.com")
    make_ticket(customer=customer, subject="Oi\r\nBcc: y@evil.example\r\n\r\nbody")
    commit()
    rcpts, msg = _received(smtp_server)
    assert rcpts == ["eva@example.com"]
    raw = smtp_server.messages[0][1]
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in head and msg["Bcc"] is None
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]


def test_smtp_refusal_is_retried_with_backoff_logged_then_dead_lettered(
    app, db, smtp_server, make_ticket
):
    app.config["OUTBOX_MAX_ATTEMPTS"], old = 3, app.config["OUTBOX_MAX_ATTEMPTS"]
    smtp_server.refuse = True
    try:
        make_ticket()
        commit()  # first attempt, refused by the server: the request still succeeds
        row = db.session.scalar(sa.select(OutboxMessage))
        first_id = row.message_id
        assert row.status == "pending" and row.attempts == 1
        assert as_utc(row.next_attempt_at) > now() + timedelta(minutes=1)  # backed off
        for _ in range(2):
            row.next_attempt_at = now() - timedelta(seconds=1)
            db.session.commit()
            deliver_outbox()
            db.session.refresh(row)
        assert row.status == "dead" and row.attempts == 3
        assert "451" in row.last_error
        log = db.session.scalars(sa.select(OutboxAttempt).order_by(OutboxAttempt.id)).all()
        assert [a.ok for a in log] == [False, False, False]
        assert all("451" in a.error and a.attempted_at for a in log)
        assert deliver_outbox() == {"sent": 0, "failed": 0}  # dead letters wait for an admin
        smtp_server.refuse = False
        retry_dead_letter(row)
        db.session.commit()
        assert deliver_outbox() == {"sent": 1, "failed": 0}
        db.session.refresh(row)
        assert row.status == "sent" and row.message_id == first_id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxAttempt)) == 4
        _, msg = _received(smtp_server)
        assert msg["Message-ID"] == first_id  # a retry never starts a new thread
    finally:
        app.config["OUTBOX_MAX_ATTEMPTS"] = old


def test_only_dead_letters_can_be_retried(db, make_ticket):
    from helpdesk.core.errors import Conflict

    make_ticket()
    db.session.commit()
    row = db.session.scalar(sa.select(OutboxMessage))
    with pytest.raises(Conflict):
        retry_dead_letter(row)


def test_unreachable_server_is_logged_as_an_attempt(app, db, make_ticket):
    app.config.update(MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    try:
        make_ticket()
        commit()
    finally:
        app.config.update(MAIL_TRANSPORT="memory")
    attempt = db.session.scalar(sa.select(OutboxAttempt))
    assert attempt is not None and not attempt.ok and attempt.error
