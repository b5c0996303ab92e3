"""Poll IMAP mailboxes: fetch unseen messages without marking them (BODY.PEEK), ingest and COMMIT
each one, and only then flag it \\Seen on the server. A crash between the commit and the flag
means the message is fetched again next time and recognised as a duplicate; nothing is ever
flagged or deleted before it is safely in the database. Two fetches at once give one entry."""

from __future__ import annotations

import logging
import ssl
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import DBAPIError

from ..core.clock import now
from ..extensions import db
from .models import Mailbox
from .services import ingest, mailbox_password, record_oversized

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
        uids = _skip_oversized(client, mailbox_id, uids, counts)
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


def _skip_oversized(client, mailbox_id: int, uids: list[int], counts: Counter) -> list[int]:
    """The uids small enough to download (RFC822.SIZE asked first). Each bigger one is recorded
    as failed with its headers only (committed), then flagged seen: it stays on the server, an
    admin sees it in the inbound list, and the pass goes on without downloading it."""
    if not uids:
        return uids
    limit = current_app.config["MAIL_FETCH_MAX_BYTES"]
    sizes = {
        uid: int(v.get(b"RFC822.SIZE") or 0)
        for uid, v in client.fetch(uids, ["RFC822.SIZE"]).items()
    }
    big = [uid for uid in uids if sizes.get(uid, 0) > limit]
    if not big:
        return uids
    headers = client.fetch(big, ["BODY.PEEK[HEADER]"])
    for uid in big:
        header = (headers.get(uid) or {}).get(b"BODY[HEADER]")
        if header is None:  # expunged meanwhile
            continue
        box = db.session.get(Mailbox, mailbox_id)
        try:
            result = record_oversized(bytes(header), sizes[uid], box, uid=uid, limit=limit)
            db.session.commit()  # first the database ...
        except DBAPIError:
            db.session.rollback()
            raise
        client.add_flags([uid], [SEEN])  # ... then the server (the message itself stays there)
        counts["duplicate" if result.duplicate else "too_large"] += 1
    return [uid for uid in uids if uid not in set(big)]


def _fetch_one(mailbox_id: int) -> tuple[Counter, bool]:
    """One mailbox's pass, its outcome recorded on the mailbox: (counts, failed)."""
    mailbox = db.session.get(Mailbox, mailbox_id)
    failed = False
    try:
        counts = fetch_mailbox(mailbox)
    except DBAPIError:
        raise
    except Exception as exc:  # the server is down, wrong password...: recorded, next box
        log.warning("mailbox %s: fetch failed: %s", mailbox.name, exc)
        db.session.rollback()
        mailbox = db.session.get(Mailbox, mailbox_id)
        mailbox.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        counts, failed = Counter(), True
    else:
        mailbox = db.session.get(Mailbox, mailbox_id)
        mailbox.last_error = ""
    mailbox.last_fetch_at = now()
    db.session.commit()
    return counts, failed


def _fetch_in_thread(app, mailbox_id: int) -> tuple[Counter, bool]:
    with app.app_context():  # its own database session
        try:
            return _fetch_one(mailbox_id)
        finally:
            db.session.remove()


def fetch_all() -> dict:
    """One pass over every active mailbox (the scheduler job and `flask mail fetch`): up to
    MAIL_FETCH_CONCURRENCY mailboxes at once, each in its own thread and database session, so a
    slow server or a big backlog in one mailbox does not hold the others up."""
    totals: Counter = Counter()
    ids = db.session.scalars(
        sa.select(Mailbox.id).where(Mailbox.active.is_(True)).order_by(Mailbox.id)
    ).all()
    workers = min(len(ids), max(1, current_app.config["MAIL_FETCH_CONCURRENCY"]))
    if workers > 1:
        db.session.commit()  # end this session's read: the threads write the mailboxes
        app = current_app._get_current_object()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mail-fetch") as pool:
            results = list(pool.map(lambda i: _fetch_in_thread(app, i), ids))
    else:
        results = [_fetch_one(i) for i in ids]
    for counts, failed in results:
        totals.update(counts)
        if failed:
            totals["mailbox_errors"] += 1
        totals["mailboxes"] += 1
    return dict(totals)
