"""`flask --app wsgi search reindex-articles`: rebuild the help centre's article index (beside
`search reindex`, which rebuilds the tickets')."""

from __future__ import annotations

import click

from ..extensions import db
from ..search.cli import search_cli
from .index import reindex_all_articles


@search_cli.command("reindex-articles")
def reindex_articles_command():
    """Rebuild every article's search row (one transaction; safe to run again)."""
    total = reindex_all_articles(db.session.connection())
    db.session.commit()
    click.echo(f"reindexed {total} articles")
