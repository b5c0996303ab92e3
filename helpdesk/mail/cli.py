"""`flask --app wsgi mail fetch` (one pass over the active mailboxes) and `flask --app wsgi mail
import` (one RFC 822 message on stdin, for an MTA pipe such as Postfix's `pipe` transport; or, given
paths, every message of those files, Maildirs and mboxes in one process: a backlog or a migration).

Exit codes of `mail import` follow sysexits.h, as MTAs expect: 0 stored (including duplicates and
ignored auto-replies), 65 EX_DATAERR the message is unusable (it is stored as failed for an admin
to see and reprocess), 75 EX_TEMPFAIL the database (or the configuration) is not reachable right
now: the MTA keeps the message and retries. With paths: 75 when any message could not be stored
(run it again: imports are idempotent), else 65 (or --failed-exit) when any was unusable, else 0.
"""

from __future__ import annotations

import mailbox as mailboxes
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from ..extensions import db

mail_cli = AppGroup("mail", help="Inbound email: fetch mailboxes, import from an MTA pipe.")

EX_DATAERR = 65
EX_TEMPFAIL = 75


@mail_cli.command("fetch")
def fetch_command():
    """Fetch unseen messages from every active mailbox once and print the counts."""
    from .fetch import fetch_all

    try:
        result = fetch_all()
    except DBAPIError as exc:
        db.session.rollback()
        click.echo(f"database unavailable: {exc.__class__.__name__}", err=True)
        sys.exit(EX_TEMPFAIL)
    keys = (
        "mailboxes",
        "created",
        "appended",
        "ignored",
        "held",
        "failed",
        "too_large",
        "duplicate",
        "mailbox_errors",
    )
    click.echo(" ".join(f"{k}={result.get(k, 0)}" for k in keys))


@mail_cli.command("import")
@click.option("--mailbox", "mailbox_name", default=None, help="The mailbox it arrived in.")
@click.option(
    "--failed-exit",
    type=int,
    default=EX_DATAERR,
    show_default=True,
    help="Exit code when the message is unusable (it is stored as failed either way); "
    "0 tells the MTA it was delivered, so it never bounces.",
)
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=True, path_type=Path))
def import_command(mailbox_name, failed_exit, paths):
    """Ingest one RFC 822 message from stdin (exit 0, 65 or 75), or every message in PATHS:
    .eml files, Maildirs (cur/ and new/), mbox files, or folders of them."""
    from .services import mailbox_by_name

    raw = b"" if paths else sys.stdin.buffer.read()  # the MTA's message_size_limit bounds it
    mailbox = None
    try:
        if mailbox_name:
            mailbox = mailbox_by_name(mailbox_name)
            if mailbox is None:  # a configuration error: keep the mail queued at the MTA
                click.echo(f"unknown mailbox: {mailbox_name}", err=True)
                sys.exit(EX_TEMPFAIL)
    except DBAPIError as exc:
        db.session.rollback()
        click.echo(f"database unavailable, try again later: {exc.__class__.__name__}", err=True)
        sys.exit(EX_TEMPFAIL)
    if paths:
        sys.exit(_import_paths(paths, mailbox, failed_exit))
    state, row = _import_one(raw, mailbox)
    if state == "tempfail":
        click.echo(f"database unavailable, try again later: {row}", err=True)
        sys.exit(EX_TEMPFAIL)
    click.echo(f"{state} {row.id} {row.reason or row.error}".rstrip())
    if state == "failed" and failed_exit:
        sys.exit(failed_exit)


def _import_one(raw: bytes, mailbox):
    """(state, row) after one committed ingest; ("tempfail", error name) when the database
    refused or is unreachable (nothing is stored; the message can be imported again)."""
    from .services import ingest

    try:
        result = ingest(raw, mailbox)
        db.session.commit()
    except DBAPIError as exc:
        db.session.rollback()
        return "tempfail", exc.__class__.__name__
    return ("duplicate" if result.duplicate else result.row.state), result.row


def _messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """(source, raw bytes) of every message under `path`, in a stable order."""
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            box = mailboxes.Maildir(str(path), factory=None, create=False)
            for key in sorted(box.iterkeys()):
                yield f"{path}:{key}", box.get_bytes(key)
            return
        for child in sorted(path.iterdir()):
            if child.name.startswith(".") or not (child.is_file() or child.is_dir()):
                continue
            yield from _messages(child)
        return
    with path.open("rb") as handle:
        is_mbox = handle.read(5) == b"From "
    if is_mbox:
        box = mailboxes.mbox(str(path), factory=None, create=False)
        try:
            for number, key in enumerate(box.iterkeys(), start=1):
                yield f"{path}#{number}", box.get_bytes(key)
        finally:
            box.close()
        return
    yield str(path), path.read_bytes()


IMPORT_BATCH = 100  # messages per commit in `mail import PATHS`


def _ingest_batch(batch, mailbox) -> list[tuple[str, str, object]]:
    """Ingest every (source, raw) of the batch and commit once: [(source, state, row)]. Each
    message is isolated inside the transaction (ingest's savepoints: an unusable one is stored as
    failed, the others go on). When the database refuses anything, the batch is rolled back and
    imported again one message per commit, so one message's database error costs only itself."""
    from .services import ingest

    done = []
    try:
        for source, raw in batch:
            result = ingest(raw, mailbox)
            state = "duplicate" if result.duplicate else result.row.state
            done.append((source, state, result.row))
        db.session.commit()
        return done
    except DBAPIError:
        db.session.rollback()
    return [(source, *_import_one(raw, mailbox)) for source, raw in batch]


def _import_paths(paths, mailbox, failed_exit: int) -> int:
    """Import every message, committed IMPORT_BATCH at a time (a line per message once it is
    committed, then a summary). The exit code: 75 if any could not be stored, else failed_exit if
    any was unusable, else 0."""
    from ..tickets.models import Ticket

    counts: Counter[str] = Counter()

    def report(results) -> None:
        protocols = dict(
            db.session.execute(
                sa.select(Ticket.id, Ticket.protocol).where(
                    Ticket.id.in_({r.ticket_id for _, s, r in results if s != "tempfail"} - {None})
                )
            ).all()
        )
        for source, state, row in results:
            counts[state] += 1
            if state == "tempfail":
                click.echo(f"{source}\ttempfail\t-\t{row}")
                continue
            detail = row.reason or " ".join(row.error.split())[:200]
            protocol = protocols.get(row.ticket_id, "-")
            click.echo(f"{source}\t{state}\t{protocol}\t{detail}".rstrip())
        db.session.expunge_all()  # a migration may hold many messages: keep memory flat

    batch: list[tuple[str, bytes]] = []
    for path in paths:
        for source, raw in _messages(path):
            batch.append((source, raw))
            if len(batch) >= IMPORT_BATCH:
                report(_ingest_batch(batch, mailbox))
                batch = []
    if batch:
        report(_ingest_batch(batch, mailbox))
    keys = ("created", "appended", "ignored", "held", "failed", "duplicate", "tempfail")
    total = sum(counts.values())
    click.echo(f"messages={total} " + " ".join(f"{k}={counts.get(k, 0)}" for k in keys))
    if counts["tempfail"]:
        return EX_TEMPFAIL
    if counts["failed"] and failed_exit:
        return failed_exit
    return 0
