"""Queue notification emails in the business transaction; deliver them after the commit.

The Message-ID is fixed when the row is queued (so a retry never starts a new thread) and carries an
HMAC of the ticket id, which inbound mail processing can check.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..accounts.tokens import issue_guest_link
from ..core.clock import now
from ..core.text import ascii_digits
from ..core.tokens import sign
from ..extensions import db
from .models import OutboxAttempt, OutboxMessage

log = logging.getLogger(__name__)

_SENT_KEY = "outbox_queued_ids"


def _clean_header(value: str) -> str:
    """No CR/LF ever reaches a header: collapse all whitespace."""
    return " ".join((value or "").split())


def make_message_id(ticket_id: int | None) -> str:
    domain = current_app.config["MAIL_DOMAIN"]
    rand = secrets.token_hex(8)
    if ticket_id is None:
        return f"<{rand}@{domain}>"
    mac = sign(current_app.config["SECRET_KEY"], f"{ticket_id}.{rand}")
    return f"<t{ticket_id}.{rand}.{mac}@{domain}>"


def verify_message_id(message_id: str) -> int | None:
    """The ticket id an inbound In-Reply-To points at, if it is one of ours and untampered."""
    value = (message_id or "").strip().strip("<>")
    local, _, domain = value.partition("@")
    if domain != current_app.config["MAIL_DOMAIN"] or not local.startswith("t"):
        return None
    parts = local[1:].split(".")
    if len(parts) != 3 or not ascii_digits(parts[0]):
        return None
    ticket_id, rand, mac = parts
    if not secrets.compare_digest(
        mac, sign(current_app.config["SECRET_KEY"], f"{ticket_id}.{rand}")
    ):
        return None
    return int(ticket_id)


def _format_to(display: str, to: str) -> str:
    """`Name <addr>` for the outbox; an internationalised address (`josé@exemplo.com.br`, which
    a customer may write from) is kept as it is instead of failing the whole transaction."""
    if not display:
        return to
    try:
        return formataddr((display, to))
    except UnicodeEncodeError:
        from email.utils import quote

        return f'"{quote(display)}" <{to}>'[:254]


def queue_email(
    *,
    kind: str,
    to: str,
    template: str,
    locale: str | None,
    ticket=None,
    to_name: str = "",
    **context,
) -> OutboxMessage | None:
    """Render `emails/<template>.txt` (and `.html`) in the recipient's language and queue it."""
    if not to:
        return None
    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    base_url = current_app.config["BASE_URL"].rstrip("/")
    with force_locale(locale):
        subject = render_template(
            f"emails/{template}.subject.txt", ticket=ticket, base_url=base_url, **context
        )
        text = render_template(
            f"emails/{template}.txt", ticket=ticket, base_url=base_url, **context
        )
        html = render_template(
            f"emails/{template}.html", ticket=ticket, base_url=base_url, body_text=text, **context
        )
    display = _clean_header(to_name)
    subject = _clean_header(subject)
    thread: list[str] = []
    if ticket is not None:
        tag = f"[#{ticket.protocol}]"
        if tag not in subject:
            subject = f"{tag} {subject}"
        thread = thread_message_ids(ticket.id)
    message = OutboxMessage(
        kind=kind,
        to_addr=_format_to(display, to),
        subject=subject[:300],
        body_text=text,
        body_html=html,
        message_id=make_message_id(ticket.id if ticket is not None else None),
        in_reply_to=thread[-1] if thread else None,
        references_header=" ".join(_trim_references(thread)),
        ticket_id=ticket.id if ticket is not None else None,
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_SENT_KEY, []).append(message.id)
    log.info(
        "Email %s (%s) queued, ticket %s",
        message.id,
        kind,
        ticket.protocol if ticket is not None else None,
    )
    return message


def thread_message_ids(ticket_id: int) -> list[str]:
    """Message-IDs of the ticket's email thread, oldest first: what we sent and what we received
    (one query). Outgoing mail answers the latest and references the chain, so mail clients thread
    it with the customer's own messages."""
    from ..mail.models import InboundMessage

    sent = sa.select(
        OutboxMessage.message_id.label("mid"), OutboxMessage.created_at.label("at")
    ).where(OutboxMessage.ticket_id == ticket_id)
    received = sa.select(
        InboundMessage.message_id_header.label("mid"), InboundMessage.created_at.label("at")
    ).where(
        InboundMessage.ticket_id == ticket_id,
        InboundMessage.message_id_header != "",
        InboundMessage.state != "held",  # not on the ticket (yet): maybe not the customer's
    )
    both = sa.union_all(sent, received).subquery()
    ids = db.session.scalars(sa.select(both.c.mid).order_by(both.c.at)).all()
    seen: set[str] = set()
    return [i for i in ids if not (i in seen or seen.add(i))]


