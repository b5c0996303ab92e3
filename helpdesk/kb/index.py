"""The article search index: one row per article (its own table, beside the tickets'), written
in the writing transaction by an after-flush hook, searched by kb.search.

- SQLite: the FTS5 table `search_fts_articles` (external content: this table; its name starts
  with `search_fts`, so migrations' autogenerate leaves it alone like the tickets' one), kept in
  step by triggers;
- PostgreSQL: `tsv` (GIN-indexed), filled by a trigger with the article's language configuration
  (pt_unaccent, es_unaccent, simple_unaccent) plus the unstemmed simple_unaccent lexemes, so a
  prefix typed while typing matches; the title weighs A, tags B, the body D.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from ..extensions import db
from ..search.models import _TSV
from ..search.models import POSTGRESQL_DDL as TICKET_POSTGRESQL_DDL
from .models import Article

# the unaccent extension and the three configurations (idempotent; the ticket index makes them
# too, whichever table is created first)
_PG_CONFIGS_DDL = tuple(s for s in TICKET_POSTGRESQL_DDL if "search_documents" not in s)


def config_for(language: str | None) -> str:
    language = (language or "").lower()
    if language.startswith("es"):
        return "es_unaccent"
    if language.startswith("en"):
        return "simple_unaccent"
    return "pt_unaccent"


class ArticleSearch(db.Model):
    __tablename__ = "kb_search"
    __table_args__ = (sa.Index("ix_kb_search_tsv", "tsv", postgresql_using="gin"),)

    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    config: Mapped[str] = mapped_column(sa.String(20), default="simple_unaccent")
    title: Mapped[str] = mapped_column(sa.Text, default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    tags: Mapped[str] = mapped_column(sa.Text, default="")
    tsv: Mapped[str | None] = mapped_column(_TSV)


SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts_articles USING fts5("
    "title, body, tags, content='kb_search', content_rowid='article_id', "
    'tokenize="unicode61 remove_diacritics 2")',
    "CREATE TRIGGER IF NOT EXISTS kb_search_ai AFTER INSERT ON kb_search BEGIN "
    "INSERT INTO search_fts_articles(rowid, title, body, tags) "
    "VALUES (new.article_id, new.title, new.body, new.tags); END",
    "CREATE TRIGGER IF NOT EXISTS kb_search_ad AFTER DELETE ON kb_search BEGIN "
    "INSERT INTO search_fts_articles(search_fts_articles, rowid, title, body, tags) "
    "VALUES ('delete', old.article_id, old.title, old.body, old.tags); END",
    "CREATE TRIGGER IF NOT EXISTS kb_search_au AFTER UPDATE ON kb_search BEGIN "
    "INSERT INTO search_fts_articles(search_fts_articles, rowid, title, body, tags) "
    "VALUES ('delete', old.article_id, old.title, old.body, old.tags); "
    "INSERT INTO search_fts_articles(rowid, title, body, tags) "
    "VALUES (new.article_id, new.title, new.body, new.tags); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS kb_search_au",
    "DROP TRIGGER IF EXISTS kb_search_ad",
    "DROP TRIGGER IF EXISTS kb_search_ai",
    "DROP TABLE IF EXISTS search_fts_articles",
)
POSTGRESQL_DDL = (
    *_PG_CONFIGS_DDL,
    """CREATE OR REPLACE FUNCTION kb_search_tsv() RETURNS trigger AS $$
BEGIN
  NEW.tsv :=
    setweight(to_tsvector(NEW.config::regconfig, coalesce(NEW.title, '')), 'A')
    || setweight(to_tsvector('simple_unaccent', coalesce(NEW.title, '')), 'A')
    || setweight(to_tsvector('simple_unaccent', coalesce(NEW.tags, '')), 'B')
    || to_tsvector(NEW.config::regconfig, coalesce(NEW.body, ''))
    || to_tsvector('simple_unaccent', coalesce(NEW.body, ''));
  RETURN NEW;
END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS kb_search_tsv ON kb_search",
    "CREATE TRIGGER kb_search_tsv BEFORE INSERT OR UPDATE ON kb_search "
    "FOR EACH ROW EXECUTE FUNCTION kb_search_tsv()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS kb_search_tsv ON kb_search",
    "DROP FUNCTION IF EXISTS kb_search_tsv()",
)


def _after_create(target, connection, **_kw) -> None:
    statements = {"sqlite": SQLITE_DDL, "postgresql": POSTGRESQL_DDL}.get(connection.dialect.name)
    for statement in statements or ():
        connection.exec_driver_sql(statement)


def _before_drop(target, connection, **_kw) -> None:
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(connection.dialect.name)
    for statement in statements or ():
        connection.exec_driver_sql(statement)


sa.event.listen(ArticleSearch.__table__, "after_create", _after_create)
sa.event.listen(ArticleSearch.__table__, "before_drop", _before_drop)


# writing the rows ----------------------------------------------------------------------------

Indexed = aliased(Article, name="indexed_articles")


def index_articles(conn: Connection, article_ids: Iterable[int]) -> int:
    """(Re)write the index rows of these articles on the connection (its transaction)."""
    ids = sorted({int(i) for i in article_ids if i is not None})
    if not ids:
        return 0
    table = ArticleSearch.__table__
    rows = [
        {
            "article_id": a.id,
            "config": config_for(a.language),
            "title": a.title or "",
            "body": "\n".join(filter(None, [a.summary, a.body_text])),
            "tags": " ".join(t.strip() for t in (a.tags or "").split(",") if t.strip()),
        }
        for a in conn.execute(
            sa.select(
                Indexed.id,
                Indexed.language,
                Indexed.title,
                Indexed.summary,
                Indexed.body_text,
                Indexed.tags,
            ).where(Indexed.id.in_(ids))
        )
    ]
    conn.execute(sa.delete(table).where(table.c.article_id.in_(ids)))
    if rows:
        conn.execute(sa.insert(table), rows)
    return len(rows)


def reindex_all_articles(conn: Connection) -> int:
    ids = list(conn.scalars(sa.select(Article.id).order_by(Article.id)))
    return index_articles(conn, ids)


_FIELDS = ("title", "summary", "body_text", "tags", "language")


@sa.event.listens_for(Session, "after_flush")
def _index_after_flush(session: Session, _flush_context) -> None:
    if session.info.get("search_index") is False:
        return
    ids = {obj.id for obj in session.new if isinstance(obj, Article)}
    for obj in session.dirty:
        if isinstance(obj, Article):
            state = sa.inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in _FIELDS):
                ids.add(obj.id)
    if ids:
        index_articles(session.connection(), ids)
