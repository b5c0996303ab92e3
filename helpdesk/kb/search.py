"""Searching articles with the tickets' search service: the same query parsing (words, "quoted
phrases", the last word as a prefix while typing), the same engine expressions (SQLite FTS5,
PostgreSQL tsquery over the unaccented configurations) and the same snippets, on the articles'
own index (kb.index).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..search.service import (
    SCALE,
    Query,
    _fts5_expression,  # the engines' expressions, shared with the tickets' search
    _pg_tsquery,
    fold,
    parse_query,
    snippet,
)
from .index import ArticleSearch
from .models import Article

MAX_LIMIT = 50
# words too common to suggest an article by (any-word mode: what a customer types in a demand)
STOP_WORDS = frozenset(
    fold(w)
    for w in [
        "para",
        "como",
        "minha",
        "meu",
        "mais",
        "porque",
        "quando",
        "este",
        "esta",
        "isso",
        "estou",
        "tenho",
        "foi",
        "não",
        "sim",
        "uma",
        "umas",
        "uns",
        "com",
        "sem",
        "que",
        "por",
        "dos",
        "das",
        "nos",
        "nas",
        "pelo",
        "pela",
        "sobre",
        "depois",
        "ainda",
        "também",
        "mesmo",
        "muito",
        "está",
        "estão",
        "ser",
        "ter",
        "fazer",
        "quero",
        "gostaria",
        "preciso",
        "pero",
        "cuando",
        "esto",
        "estoy",
        "tengo",
        "fue",
        "unos",
        "los",
        "las",
        "del",
        "después",
        "todavía",
        "muy",
        "quiero",
        "hola",
        "buenas",
        "necesito",
        "the",
        "and",
        "for",
        "with",
        "this",
        "that",
        "have",
        "from",
        "what",
        "when",
        "how",
        "want",
        "would",
        "need",
    ]
)


def any_word_query(query: Query) -> list[Query]:
    """What a customer wrote, as one query per telling word (an article matching any of them is
    a candidate; the engines' ranking puts those matching more words first)."""
    words = [*query.words, *(w for p in query.phrases for w in p)]
    out = [
        Query(words=[w]) for w in dict.fromkeys(words) if len(w) >= 3 and fold(w) not in STOP_WORDS
    ]
    if query.prefix and len(query.prefix) >= 2 and fold(query.prefix) not in STOP_WORDS:
        out.append(Query(prefix=query.prefix))
    return out[:12]


@dataclass
class ArticleHit:
    article: Article
    snippet: Markup
    score: int


def _sqlite_scores(queries: list[Query], conditions):
    expression = " OR ".join(f"({_fts5_expression(q, staff=True)})" for q in queries)
    fts = sa.literal_column("search_fts_articles")
    rowid = sa.literal_column("search_fts_articles.rowid")
    score = sa.cast(sa.func.max(sa.func.bm25(fts, 5.0, 1.0, 3.0), -999.0) * SCALE, sa.Integer)
    return (
        sa.select(rowid.label("article_id"), score.label("score"))
        .select_from(sa.table("search_fts_articles").join(Article, Article.id == rowid))
        .where(fts.op("MATCH")(expression), *conditions)
        .subquery("matched")
    )


def _postgresql_scores(queries: list[Query], conditions):
    tsq = _pg_tsquery(queries[0])
    for query in queries[1:]:
        tsq = tsq.op("||")(_pg_tsquery(query))
    score = sa.cast(-sa.func.ts_rank_cd(ArticleSearch.tsv, tsq, 32) * SCALE, sa.Integer)
    return (
        sa.select(ArticleSearch.article_id.label("article_id"), score.label("score"))
        .join(Article, Article.id == ArticleSearch.article_id)
        .where(ArticleSearch.tsv.op("@@")(tsq), *conditions)
        .subquery("matched")
    )


def search_articles(
    q: str | None,
    language: str | None = None,
    visibility_allowed: Iterable[str] = ("public",),
    limit: int = 10,
    *,
    statuses: Iterable[str] = ("published",),
    category_id: int | None = None,
    any_word: bool = False,
) -> list[ArticleHit]:
    """The best articles for what was typed (accents and case do not matter; the last word is a
    prefix), within the visibilities and statuses allowed, in `language` when given. Every word
    must match, or with `any_word` (suggestions while a demand is typed) any telling word."""
    query = parse_query(q)
    if query.empty:
        return []
    queries = any_word_query(query) if any_word else [query]
    if not queries:
        return []
    limit = max(1, min(limit, MAX_LIMIT))
    conditions = [
        Article.visibility.in_(list(visibility_allowed)),
        Article.status.in_(list(statuses)),
    ]
    if language:
        conditions.append(Article.language == language)
    if category_id:
        conditions.append(Article.category_id == category_id)
    dialect = db.session.get_bind().dialect.name
    engine = _postgresql_scores if dialect == "postgresql" else _sqlite_scores
    matched = engine(queries, conditions)
    stmt = (
        sa.select(Article, matched.c.score, ArticleSearch.body)
        .join(matched, matched.c.article_id == Article.id)
        .join(ArticleSearch, ArticleSearch.article_id == Article.id)
        .order_by(matched.c.score, Article.updated_at.desc(), Article.id.desc())
        .limit(limit)
        .options(joinedload(Article.category))
    )
    terms = [t for q in queries for t in q.terms()]  # the telling words only
    return [
        ArticleHit(article=article, snippet=snippet(body, terms), score=score)
        for article, score, body in db.session.execute(stmt).unique()
    ]
