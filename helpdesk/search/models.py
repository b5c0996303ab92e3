"""The search index: one row per ticket, the same table on both databases.

`public_text` is what a customer may see of the ticket (subject, description, public messages,
attachment names); `internal_text` the internal notes (found by staff only); `keys` the
identifiers (protocol with and without check digit, customer name, emails, phones as digits,
document digits). The engine-specific part lives beside the table:

- SQLite: an FTS5 virtual table `search_fts` (external content: this table), kept in step by
  triggers on this table (`SQLITE_DDL`);
- PostgreSQL: `public_tsv` / `all_tsv` (tsvector, GIN-indexed), filled by a trigger from the text
  with the row's text search configuration (`config`: pt_unaccent, es_unaccent, simple_unaccent)
  plus the unstemmed `simple_unaccent` lexemes (so that a prefix typed while typing matches).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import now
from ..extensions import db

RECENCY_BUCKET = 256  # ticket ids per `recency` value
CONFIGS = ("pt_unaccent", "es_unaccent", "simple_unaccent")
_TSV = sa.Text().with_variant(TSVECTOR(), "postgresql")  # unused (NULL) on SQLite


class SearchDocument(db.Model):
    __tablename__ = "search_documents"
    # PostgreSQL: each text vector is GIN-indexed with `recency` (btree_gin), so that "the
    # matches among the newest tickets" is one index scan (see service._postgresql_candidates)
    __table_args__ = (
        sa.Index(
            "ix_search_documents_public_tsv_recency",
            "public_tsv",
            "recency",
            postgresql_using="gin",
        ),
        sa.Index(
            "ix_search_documents_all_tsv_recency", "all_tsv", "recency", postgresql_using="gin"
        ),
    )

    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    config: Mapped[str] = mapped_column(sa.String(20), default="simple_unaccent")
    public_text: Mapped[str] = mapped_column(sa.Text, default="")
    internal_text: Mapped[str] = mapped_column(sa.Text, default="")
    keys: Mapped[str] = mapped_column(sa.Text, default="")
    public_tsv: Mapped[str | None] = mapped_column(_TSV)
    all_tsv: Mapped[str | None] = mapped_column(_TSV)
    # the ticket's id // RECENCY_BUCKET, indexed only inside the GIN indexes above: a window on
    # it ("among the newest ids") is answered by the text index itself, never by the primary
    # key's b-tree, whose backward walk PostgreSQL otherwise picks, testing every row's
    # (TOASTed) vector. Buckets keep the window's keys few. Unused on SQLite.
    recency: Mapped[int | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)


# SQLite: the FTS5 table over search_documents and the triggers that keep it in step ------------

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "public_text, internal_text, keys, content='search_documents', content_rowid='ticket_id', "
    'tokenize="unicode61 remove_diacritics 2")',
    "CREATE TRIGGER IF NOT EXISTS search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, public_text, internal_text, keys) "
    "VALUES (new.ticket_id, new.public_text, new.internal_text, new.keys); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, public_text, internal_text, keys) "
    "VALUES ('delete', old.ticket_id, old.public_text, old.internal_text, old.keys); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, public_text, internal_text, keys) "
    "VALUES ('delete', old.ticket_id, old.public_text, old.internal_text, old.keys); "
    "INSERT INTO search_fts(rowid, public_text, internal_text, keys) "
    "VALUES (new.ticket_id, new.public_text, new.internal_text, new.keys); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS search_documents_au",
    "DROP TRIGGER IF EXISTS search_documents_ad",
    "DROP TRIGGER IF EXISTS search_documents_ai",
    "DROP TABLE IF EXISTS search_fts",
)

# PostgreSQL: unaccent, the unaccented configurations, the trigger that fills the tsvectors -----

_CONFIG_SOURCES = {
    "pt_unaccent": "portuguese",
    "es_unaccent": "spanish",
    "simple_unaccent": "simple",
}

POSTGRESQL_EXTENSIONS = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",  # an integer beside a tsvector in one GIN index
)
POSTGRESQL_DDL = (
    *POSTGRESQL_EXTENSIONS,
    *(
        # names from the constant dict above, nothing typed
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{name}') THEN "  # noqa: S608
        f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {source}); "
        f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR hword, hword_part, word "
        f"WITH unaccent, {'simple' if source == 'simple' else source + '_stem'}; "
        "END IF; END $$"
        for name, source in _CONFIG_SOURCES.items()
    ),
    """CREATE OR REPLACE FUNCTION search_documents_tsv() RETURNS trigger AS $$
BEGIN
  NEW.public_tsv :=
    setweight(to_tsvector('simple_unaccent', coalesce(NEW.keys, '')), 'A')
    || to_tsvector(NEW.config::regconfig, coalesce(NEW.public_text, ''))
    || to_tsvector('simple_unaccent', coalesce(NEW.public_text, ''));
  NEW.all_tsv := NEW.public_tsv
    || to_tsvector(NEW.config::regconfig, coalesce(NEW.internal_text, ''))
    || to_tsvector('simple_unaccent', coalesce(NEW.internal_text, ''));
  RETURN NEW;
END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS search_documents_tsv ON search_documents",
    "CREATE TRIGGER search_documents_tsv BEFORE INSERT OR UPDATE ON search_documents "
    "FOR EACH ROW EXECUTE FUNCTION search_documents_tsv()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS search_documents_tsv ON search_documents",
    "DROP FUNCTION IF EXISTS search_documents_tsv()",
)


def _before_create(target, connection, **_kw) -> None:
    if connection.dialect.name == "postgresql":  # the GIN indexes need btree_gin
        for statement in POSTGRESQL_EXTENSIONS:
            connection.exec_driver_sql(statement)


def _after_create(target, connection, **_kw) -> None:
    statements = {"sqlite": SQLITE_DDL, "postgresql": POSTGRESQL_DDL}.get(connection.dialect.name)
    for statement in statements or ():
        connection.exec_driver_sql(statement)


def _before_drop(target, connection, **_kw) -> None:
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(connection.dialect.name)
    for statement in statements or ():
        connection.exec_driver_sql(statement)


sa.event.listen(SearchDocument.__table__, "before_create", _before_create)
sa.event.listen(SearchDocument.__table__, "after_create", _after_create)
sa.event.listen(SearchDocument.__table__, "before_drop", _before_drop)