def _trim_references(ids: list[str], keep: int = 10) -> list[str]:
    """The first message and the latest ones (RFC 5322 suggests trimming long chains)."""
    return ids if len(ids) <= keep else [ids[0], *ids[-(keep - 1) :]]


def take_queued_ids() -> list[int]:
    """Ids queued in this session since the last call (delivered after the unit's commit)."""
    return db.session.info.pop(_SENT_KEY, [])


def deliver_queued() -> None:
    """After a unit's commit: what it queued leaves now (`OUTBOX_DELIVER_IN_REQUEST`, and tests)
    or within seconds from the scheduler's outbox job (one batch for many requests, outside the
    web workers). A delivery failure never undoes the commit: the rows stay pending and the
    scheduler retries."""
    ids = take_queued_ids()
    if ids and current_app.config["OUTBOX_DELIVER_IN_REQUEST"]:
        deliver_outbox(ids)


def forget_queued() -> None:
    """After a rollback: nothing the failed unit queued may be delivered."""
    take_queued_ids()


def build_email(row: OutboxMessage) -> EmailMessage:
    msg = EmailMessage()
    from_name, from_addr = parseaddr(current_app.config["MAIL_FROM"])
    msg["From"] = Address(display_name=_clean_header(from_name), addr_spec=from_addr)
    to_name, to_addr = parseaddr(row.to_addr)
    msg["To"] = Address(display_name=_clean_header(to_name), addr_spec=to_addr)
    msg["Subject"] = _clean_header(row.subject)
    msg["Message-ID"] = row.message_id
    msg["Date"] = formatdate(localtime=False)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"  # no out-of-office answers to our notifications
    if row.in_reply_to:
        msg["In-Reply-To"] = row.in_reply_to
    if row.references_header:
        msg["References"] = row.references_header
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    return msg


def _send(msg: EmailMessage, row: OutboxMessage) -> None:
    transport = current_app.config["MAIL_TRANSPORT"]
    if transport == "smtp":
        cfg = current_app.config
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=cfg["SMTP_TIMEOUT"]) as smtp:
            if cfg["SMTP_STARTTLS"]:
                smtp.starttls()
            if cfg["SMTP_USER"]:
                smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
            smtp.send_message(msg)
    elif transport == "file":
        directory = Path(current_app.config["MAIL_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{row.id:08d}-{row.kind}.eml").write_bytes(bytes(msg))
    elif transport == "memory":
        current_app.extensions.setdefault("sent_mail", []).append(msg)
    else:
        raise RuntimeError(f"unknown mail transport {transport!r}")


def deliver_outbox(ids: list[int] | None = None, limit: int = 100) -> dict:
    """Send due messages (or the given ones). One conditional UPDATE claims the batch, so with
    several workers or schedulers each row is sent by one of them; each row's outcome is committed
    as soon as it is known; a failure is retried later with exponential back-off."""
    if ids is not None and not ids:
        return {"sent": 0, "failed": 0}
    pending = OutboxMessage.status == "pending"
    if ids is None:
        wanted = sa.select(OutboxMessage.id).where(pending, OutboxMessage.next_attempt_at <= now())
    else:
        wanted = sa.select(OutboxMessage.id).where(pending, OutboxMessage.id.in_(ids))
    claimed = list(
        db.session.scalars(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(wanted.order_by(OutboxMessage.id).limit(limit)), pending)
            .values(status="sending", attempts=OutboxMessage.attempts + 1, claimed_at=now())
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    if not claimed:
        return {"sent": 0, "failed": 0}
    sent = failed = 0
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    rows = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id)
    )
    for row in rows:
        try:
            _send(build_email(row), row)
        except Exception as exc:  # delivery failures are recorded, never raised to the user
            log.warning("outbox %s delivery failed: %s", row.id, exc)
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            db.session.add(OutboxAttempt(outbox_id=row.id, ok=False, error=row.last_error))
            if row.attempts >= max_attempts:
                row.status = "dead"  # dead letter: listed for admins, retried by hand
            else:
                row.status = "pending"
                row.next_attempt_at = now() + backoff(row.attempts)
            failed += 1
        else:
            row.status = "sent"
            row.sent_at = now()
            db.session.add(OutboxAttempt(outbox_id=row.id, ok=True))
            sent += 1
            log.info("Email %s (%s) sent, attempt %s", row.id, row.kind, row.attempts)
        db.session.commit()
    return {"sent": sent, "failed": failed}


