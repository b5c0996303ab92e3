"""The outbox: queued in the business transaction, delivered after commit to a real SMTP server
on 127.0.0.1, retried on failure without changing the Message-ID, headers never injectable."""

import socket
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import sqlalchemy as sa

from helpdesk.notifications.models import OutboxMessage
from helpdesk.notifications.services import deliver_outbox, verify_message_id


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler protocol
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server(app):
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    old = {k: app.config[k] for k in ("MAIL_TRANSPORT", "SMTP_HOST", "SMTP_PORT")}
    app.config.update(MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    yield inbox
    controller.stop()
    app.config.update(old)


def test_acknowledgement_reaches_smtp_server_with_protocol(
    db, smtp_server, make_customer, make_ticket
):
    from helpdesk.core.unit import commit

    customer = make_customer(email="carla@example.com")
    ticket = make_ticket(customer=customer, subject="Cobrança indevida")
    commit()
    assert len(smtp_server.messages) == 1
    rcpts, raw = smtp_server.messages[0]
    assert rcpts == ["carla@example.com"]
    msg = message_from_bytes(raw, policy=default_policy)
    assert ticket.protocol in msg["Subject"]
    # the body shows it grouped for reading aloud (issue 9); the subject tag keeps the digits
    from helpdesk.tickets.protocol import display

    assert display(ticket.protocol) in msg.get_body(("plain",)).get_content()
    assert verify_message_id(msg["Message-ID"]) == ticket.id
    row = db.session.scalar(sa.select(OutboxMessage))
    assert row.status == "sent" and row.sent_at is not None


def test_failed_delivery_is_retried_later_with_the_same_message_id(app, db, make_ticket):
    from helpdesk.core.unit import commit

    app.config.update(MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port())
    try:
        make_ticket()
        commit()  # the SMTP server is down: the request still succeeds
        row = db.session.scalar(sa.select(OutboxMessage))
        assert row.status == "pending" and row.attempts == 1 and row.last_error
        first_id = row.message_id
    finally:
        app.config.update(MAIL_TRANSPORT="memory")
    row.next_attempt_at = row.created_at  # due again
    db.session.commit()
    assert deliver_outbox() == {"sent": 1, "failed": 0}
    db.session.refresh(row)
    assert row.status == "sent" and row.message_id == first_id and row.attempts == 2


def test_two_delivery_runs_send_each_message_once(app, db, make_ticket, sent_mail):
    make_ticket()
    make_ticket()
    db.session.commit()
    first = deliver_outbox()
    second = deliver_outbox()
    assert first["sent"] == 2 and second["sent"] == 0
    assert len(sent_mail) == 2


def test_crlf_in_customer_name_cannot_inject_headers(db, make_customer, make_ticket, sent_mail):
    from helpdesk.core.unit import commit

    customer = make_customer(name="Eva\r\nBcc: x@evil.example", email="eva@example.com")
    make_ticket(customer=customer)
    commit()
    raw = bytes(sent_mail[0])
    headers = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in headers and b"\r\nBcc:" not in headers
    assert sent_mail[0]["To"].addresses[0].addr_spec == "eva@example.com"


def test_forged_message_id_is_not_ours(app, db):
    assert verify_message_id("<t12.abcdef.0000000000000000@helpdesk.local>") is None
    assert verify_message_id("<t12.abc.def@other.example>") is None
    assert verify_message_id("garbage") is None


def test_xss_in_subject_is_escaped_in_html_email(db, make_ticket, sent_mail):
    from helpdesk.core.unit import commit

    make_ticket(subject="<img src=x onerror=alert(1)>")
    commit()
    html = sent_mail[0].get_body(("html",)).get_content()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_claim_is_released_only_when_it_is_old(app, db, make_ticket):
    from datetime import UTC, datetime, timedelta

    import time_machine

    from helpdesk.notifications.services import release_stale_claims

    with time_machine.travel(datetime(2026, 1, 1, 12, 0, tzinfo=UTC), tick=False):
        make_ticket()  # queued long ago, still pending
        db.session.commit()
    row = db.session.scalar(sa.select(OutboxMessage))
    row.status, row.claimed_at = "sending", datetime.now(UTC)  # a worker is sending it right now
    db.session.commit()
    assert release_stale_claims() == 0
    row.claimed_at = datetime.now(UTC) - timedelta(minutes=20)  # that worker died
    db.session.commit()
    assert release_stale_claims() == 1
    db.session.refresh(row)
    assert row.status == "pending"


def test_by_default_requests_leave_mail_to_the_scheduler(app, db, make_ticket, sent_mail):
    from helpdesk.core.unit import commit
    from helpdesk.scheduler import deliver_outbox_job

    app.config["OUTBOX_DELIVER_IN_REQUEST"] = False
    try:
        make_ticket()
        commit()
        assert sent_mail == []
        assert db.session.scalar(sa.select(OutboxMessage.status)) == "pending"
        assert deliver_outbox_job() == {"released": 0, "sent": 1, "failed": 0}
        assert len(sent_mail) == 1
        assert deliver_outbox_job() is None  # nothing left: nothing sent twice
    finally:
        app.config["OUTBOX_DELIVER_IN_REQUEST"] = True
