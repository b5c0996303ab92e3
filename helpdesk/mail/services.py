"""Ingest inbound email: store raw first (idempotently), then create a ticket, append a reply to
its ticket, or ignore an automatic message; a message that cannot be processed stays stored as
failed with its error and can be reprocessed.

Threading, in this order:
1. our own Message-ID (HMAC-signed, see notifications.services.verify_message_id) in In-Reply-To
   or References → that ticket;
2. a Message-ID we received earlier on a ticket, when the sender belongs to that ticket's customer;
3. a valid protocol in the subject, when the sender belongs to that ticket's customer;
   (a ticket merged into another stands for its survivor: the reply lands there)
4. otherwise a new ticket (never someone else's): a stolen protocol or a forged reference opens a
   new ticket for the real sender.
Messages are always posted as the customer, never as an agent, whatever the From says.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from email.parser import BytesHeaderParser

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.datastructures import FileStorage

from ..core.clock import now
from ..core.errors import Conflict, ValidationError
from ..core.text import storable_text
from ..customers.models import CustomerEmail
from ..customers.services import create_customer, find_customer_by_email, normalize_email
from ..extensions import db
from ..notifications import services as notify
from ..notifications.models import OutboxMessage
from ..tickets import protocol as protocols
from ..tickets.attachments import store_upload
from ..tickets.merge import final_survivor
from ..tickets.models import Ticket
from ..tickets.services import MAX_ATTACHMENTS, MAX_SUBJECT, MAX_TEXT, add_message, register_ticket
from .models import TLS_MODES, InboundMessage, Mailbox
from .parsing import ParsedMail, clean_subject, message_ids, parse, read_authentication_results
from .quotes import strip_reply

log = logging.getLogger(__name__)

DEFAULT_KIND = "request"  # agents reclassify; an email does not say what kind of demand it is


@dataclass
class IngestResult:
    row: InboundMessage
    duplicate: bool


# storing ------------------------------------------------------------------------------------------


def dedupe_key(raw: bytes, mailbox: Mailbox | None) -> tuple[str, str, str]:
    """(key, Message-ID or "", sha256): the Message-ID when there is one, else the raw hash."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        headers = BytesHeaderParser().parsebytes(raw[:65536])
        ids = message_ids(" ".join(str(headers.get("Message-ID", "")).split()))
    except Exception:  # unreadable headers: the hash identifies it
        ids = []
    source = str(mailbox.id) if mailbox is not None else "pipe"
    if ids:
        return f"{source}|{ids[0]}", ids[0], digest
    return f"{source}|sha256:{digest}", "", digest


def ingest(raw: bytes, mailbox: Mailbox | None = None) -> IngestResult:
    """Store the message (once: a duplicate returns the row already there) and process it.
    Flushes, never commits; database errors propagate (the caller retries later)."""
    key, message_id, digest = dedupe_key(raw, mailbox)
    existing = db.session.scalar(sa.select(InboundMessage).where(InboundMessage.dedupe_key == key))
    if existing is not None:
        return IngestResult(existing, True)
    row = InboundMessage(
        mailbox_id=mailbox.id if mailbox is not None else None,
        dedupe_key=key,
        message_id_header=message_id,
        sha256=digest,
        raw=raw,
        state="received",
        created_at=now(),
    )
    try:
        with db.session.begin_nested():  # another worker may insert the same message right now
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        existing = db.session.scalar(
            sa.select(InboundMessage).where(InboundMessage.dedupe_key == key)
        )
        if existing is None:
            raise
        return IngestResult(existing, True)
    process(row)
    return IngestResult(row, False)


