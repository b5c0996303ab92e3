"""The rows of SECURITY.md about email, each with its test: stored XSS through inbound mail (1),
uploads through attachments (3), trusting inbound email (5), header injection (7), unbounded
input (9), and mail loops."""

from __future__ import annotations

import base64
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk.core.unit import commit
from helpdesk.mail import services as mail
from helpdesk.notifications.models import OutboxMessage
from helpdesk.notifications.services import make_message_id
from helpdesk.tickets.models import Attachment, Message, Ticket


@pytest.fixture(autouse=True)
def _department(default_department):
    """New tickets need a department."""


def _mail(subject="Oi", body="Texto", sender="Bia <bia@example.org>", extra="", mid="<m1@x>"):
    return (
        f"From: {sender}\r\nTo: sac@example.com\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n"
        f"{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def test_row1_xss_in_an_inbound_subject_is_escaped_in_our_acknowledgement(db, sent_mail):
    mail.ingest(_mail(subject="<img src=x onerror=alert(1)>"))
    commit()
    html = sent_mail[0].get_body(("html",)).get_content()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_row3_dangerous_attachments_are_refused_and_kept_ones_are_stored_safely(app, db):
    names = ["x.html", "x.svg", "x.php", ".htaccess", "\u200b.htaccess", "../../x.pdf", "ok.pdf"]
    parts = []
    for name in names:
        encoded = "=?utf-8?b?" + base64.b64encode(name.encode()).decode() + "?="
        parts.append(
            f'--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="{encoded}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(b"%PDF-1.4 x").decode()
            + "\r\n"
        )
    raw = (
        "From: bia@example.org\r\nTo: sac@example.com\r\nSubject: files\r\nMessage-ID: <f1@x>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nsee files\r\n" + "".join(parts) + "--b--\r\n"
    ).encode()
    row = mail.ingest(raw).row
    db.session.commit()
    kept = db.session.scalars(
        sa.select(Attachment).where(Attachment.ticket_id == row.ticket_id)
    ).all()
    assert sorted(a.filename for a in kept) == ["ok.pdf", "x.pdf"]  # the path is dropped
    upload_dir = Path(app.config["UPLOAD_DIR"]).resolve()
    for a in kept:
        assert a.storage_name != a.filename and len(a.storage_name) == 32
        assert (upload_dir / a.storage_name[:2] / a.storage_name).is_file()
    description = db.session.get(Ticket, row.ticket_id).description
    assert description.count("Attachment not kept") == 5


def test_row3_attachments_over_the_size_limit_are_not_kept(app, db):
    app.config["MAX_ATTACHMENT_BYTES"], old = 1000, app.config["MAX_ATTACHMENT_BYTES"]
    try:
        raw = (
            "From: bia@example.org\r\nTo: sac@example.com\r\nSubject: big\r\nMessage-ID: <big@x>\r\n"
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: text/plain\r\n\r\nbig file\r\n--b\r\nContent-Type: application/pdf\r\n"
            'Content-Disposition: attachment; filename="big.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + base64.b64encode(b"%PDF" + bytes(5000)).decode()
            + "\r\n--b--\r\n"
        ).encode()
        row = mail.ingest(raw).row
        db.session.commit()
    finally:
        app.config["MAX_ATTACHMENT_BYTES"] = old
    assert row.state == "created"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


def test_row5_spoofed_agent_from_never_posts_as_the_agent(
    db, make_ticket, make_customer, make_user
):
    agent = make_user(role="agent", email="agent@example.com")
    ticket = make_ticket(customer=make_customer(email="carla@example.com"))
    db.session.commit()
    ours = db.session.scalar(sa.select(OutboxMessage.message_id))
    raw = _mail(
        subject=f"Re: [#{ticket.protocol}]",
        sender=f"Agent <{agent.email}>",
        extra=f"In-Reply-To: {ours}\r\nX-Helpdesk-Internal: yes\r\nX-Helpdesk-Status: closed\r\n",
        body="Encerrado.",
    )
    row = mail.ingest(raw).row
    db.session.commit()
    # issue 9: the agent's address is no participant of the ticket (staff never reply by email),
    # so the genuine reference opens a new ticket for that sender, as a customer's demand
    assert row.state == "created" and row.reason == "sender_not_participant"
    new = db.session.get(Ticket, row.ticket_id)
    assert new.id != ticket.id and new.customer.primary_email == agent.email
    assert new.status != "closed"  # unknown control headers are ignored
    assert not db.session.scalars(sa.select(Message).where(Message.author_id.is_not(None))).all()
    assert db.session.get(Ticket, ticket.id).status != "closed"


def test_row5_forged_reply_token_and_stolen_protocol_open_new_tickets(
    db, make_ticket, make_customer
):
    ticket = make_ticket(customer=make_customer(email="carla@example.com"))
    db.session.commit()
    real = make_message_id(ticket.id)
    local, domain = real.strip("<>").split("@")
    tid, rand, mac = local.split(".")
    forged = f"<{tid}.{rand}.{'f' * len(mac)}@{domain}>"
    other_ticket = f"<t{ticket.id + 1000}.{rand}.{mac}@{domain}>"  # a valid MAC for another id
    for n, extra in enumerate(
        [f"In-Reply-To: {forged}\r\n", f"References: {other_ticket}\r\n", ""], start=1
    ):
        raw = _mail(
            subject=f"Re: [#{ticket.protocol}]",
            sender="Mallory <mallory@evil.example>",
            extra=extra,
            mid=f"<evil{n}@x>",
        )
        row = mail.ingest(raw).row
        assert row.state == "created" and row.ticket_id != ticket.id
    db.session.commit()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Message).where(Message.ticket_id == ticket.id)
        )
        == 0
    )


def test_row7_crlf_in_an_inbound_display_name_gives_one_clean_header_block(db, sent_mail):
    sender = "=?utf-8?q?Eva=0D=0ABcc:_x@evil.example?= <eva@example.org>"
    mail.ingest(_mail(sender=sender, subject="=?utf-8?q?Oi=0D=0ABcc:_y@evil.example?="))
    commit()
    raw = bytes(sent_mail[0])
    head = raw.split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in head
    msg = message_from_bytes(raw, policy=default_policy)
    assert msg["Bcc"] is None and msg["To"].addresses[0].addr_spec == "eva@example.org"


def test_row9_huge_subject_and_body_do_not_break_ingest(db):
    row = mail.ingest(_mail(subject="A" * 1_000_000, body="B" * 3_000_000)).row
    db.session.commit()
    assert row.state == "created"
    ticket = db.session.get(Ticket, row.ticket_id)
    assert len(ticket.subject) <= 200 and len(ticket.description) <= 20000


def test_loops_our_mail_is_marked_automatic_and_automatic_mail_is_never_answered(db, sent_mail):
    mail.ingest(_mail())
    commit()
    ours = sent_mail[0]
    assert ours["Auto-Submitted"] == "auto-generated"
    # that acknowledgement bounced back to us (an alias forwarding to itself)
    back = mail.ingest(bytes(ours)).row
    # an autoresponder answering it
    auto = mail.ingest(_mail(mid="<auto@x>", extra="Auto-Submitted: auto-replied\r\n")).row
    commit()
    assert back.state == "ignored" and auto.state == "ignored"
    assert len(sent_mail) == 1
