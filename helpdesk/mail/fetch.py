"""Poll IMAP mailboxes: fetch unseen messages without marking them (BODY.PEEK), ingest and COMMIT
each one, and only then flag it \\Seen on the server. A crash between the commit and the flag
means the message is fetched again next time and recognised as a duplicate; nothing is ever
flagged or deleted before it is safely in the database. Two fetches at once give one entry."""

from __future__ import annotations

import logging
import ssl
from collections import Counter

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import DBAPIError

from ..core.clock import now
from ..extensions import db
from .models import Mailbox
from .services import ingest, mailbox_password

log = logging.getLogger(__name__)

SEEN = b"\\Seen"


def connect(mailbox: Mailbox):
    """A logged-in IMAPClient for the mailbox (TLS as configured)."""
    from imapclient import IMAPClient

    timeout = current_app.config["IMAP_TIMEOUT"]
    context = ssl.create_default_context()
    client = IMAPClient(
        mailbox.host,
        port=mailbox.port,
        ssl=mailbox.tls_mode == "ssl",
        ssl_context=context if mailbox.tls_mode == "ssl" else None,
        timeout=timeout,
    )
    try:
        if mailbox.tls_mode == "starttls":
            client.starttls(context)
        client.login(mailbox.username, mailbox_password(mailbox))
    except Exception:
        client.shutdown()
        raise
    return client


def fetch_mailbox(mailbox: Mailbox, *, limit: int | None = None) -> Counter:
    """One pass over one mailbox; returns counts by outcome (created, appended, ignored, failed,
    duplicate). Commits after every message."""
    limit = limit or current_app.config["MAIL_FETCH_BATCH"]
    counts: Counter = Counter()
    mailbox_id = mailbox.id
    client = connect(mailbox)
    try:
        client.select_folder(mailbox.folder)
        uids = sorted(client.search(["UNSEEN"]))[:limit]
        for start in range(0, len(uids), 50):
            chunk = uids[start : start + 50]
            data = client.fetch(chunk, ["BODY.PEEK[]"])
            for uid in chunk:
                raw = (data.get(uid) or {}).get(b"BODY[]")
                if raw is None:  # expunged meanwhile
                    continue
                box = db.session.get(Mailbox, mailbox_id)
                try:
                    result = ingest(bytes(raw), box)
                    state = "duplicate" if result.duplicate else result.row.state
                    db.session.commit()  # first the database ...
                except DBAPIError:
                    db.session.rollback()
                    raise  # the message stays unseen on the server: fetched again later
                client.add_flags([uid], [SEEN])  # ... then the server
                counts[state] += 1
    finally:
        try:
            client.logout()
        except Exception:  # the connection may be gone already
            client.shutdown()
    return counts


def fetch_all() -> dict:
    """One pass over every active mailbox (the scheduler job and `flask mail fetch`)."""
    totals: Counter = Counter()
    ids = db.session.scalars(
        sa.select(Mailbox.id).where(Mailbox.active.is_(True)).order_by(Mailbox.id)
    ).all()
    for mailbox_id in ids:
        mailbox = db.session.get(Mailbox, mailbox_id)
        try:
            counts = fetch_mailbox(mailbox)
        except DBAPIError:
            raise
        except Exception as exc:  # the server is down, wrong password...: recorded, next box
            log.warning("mailbox %s: fetch failed: %s", mailbox.name, exc)
            db.session.rollback()
            mailbox = db.session.get(Mailbox, mailbox_id)
            mailbox.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            totals["mailbox_errors"] += 1
        else:
            mailbox = db.session.get(Mailbox, mailbox_id)
            mailbox.last_error = ""
            totals.update(counts)
        mailbox.last_fetch_at = now()
        db.session.commit()
        totals["mailboxes"] += 1
    return dict(totals)
