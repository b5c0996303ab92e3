"""`flask --app wsgi search reindex`: rebuild the search index from the tickets, in batches."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from ..extensions import db
from .indexer import BATCH, refresh_statistics, reindex_all

search_cli = AppGroup("search", help="Full-text search over demands.")


@search_cli.command("reindex")
@click.option("--batch", default=BATCH, show_default=True, help="Tickets per batch.")
def reindex_command(batch: int):
    """Rebuild every ticket's search row (one transaction; safe to run again)."""
    started = time.perf_counter()

    def progress(done: int) -> None:
        click.echo(f"indexed {done} tickets")

    total = reindex_all(db.session.connection(), batch=max(1, batch), progress=progress)
    db.session.commit()
    refresh_statistics(db.session.connection())
    db.session.commit()
    click.echo(f"reindexed {total} tickets in {time.perf_counter() - started:.1f} s")
