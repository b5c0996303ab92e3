"""`flask --app wsgi mail fetch` (one pass over the active mailboxes) and `flask --app wsgi mail
import` (one RFC 822 message on stdin, for an MTA pipe such as Postfix's `pipe` transport).

Exit codes of `mail import` follow sysexits.h, as MTAs expect: 0 stored (including duplicates and
ignored auto-replies), 65 EX_DATAERR the message is unusable (it is stored as failed for an admin
to see and reprocess), 75 EX_TEMPFAIL the database (or the configuration) is not reachable right
now: the MTA keeps the message and retries.
"""

from __future__ import annotations

import sys

import click
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
    keys = ("mailboxes", "created", "appended", "ignored", "failed", "duplicate", "mailbox_errors")
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
def import_command(mailbox_name, failed_exit):
    """Read one RFC 822 message on stdin and ingest it (exit 0, 65 or 75)."""
    from .services import ingest, mailbox_by_name

    raw = sys.stdin.buffer.read()  # the MTA's message_size_limit bounds it
    try:
        mailbox = None
        if mailbox_name:
            mailbox = mailbox_by_name(mailbox_name)
            if mailbox is None:  # a configuration error: keep the mail queued at the MTA
                click.echo(f"unknown mailbox: {mailbox_name}", err=True)
                sys.exit(EX_TEMPFAIL)
        result = ingest(raw, mailbox)
        row = result.row
        db.session.commit()
    except DBAPIError as exc:
        db.session.rollback()
        click.echo(f"database unavailable, try again later: {exc.__class__.__name__}", err=True)
        sys.exit(EX_TEMPFAIL)
    state = "duplicate" if result.duplicate else row.state
    click.echo(f"{state} {row.id} {row.reason or row.error}".rstrip())
    if state == "failed" and failed_exit:
        sys.exit(failed_exit)