def record_oversized(
    header: bytes, size: int, mailbox: Mailbox, *, uid: int, limit: int
) -> IngestResult:
    """A message too big to download: stored (once) as failed with its headers only, saying where
    it stays (the mailbox's folder on the server), so an admin sees it and fetches it by hand."""
    key, message_id, digest = dedupe_key(header, mailbox)
    existing = db.session.scalar(sa.select(InboundMessage).where(InboundMessage.dedupe_key == key))
    if existing is not None:
        return IngestResult(existing, True)
    try:
        parsed = BytesHeaderParser().parsebytes(header[:65536])
        from_addr = storable_text(str(parsed.get("From", "")))[:320]
        subject = storable_text(str(parsed.get("Subject", "")))[:500]
    except Exception:  # unreadable headers: the error text still says what happened
        from_addr = subject = ""
    row = InboundMessage(
        mailbox_id=mailbox.id,
        dedupe_key=key,
        message_id_header=message_id,
        sha256=digest,
        raw=header,
        from_addr=from_addr,
        subject=subject,
        state="failed",
        reason="too_large",
        error=(
            f"Too large: {size} bytes (limit {limit}); not downloaded, left on the server in"
            f" folder {mailbox.folder!r} (UID {uid}). Only its headers are kept here."
        ),
        created_at=now(),
        processed_at=now(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        existing = db.session.scalar(
            sa.select(InboundMessage).where(InboundMessage.dedupe_key == key)
        )
        if existing is None:
            raise
        return IngestResult(existing, True)
    log.warning(
        "Inbound email %s (mailbox %s): %s bytes, over the %s limit; left on the server (UID %s)",
        row.id,
        mailbox.id,
        size,
        limit,
        uid,
    )
    return IngestResult(row, False)


def process(row: InboundMessage, *, release: bool = False) -> InboundMessage:
    """Create, append, ignore or hold; on any error that is not the database's, mark it failed.
    `release`: an admin let a held message through (it is not held again)."""
    row.attempts += 1
    row.error = ""
    try:
        with db.session.begin_nested():
            _process(row, release=release)
    except DBAPIError:
        raise  # the database is unreachable or broken: nothing is recorded, retry later
    except Exception as exc:  # unusable input: kept raw, listed for admins, reprocessable
        log.warning("inbound message %s failed: %s", row.id, exc)
        row.state = "failed"
        row.error = storable_text(f"{type(exc).__name__}: {exc}")[:2000]
        row.ticket_id = row.ticket_message_id = None
    row.processed_at = now()
    db.session.flush()
    log.info(
        "Inbound email %s (mailbox %s): %s, ticket %s",
        row.id,
        row.mailbox_id,
        row.state,
        row.ticket_id,
    )
    return row


def release_held(row: InboundMessage) -> InboundMessage:
    """An admin checked a held reply and lets it land on its ticket (or, when that ticket was
    closed meanwhile, on a new one)."""
    if row.state != "held":
        raise Conflict(_l("Only a held message can be released."))
    row.state = "received"
    log.info("Inbound email %s released from hold", row.id)
    return process(row, release=True)


def reprocess(row: InboundMessage) -> InboundMessage:
    """An admin asks to process a failed message again (e.g. after a fix or a config change)."""
    if row.state != "failed":
        raise Conflict(_l("Only a message that failed can be processed again."))
    if row.reason == "too_large":  # only its headers are here: the message is on the server
        raise Conflict(
            _l(
                "This message was too large to download; it is still on the mail server."
                " Raise the size limit and mark it unread there to fetch it again."
            )
        )
    row.state = "received"
    log.info("Inbound email %s processed again", row.id)
    return process(row)


# processing -------------------------------------------------------------------------------------


def _process(row: InboundMessage, *, release: bool = False) -> None:
    mail = parse(row.raw)
    mail.auth = read_authentication_results(row.raw, current_app.config.get("MAIL_AUTHSERV_ID"))
    row.from_addr = mail.from_addr[:320]
    row.subject = mail.subject[:500]
    row.body_full = mail.text
    row.body_html = mail.html
    row.auth_spf, row.auth_dkim, row.auth_dmarc = mail.auth.spf, mail.auth.dkim, mail.auth.dmarc
    row.auth_header = mail.auth.header
    row.refused_attachments = []
    if mail.auto_reason and not (mail.list_unsubscribe_only and _answers_us(mail)):
        # auto-replies, bounces, list mail: never a ticket, never an answer (a person's reply
        # to our own mail that merely carries List-Unsubscribe, as some gateways add, is kept)
        row.state, row.reason = "ignored", mail.auto_reason
        return
    if _is_our_own(mail):
        row.state, row.reason = "ignored", "loop"
        return
    if not mail.from_addr:
        raise ValueError("no sender address")
    sender = normalize_email(mail.from_addr, received=True)
    body = strip_reply(mail.text)[:MAX_TEXT] or _("(no text)")
    ticket, how = find_ticket(mail, sender)
    if ticket is not None and ticket.merged_into_id is not None:
        ticket = final_survivor(ticket)  # a merged demand's thread carries on in its survivor
    if ticket is not None and ticket.status == "closed":
        ticket, how = None, "closed_ticket"
    if ticket is not None and not release and not mail.auth.authenticated and _holds(row):
        row.state, row.reason = "held", "unauthenticated"
        row.ticket_id = ticket.id  # where it would land; nothing is added until released
        return
    mailbox = row.mailbox
    if ticket is not None:
        message = add_message(
            ticket,
            None,
            body,
            channel="email",
            author_name=mail.from_name or sender,
        )
        refused = _attach(mail, ticket, message.id, row)
        if refused:
            message.body = (message.body + "\n\n" + "\n".join(refused))[:MAX_TEXT]
        row.state, row.reason = "appended", how
        row.ticket_id, row.ticket_message_id = ticket.id, message.id
        return
    customer = find_customer_by_email(sender)
    if customer is None:
        name = mail.from_name or sender.split("@")[0]
        try:
            customer = create_customer(
                name=name[:200], email=sender, locale=mail.language, received_email=True
            )
        except Conflict:  # created by another fetch or import right now: that one is theirs
            customer = find_customer_by_email(sender)
            if customer is None:
                raise
    ticket = register_ticket(
        actor=None,
        customer=customer,
        channel="email",
        kind=DEFAULT_KIND,
        subject=(clean_subject(mail.subject) or _("(no subject)"))[:MAX_SUBJECT],
        description=body,
        notify_customer=False,
        fallback_department=mailbox.department if mailbox is not None else None,
    )
    refused = _attach(mail, ticket, None, row)
    if refused:
        ticket.description = (ticket.description + "\n\n" + "\n".join(refused))[:MAX_TEXT]
    row.state, row.reason = "created", how or "new"
    row.ticket_id = ticket.id
    db.session.flush()
    notify.notify_acknowledgement(ticket)  # threads under the customer's message (row above)


def _holds(row: InboundMessage) -> bool:
    """Whether unauthenticated replies to existing tickets wait for review: the mailbox's
    setting, or MAIL_HOLD_UNAUTHENTICATED for mail that came through no mailbox."""
    if row.mailbox is not None:
        return bool(row.mailbox.hold_unauthenticated)
    return bool(current_app.config.get("MAIL_HOLD_UNAUTHENTICATED"))


def _answers_us(mail: ParsedMail) -> bool:
    """The message replies to mail we sent (a verified Message-ID of ours)."""
    return any(
        notify.verify_message_id(value) is not None
        for value in (*mail.in_reply_to, *mail.references)
    )


def _is_our_own(mail: ParsedMail) -> bool:
    """Our own notification coming back (a forwarding loop, a misconfigured alias)."""
    from email.utils import parseaddr

    ours = parseaddr(current_app.config["MAIL_FROM"])[1].lower()
    if ours and mail.from_addr.lower() == ours:
        return True
    return bool(mail.message_id) and notify.verify_message_id(mail.message_id) is not None


def _sender_belongs(ticket: Ticket, sender: str) -> bool:
    """A participant of the ticket: one of its customer's addresses, or an address we wrote to
    about this ticket. (Staff never reply by email: inbound mail is always the customer's.)"""
    if (
        db.session.scalar(
            sa.select(CustomerEmail.id).where(
                CustomerEmail.customer_id == ticket.customer_id, CustomerEmail.email == sender
            )
        )
        is not None
    ):
        return True
    from email.utils import getaddresses

    written = db.session.scalars(
        sa.select(OutboxMessage.to_addr).where(OutboxMessage.ticket_id == ticket.id).distinct()
    ).all()
    return any(addr.lower() == sender for _, addr in getaddresses(written))


def find_ticket(mail: ParsedMail, sender: str) -> tuple[Ticket | None, str]:
    """The ticket this message answers and how we know it, or (None, reason it is new)."""
    referenced = [*reversed(mail.in_reply_to), *reversed(mail.references)]
    reason = "new"
    for value in referenced:
        ticket_id = notify.verify_message_id(value)
        if ticket_id is not None:
            ticket = db.session.get(Ticket, ticket_id)
            if ticket is not None and _sender_belongs(ticket, sender):
                return ticket, "our_message_id"
            if ticket is not None:  # a genuine reference from someone else (a forward, a leak)
                reason = "sender_not_participant"
    if referenced:
        earlier = db.session.scalars(
            sa.select(InboundMessage.ticket_id).where(
                InboundMessage.message_id_header.in_(referenced[:50]),
                InboundMessage.ticket_id.is_not(None),
            )
        ).all()
        for ticket_id in earlier:
            ticket = db.session.get(Ticket, ticket_id)
            if ticket is not None and _sender_belongs(ticket, sender):
                return ticket, "their_message_id"
    for candidate in protocols.find_in_text(mail.subject):  # plain or grouped as we show it
        ticket = db.session.scalar(sa.select(Ticket).where(Ticket.protocol == candidate))
        if ticket is None:
            continue
        if _sender_belongs(ticket, sender):
            return ticket, "protocol_and_sender"
        if reason == "new":  # a stolen or mistyped protocol: a new ticket
            reason = "protocol_of_another_customer"
    return None, reason


def _attach(
    mail: ParsedMail, ticket: Ticket, message_id: int | None, row: InboundMessage
) -> list[str]:
    """Keep the attachments through the upload rules (types, size, count); each one refused is
    recorded on the inbound row (name and reason, shown to agents on the ticket) and a note
    for it is returned."""
    refused: list[str] = []
    listed: list[dict] = []
    for index, item in enumerate(mail.attachments):
        if index >= MAX_ATTACHMENTS:
            why = _("At most %(n)s files per message.", n=MAX_ATTACHMENTS)
        else:
            upload = FileStorage(
                stream=io.BytesIO(item.data), filename=item.filename, content_type=item.content_type
            )
            try:
                attachment = store_upload(upload, ticket_id=ticket.id, message_id=message_id)
            except ValidationError as exc:
                why = str(exc)
            else:
                db.session.add(attachment)
                continue
        listed.append({"name": item.filename, "reason": why})
        refused.append(_("(Attachment not kept: %(name)s — %(why)s)", name=item.filename, why=why))
    row.refused_attachments = listed
    db.session.flush()
    return refused


# queries and mailboxes --------------------------------------------------------------------------


def inbound_counts(mailbox_id: int | None = None) -> dict[str, int]:
    """How many messages in each state: received = created + appended + ignored + failed + held."""
    query = sa.select(InboundMessage.state, sa.func.count()).group_by(InboundMessage.state)
    if mailbox_id is not None:
        query = query.where(InboundMessage.mailbox_id == mailbox_id)
    states = ("created", "appended", "ignored", "failed", "held", "received")
    counts = {state: 0 for state in states}
    counts.update(dict(db.session.execute(query).all()))
    return counts


def mailbox_password(mailbox: Mailbox) -> str:
    """The stored password, or the environment variable it names ("env:NAME")."""
    import os

    value = mailbox.password or ""
    if value.startswith("env:"):
        return os.environ.get(value[4:], "")
    return value


def _mailbox_values(
    *,
    name,
    host,
    port,
    tls_mode,
    folder,
    username,
    department_id,
    active,
    hold_unauthenticated=False,
) -> dict:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_l("This field is required."), field="name")
    host = (host or "").strip()
    if not host or any(c.isspace() for c in host):
        raise ValidationError(_l("Give the IMAP server's host name."), field="host")
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValidationError(_l("The port must be between 1 and 65535."), field="port")
    if tls_mode not in TLS_MODES:
        raise ValidationError(_l("Unknown TLS mode."), field="tls_mode")
    username = (username or "").strip()
    if not username:
        raise ValidationError(_l("This field is required."), field="username")
    return {
        "name": name[:80],
        "host": host[:255],
        "port": port,
        "tls_mode": tls_mode,
        "folder": (folder or "INBOX").strip()[:255] or "INBOX",
        "username": username[:255],
        "department_id": department_id or None,
        "active": bool(active),
        "hold_unauthenticated": bool(hold_unauthenticated),
    }


def _unique_name(name: str, exclude_id: int | None = None) -> None:
    query = sa.select(Mailbox.id).where(sa.func.lower(Mailbox.name) == name.lower())
    if exclude_id is not None:
        query = query.where(Mailbox.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise Conflict(_l("A mailbox with this name already exists."), field="name")


def create_mailbox(*, password: str = "", **values) -> Mailbox:
    clean = _mailbox_values(**values)
    _unique_name(clean["name"])
    mailbox = Mailbox(**clean, password=password or "")
    db.session.add(mailbox)
    db.session.flush()
    log.info("Mailbox %s created", mailbox.id)
    return mailbox


def update_mailbox(mailbox: Mailbox, *, password: str | None = None, **values) -> Mailbox:
    """Update a mailbox; an empty password keeps the stored one (it is never shown back)."""
    clean = _mailbox_values(**values)
    _unique_name(clean["name"], exclude_id=mailbox.id)
    for key, value in clean.items():
        setattr(mailbox, key, value)
    if password:
        mailbox.password = password
    db.session.flush()
    log.info("Mailbox %s updated%s", mailbox.id, " (new password)" if password else "")
    return mailbox


def delete_mailbox(mailbox: Mailbox) -> None:
    """Remove a mailbox; the messages received through it stay (listed under "no mailbox")."""
    db.session.execute(
        sa.update(InboundMessage)
        .where(InboundMessage.mailbox_id == mailbox.id)
        .values(mailbox_id=None)
    )
    mailbox_id = mailbox.id
    db.session.delete(mailbox)
    db.session.flush()
    log.info("Mailbox %s removed (its messages kept)", mailbox_id)


def mailbox_by_name(name: str) -> Mailbox | None:
    return db.session.scalar(sa.select(Mailbox).where(Mailbox.name == name))
