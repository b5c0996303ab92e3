"""Sender forms beyond the corpus: a From whose only address cannot be stored (a control
character, a local part over 64 characters) falls back to the next sender header instead of
failing the message."""

from __future__ import annotations

import pytest

from helpdesk.mail import services as mail
from helpdesk.tickets.models import Ticket


@pytest.mark.parametrize(
    "headers,expected",
    [
        (b"From: a\x01b@example.org\r\nReply-To: Ana <ana@example.org>\r\n", "ana@example.org"),
        (b"From: " + b"a" * 70 + b"@example.org\r\nSender: s@example.org\r\n", "s@example.org"),
        (b"From: <>\r\nReturn-Path: <rp@example.org>\r\n", "rp@example.org"),
    ],
)
def test_an_unusable_from_falls_back_to_the_next_header(db, default_department, headers, expected):
    raw = headers + b"Subject: Oi\r\nMessage-ID: <s@x>\r\n\r\nPreciso de ajuda.\r\n"
    row = mail.ingest(raw).row
    db.session.commit()
    assert row.state == "created", row.error
    assert db.session.get(Ticket, row.ticket_id).customer.primary_email == expected
