"""The knowledge base: articles (one row per language, translations share a topic), their
revisions, images, helpful votes, uses in replies, deflection events, the article search index,
and the known-problem notices published from root-cause investigations with their followers.

An article's body is kept twice: `body_html` (sanitised by kb.sanitize, what pages show) and
`body_text` (plain, what the index and snippets read). Every change to an article is a
KbRevision (append-only).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..core.clock import now
from ..extensions import db
from ..tickets.models import Category

LANGUAGES = ("pt_BR", "es", "en")
LANGUAGE_LABELS = {"pt_BR": "Português (Brasil)", "es": "Español", "en": "English"}

VISIBILITIES = ("public", "customers", "internal")
VISIBILITY_LABELS = {
    "public": _l("Public"),
    "customers": _l("Signed-in customers"),
    "internal": _l("Internal (staff only)"),
}
STATUSES = ("draft", "review", "published", "archived")
STATUS_LABELS = {
    "draft": _l("Draft"),
    "review": _l("In review"),
    "published": _l("Published"),
    "archived": _l("Archived"),
}
# who may move an article where: authors (any staff) between draft and review; reviewers
# (supervisors, admins) anywhere
AUTHOR_TRANSITIONS = {("draft", "review"), ("review", "draft")}

DEFLECTION_KINDS = ("shown", "opened", "submitted")
NOTICE_STATUSES = ("published", "solved", "withdrawn")
NOTICE_STATUS_LABELS = {
    "published": _l("Being worked on"),
    "solved": _l("Solved"),
    "withdrawn": _l("Withdrawn"),
}


def _ts(**kw):
    return mapped_column(sa.DateTime(timezone=True), **kw)


class KbTopic(db.Model):
    """What the language versions of one article share (they are translations of each other)."""

    __tablename__ = "kb_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = _ts(default=now)

    articles: Mapped[list[Article]] = relationship(
        back_populates="topic", order_by="Article.language"
    )


class Article(db.Model):
    __tablename__ = "kb_articles"
    __table_args__ = (
        sa.UniqueConstraint("topic_id", "language", name="uq_kb_articles_topic_language"),
        sa.UniqueConstraint("language", "slug", name="uq_kb_articles_language_slug"),
        sa.Index("ix_kb_articles_listing", "status", "visibility", "language", "category_id"),
        sa.Index("ix_kb_articles_updated", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_topics.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(sa.String(10))
    slug: Mapped[str] = mapped_column(sa.String(120))
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    body_text: Mapped[str] = mapped_column(sa.Text, default="")
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    tags: Mapped[str] = mapped_column(sa.String(500), default="")  # comma separated
    visibility: Mapped[str] = mapped_column(sa.String(20), default="public")
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(default=1)
    helpful_yes: Mapped[int] = mapped_column(default=0)
    helpful_no: Mapped[int] = mapped_column(default=0)
    views: Mapped[int] = mapped_column(default=0)
    uses: Mapped[int] = mapped_column(default=0)  # times linked in an agent's public reply
    created_at: Mapped[datetime] = _ts(default=now)
    updated_at: Mapped[datetime] = _ts(default=now)
    published_at: Mapped[datetime | None] = _ts()

    topic: Mapped[KbTopic] = relationship(back_populates="articles")
    category: Mapped[Category | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    revisions: Mapped[list[KbRevision]] = relationship(
        back_populates="article", order_by="KbRevision.number.desc()", cascade="all, delete-orphan"
    )

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in (self.tags or "").split(",") if t.strip()]

    @property
    def is_live(self) -> bool:
        return self.status == "published" and self.visibility != "internal"

    def __repr__(self) -> str:
        return f"<Article {self.id} {self.language} {self.slug}>"


class KbRevision(db.Model):
    """An article as it was after one change (append-only)."""

    __tablename__ = "kb_revisions"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "number", name="uq_kb_revisions_article_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(sa.String(30))  # created, edited, status
    title: Mapped[str] = mapped_column(sa.String(200))
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20))
    visibility: Mapped[str] = mapped_column(sa.String(20))
    category_id: Mapped[int | None] = mapped_column()
    tags: Mapped[str] = mapped_column(sa.String(500), default="")
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _ts(default=now)

    article: Mapped[Article] = relationship(back_populates="revisions")
    actor: Mapped[User | None] = relationship()


class KbImage(db.Model):
    """An image of an article's body, stored like a ticket attachment (random name outside
    static), served inline with its own content type and nosniff."""

    __tablename__ = "kb_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    storage_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _ts(default=now)


class KbVote(db.Model):
    """ "Was this helpful?": yes/no with an optional comment."""

    __tablename__ = "kb_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True
    )
    helpful: Mapped[bool] = mapped_column()
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _ts(default=now)

    article: Mapped[Article] = relationship()


class KbUse(db.Model):
    """An article linked in an agent's public reply (counted once per message)."""

    __tablename__ = "kb_uses"
    __table_args__ = (sa.UniqueConstraint("article_id", "message_id", name="uq_kb_uses_message"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = _ts(default=now)


class DeflectionEvent(db.Model):
    """What a visitor of the new-demand form did with the suggestions: `visit` is a random id the
    form's page makes; shown (suggestions appeared), opened (one was opened), submitted (the
    demand was sent). A visit with an opened article and no submission was deflected."""

    __tablename__ = "kb_deflection_events"
    __table_args__ = (sa.Index("ix_kb_deflection_events_when", "created_at", "visit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(20))
    article_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("kb_articles.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _ts(default=now)


class ProblemNotice(db.Model):
    """A known problem told to customers, published from an open investigation: one row per
    investigation, texts per language."""

    __tablename__ = "kb_problem_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("investigations.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(sa.String(20), default="published", index=True)
    texts: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {lang: {title, affected, ...}}
    expected_fix_on: Mapped[date | None] = mapped_column(sa.Date)
    published_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    published_at: Mapped[datetime] = _ts(default=now)
    updated_at: Mapped[datetime] = _ts(default=now)
    solved_at: Mapped[datetime | None] = _ts()

    followers: Mapped[list[ProblemFollower]] = relationship(
        back_populates="notice", order_by="ProblemFollower.id", cascade="all, delete-orphan"
    )

    def text(self, language: str, field: str) -> str:
        """The field in `language`, else in the first language that has it."""
        texts = self.texts or {}
        for lang in (language, *LANGUAGES):
            value = (texts.get(lang) or {}).get(field, "")
            if value:
                return value
        return ""


class ProblemFollower(db.Model):
    """Someone to tell when the problem is solved: a signed-in customer (confirmed at once) or
    an email confirmed through a link."""

    __tablename__ = "kb_problem_followers"
    __table_args__ = (sa.UniqueConstraint("notice_id", "email", name="uq_kb_followers_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kb_problem_notices.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254))
    language: Mapped[str] = mapped_column(sa.String(10), default="pt_BR")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    confirmed_at: Mapped[datetime | None] = _ts()
    notified_at: Mapped[datetime | None] = _ts()
    created_at: Mapped[datetime] = _ts(default=now)

    notice: Mapped[ProblemNotice] = relationship(back_populates="followers")