def backoff(attempts: int) -> timedelta:
    """2, 4, 8, ... minutes after each failed attempt, at most 6 hours."""
    return timedelta(minutes=min(2**attempts, 360))


def retry_dead_letter(row: OutboxMessage) -> OutboxMessage:
    """An admin sends a dead letter again: back to pending, due now, a fresh set of attempts;
    the Message-ID and the delivery log are kept."""
    from ..core.errors import Conflict

    if row.status != "dead":
        raise Conflict(_l("Only a message that could not be delivered can be retried."))
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = now()
    db.session.flush()
    log.info("Email %s (dead letter) queued again", row.id)
    return row


def release_stale_claims(older_than_minutes: int = 15) -> int:
    """Rows left 'sending' by a crashed worker go back to pending (at-least-once delivery)."""
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.status == "sending",
            OutboxMessage.claimed_at < now() - timedelta(minutes=older_than_minutes),
        )
        .values(status="pending")
    )
    if result.rowcount:
        log.info("Outbox: %s stale claim(s) released", result.rowcount)
    return result.rowcount


# notifications -------------------------------------------------------------------------------


def _customer_target(ticket):
    customer = ticket.customer
    email = customer.primary_email
    locale = customer.locale or (customer.user.locale if customer.user else None)
    return email, locale, customer.name


def _follow(ticket, email: str | None) -> dict:
    """The link an email gives to the demand: the portal page for a customer with an account; a
    one-time guest link for one without (the portal would only ask them to sign in)."""
    if ticket.customer.user_id is None and email:
        return {
            "follow_path": f"/guest/{issue_guest_link(ticket, email)}",
            "guest_link": True,
            "link_hours": current_app.config["GUEST_LINK_HOURS"],
        }
    return {"follow_path": f"/portal/demands/{ticket.protocol}", "guest_link": False}


def notify_acknowledgement(ticket, *, to: str | None = None) -> None:
    """The protocol at the first contact, with a link that opens the demand. A demand already
    resolved (e.g. during the call) says so and quotes the answer. `to`: the address the visitor
    gave, when it is not the record's primary one."""
    email, locale, name = _customer_target(ticket)
    email = to or email
    resolution = None
    if ticket.status in ("resolved", "closed"):
        answers = [m for m in ticket.messages if m.author_kind == "agent" and not m.is_internal]
        resolution = answers[-1] if answers else None
    queue_email(
        kind="acknowledgement",
        to=email,
        to_name=name,
        template="acknowledgement",
        locale=locale,
        ticket=ticket,
        resolution=resolution,
        **_follow(ticket, email),
    )


def notify_answer(ticket, message) -> None:
    email, locale, name = _customer_target(ticket)
    queue_email(
        kind="answer",
        to=email,
        to_name=name,
        template="answer",
        locale=locale,
        ticket=ticket,
        message=message,
        **_follow(ticket, email),
    )


def notify_resolved(ticket) -> None:
    email, locale, name = _customer_target(ticket)
    queue_email(
        kind="resolved",
        to=email,
        to_name=name,
        template="resolved",
        locale=locale,
        ticket=ticket,
        **_follow(ticket, email),
    )


def notify_password_reset(user, raw_token: str) -> None:
    queue_email(
        kind="reset",
        to=user.email,
        to_name=user.name,
        template="password_reset",
        locale=user.locale,
        user=user,
        token=raw_token,
    )


def notify_verify_email(user, raw_token: str) -> None:
    queue_email(
        kind="verify",
        to=user.email,
        to_name=user.name,
        template="verify_email",
        locale=user.locale,
        user=user,
        token=raw_token,
    )


def notify_guest_link(ticket, email: str, raw_token: str) -> None:
    _, locale, name = _customer_target(ticket)
    queue_email(
        kind="guest",
        to=email,
        to_name=name,
        template="guest_link",
        locale=locale,
        ticket=ticket,
        token=raw_token,
        link_hours=current_app.config["GUEST_LINK_HOURS"],
    )
