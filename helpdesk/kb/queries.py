"""What the help centre, the console and the API read from the knowledge base."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..tickets.models import Category
from .models import Article, DeflectionEvent, KbRevision, KbTopic


def published(language: str | None, visibilities) -> list:
    conditions = [Article.status == "published", Article.visibility.in_(list(visibilities))]
    if language:
        conditions.append(Article.language == language)
    return conditions


def categories_with_counts(language: str, visibilities) -> list[tuple[Category, int]]:
    """The active categories that have articles the reader may see, with how many (one query)."""
    count = sa.func.count(Article.id)
    rows = db.session.execute(
        sa.select(Category, count)
        .join(Article, Article.category_id == Category.id)
        .where(Category.active.is_(True), *published(language, visibilities))
        .group_by(Category.id)
        .order_by(Category.position, Category.name)
    ).all()
    return [(c, n) for c, n in rows]


def article_list(
    language: str | None, visibilities, *, category_id: int | None = None, limit: int = 50
) -> list[Article]:
    stmt = sa.select(Article).where(*published(language, visibilities))
    if category_id is not None:
        stmt = stmt.where(Article.category_id == category_id)
    stmt = stmt.order_by(Article.helpful_yes.desc(), Article.views.desc(), Article.id).limit(limit)
    return list(db.session.scalars(stmt.options(joinedload(Article.category))))


def article_by_slug(slug: str, language: str) -> Article | None:
    """The article with this slug in the reader's language, else in any language."""
    rows = list(
        db.session.scalars(
            sa.select(Article)
            .where(Article.slug == slug)
            .order_by((Article.language == language).desc(), Article.id)
            .limit(3)
            .options(
                joinedload(Article.category),
                joinedload(Article.topic).selectinload(KbTopic.articles),
            )
        )
    )
    return rows[0] if rows else None


def related_articles(article: Article, visibilities, limit: int = 5) -> list[Article]:
    """Published articles of the same language sharing the category or a tag (one query)."""
    tags = article.tag_list
    shared = [Article.category_id == article.category_id] if article.category_id else []
    shared += [Article.tags.ilike(f"%{t}%") for t in tags[:5]]
    if not shared:
        return []
    return list(
        db.session.scalars(
            sa.select(Article)
            .where(
                *published(article.language, visibilities),
                Article.id != article.id,
                sa.or_(*shared),
            )
            .order_by(Article.helpful_yes.desc(), Article.id)
            .limit(limit)
        )
    )


@dataclass
class ConsoleFilter:
    q: str = ""
    status: str | None = None
    language: str | None = None
    visibility: str | None = None
    category_id: int | None = None


def console_list(flt: ConsoleFilter, limit: int = 100) -> list[Article]:
    stmt = sa.select(Article)
    if flt.status:
        stmt = stmt.where(Article.status == flt.status)
    if flt.language:
        stmt = stmt.where(Article.language == flt.language)
    if flt.visibility:
        stmt = stmt.where(Article.visibility == flt.visibility)
    if flt.category_id:
        stmt = stmt.where(Article.category_id == flt.category_id)
    if flt.q:
        stmt = stmt.where(Article.title.ilike(f"%{flt.q.replace('%', '').replace('_', '')}%"))
    return list(
        db.session.scalars(
            stmt.order_by(Article.updated_at.desc(), Article.id.desc())
            .limit(limit)
            .options(
                joinedload(Article.category),
                joinedload(Article.author),
                joinedload(Article.reviewer),
                joinedload(Article.topic).selectinload(KbTopic.articles),
            )
        ).unique()
    )


def revisions_of(article: Article) -> list[KbRevision]:
    return list(
        db.session.scalars(
            sa.select(KbRevision)
            .where(KbRevision.article_id == article.id)
            .order_by(KbRevision.number.desc())
            .options(selectinload(KbRevision.actor))
        )
    )


@dataclass
class DeflectionReport:
    visits: int  # visits of the new-demand form where suggestions were shown
    opened: int  # ... and the visitor opened one
    deflected: int  # ... opened one and sent no demand
    submitted: int  # ... sent a demand anyway
    share: float  # deflected / visits with suggestions shown
    top: list[tuple[Article, int]]  # the articles opened most


def deflection_report(since: datetime, until: datetime) -> DeflectionReport:
    """From the visits' events (one grouped query, plus the top articles)."""
    e = DeflectionEvent
    per_visit = (
        sa.select(
            e.visit,
            sa.func.max(sa.case((e.kind == "shown", 1), else_=0)).label("shown"),
            sa.func.max(sa.case((e.kind == "opened", 1), else_=0)).label("opened"),
            sa.func.max(sa.case((e.kind == "submitted", 1), else_=0)).label("submitted"),
        )
        .where(e.created_at >= since, e.created_at < until)
        .group_by(e.visit)
        .subquery()
    )
    shown = per_visit.c.shown == 1
    row = db.session.execute(
        sa.select(
            sa.func.count().filter(shown),
            sa.func.count().filter(shown, per_visit.c.opened == 1),
            sa.func.count().filter(shown, per_visit.c.opened == 1, per_visit.c.submitted == 0),
            sa.func.count().filter(shown, per_visit.c.submitted == 1),
        )
    ).one()
    visits, opened, deflected, submitted = (int(x or 0) for x in row)
    opened_count = sa.func.count(e.id)
    top = db.session.execute(
        sa.select(Article, opened_count)
        .join(e, e.article_id == Article.id)
        .where(e.kind == "opened", e.created_at >= since, e.created_at < until)
        .group_by(Article.id)
        .order_by(opened_count.desc(), Article.id)
        .limit(10)
    ).all()
    return DeflectionReport(
        visits=visits,
        opened=opened,
        deflected=deflected,
        submitted=submitted,
        share=(deflected / visits) if visits else 0.0,
        top=[(a, n) for a, n in top],
    )
