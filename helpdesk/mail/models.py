"""Mailboxes an admin configures and every inbound message we received (raw bytes kept)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Department
from ..core.clock import now
from ..extensions import db

TLS_MODES = ("ssl", "starttls", "none")
TLS_MODE_LABELS = {
    "ssl": _l("TLS (port 993)"),
    "starttls": _l("STARTTLS (port 143)"),
    "none": _l("None (only for a server on this machine)"),
}
# InboundMessage.state: received (stored, not processed yet), then one of created, appended,
# ignored, failed (final), or held (an unauthenticated reply waiting for an admin's release)
INBOUND_STATE_LABELS = {
    "received": _l("Received, not processed yet"),
    "created": _l("Created a demand"),
    "appended": _l("Added to a demand"),
    "ignored": _l("Ignored"),
    "failed": _l("Failed"),
    "held": _l("Held for review"),
}


class Mailbox(db.Model):
    """An IMAP mailbox polled by the scheduler; its new tickets go to `department` unless a
    routing rule says otherwise."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    port: Mapped[int] = mapped_column(default=993)
    tls_mode: Mapped[str] = mapped_column(sa.String(10), default="ssl")  # ssl | starttls | none
    folder: Mapped[str] = mapped_column(sa.String(255), default="INBOX")
    username: Mapped[str] = mapped_column(sa.String(255))
    # Stored as given (the database is the secret store, like SMTP_PASSWORD in the environment);
    # "env:NAME" reads the password from the environment variable NAME instead. Never shown back.
    password: Mapped[str] = mapped_column(sa.String(500), default="")
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(default=True)
    # replies to existing tickets that fail SPF/DKIM/DMARC wait in the inbound list for review
    hold_unauthenticated: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    last_fetch_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    department: Mapped[Department | None] = relationship()

    def __repr__(self) -> str:
        return f"<Mailbox {self.name}>"


class InboundMessage(db.Model):
    """One received email, stored raw before anything else happens to it.

    `dedupe_key` is unique: "<mailbox id or 'pipe'>|<Message-ID>" or "...|sha256:<hash of the raw
    bytes>" when the message has no Message-ID, so the same message imported twice (or by two
    workers at once) is one row."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        sa.UniqueConstraint("dedupe_key", name="uq_inbound_messages_dedupe_key"),
        sa.Index("ix_inbound_messages_state", "state", "id"),
        sa.Index("ix_inbound_messages_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("mailboxes.id", ondelete="SET NULL"), index=True
    )
    dedupe_key: Mapped[str] = mapped_column(sa.String(600))
    message_id_header: Mapped[str] = mapped_column(sa.String(500), default="")
    sha256: Mapped[str] = mapped_column(sa.String(64))
    from_addr: Mapped[str] = mapped_column(sa.String(320), default="")
    subject: Mapped[str] = mapped_column(sa.String(500), default="")
    state: Mapped[str] = mapped_column(sa.String(20), default="received")
    reason: Mapped[str] = mapped_column(sa.String(60), default="")  # why ignored / how threaded
    error: Mapped[str] = mapped_column(sa.Text, default="")
    raw: Mapped[bytes] = mapped_column(sa.LargeBinary)
    body_full: Mapped[str] = mapped_column(sa.Text, default="")  # decoded, quotes not stripped
    body_html: Mapped[str] = mapped_column(sa.Text, default="")  # sanitised (nh3)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="SET NULL"))
    ticket_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    # the sender's Authentication-Results as our receiving server wrote them (see parsing.py):
    # pass, fail, softfail, neutral, none, temperror, permerror... or "" when not reported
    auth_spf: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    auth_dkim: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    auth_dmarc: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    auth_header: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # attachments not kept: [{"name": ..., "reason": ...}], shown to agents on the ticket
    refused_attachments: Mapped[list[dict]] = mapped_column(
        sa.JSON, default=list, server_default="[]"
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    processed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    mailbox: Mapped[Mailbox | None] = relationship()
