"""Knowledge-base operations: write, translate, review and publish articles (every change a
revision), images, helpful votes, deflection events, a draft from an agent's reply.

verb_noun functions taking plain arguments and the actor; they flush, never commit.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core.clock import now
from ..core.errors import Conflict, ValidationError
from ..core.logs import who
from ..extensions import db
from ..tickets import attachments
from ..tickets.models import Category, Message
from . import permissions
from .models import (
    AUTHOR_TRANSITIONS,
    DEFLECTION_KINDS,
    LANGUAGES,
    STATUSES,
    VISIBILITIES,
    Article,
    DeflectionEvent,
    KbImage,
    KbRevision,
    KbTopic,
    KbVote,
)
from .sanitize import MAX_BODY, body_text, clean_body

log = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_SUMMARY = 300
MAX_TAGS = 500
MAX_COMMENT = 2000
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
               "webp": "image/webp"}  # fmt: skip
RESERVED_SLUGS = {"suggest", "events", "sitemap", "images", "problems", "follow"}
_VISIT = re.compile(r"^[A-Za-z0-9_-]{8,40}$")


# checks ----------------------------------------------------------------------------------------


def _choice(value: str, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise ValidationError(_l("Use one of: %(values)s."), field=field, values=", ".join(allowed))
    return value


def _text(value: str | None, field: str, limit: int, *, required: bool = False) -> str:
    value = " ".join((value or "").split()) if field != "body" else (value or "")
    if required and not value.strip():
        raise ValidationError(_l("This field is required."), field=field)
    if len(value) > limit:
        raise ValidationError(_l("At most %(n)s characters."), field=field, n=limit)
    return value


def _tags(value: str | list[str] | None) -> str:
    items = value if isinstance(value, list) else (value or "").split(",")
    seen: list[str] = []
    for item in items:
        tag = " ".join(str(item).split())[:60]
        if tag and tag.lower() not in {s.lower() for s in seen}:
            seen.append(tag)
    joined = ", ".join(seen)
    if len(joined) > MAX_TAGS:
        raise ValidationError(_l("At most %(n)s characters."), field="tags", n=MAX_TAGS)
    return joined


def _category(category_id: int | None) -> int | None:
    if category_id is None:
        return None
    if db.session.get(Category, category_id) is None:
        raise ValidationError(_l("This category does not exist."), field="category")
    return category_id


def slugify(title: str) -> str:
    """A readable URL part: ASCII letters, digits and hyphens (accents dropped)."""
    text = unicodedata.normalize("NFKD", title or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).encode("ascii", "ignore")
    slug = re.sub(r"[^a-z0-9]+", "-", text.decode().lower()).strip("-")[:100].strip("-")
    return slug or "artigo"


def _unique_slug(language: str, title: str, *, exclude_id: int | None = None) -> str:
    base = slugify(title)
    taken = set(
        db.session.scalars(
            sa.select(Article.slug).where(
                Article.language == language,
                Article.slug.like(f"{base}%"),
                Article.id != (exclude_id or 0),
            )
        )
    )
    slug, n = base, 2
    while slug in taken or slug in RESERVED_SLUGS:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _revise(article: Article, by: User | None, action: str, note: str = "") -> KbRevision:
    number = (
        db.session.scalar(
            sa.select(sa.func.max(KbRevision.number)).where(KbRevision.article_id == article.id)
        )
        or 0
    ) + 1
    article.revision = number
    revision = KbRevision(
        article_id=article.id,
        number=number,
        action=action,
        title=article.title,
        body_html=article.body_html,
        status=article.status,
        visibility=article.visibility,
        category_id=article.category_id,
        tags=article.tags,
        note=note[:300],
        actor_id=by.id if by is not None else None,
        created_at=now(),
    )
    db.session.add(revision)
    return revision


def _set_body(article: Article, raw: str) -> None:
    if len(raw or "") > MAX_BODY:
        raise ValidationError(_l("At most %(n)s characters."), field="body", n=MAX_BODY)
    article.body_html = clean_body(raw)
    article.body_text = body_text(article.body_html)


# articles --------------------------------------------------------------------------------------


def create_article(
    by: User | None,
    *,
    language: str,
    title: str,
    body: str,
    summary: str = "",
    category_id: int | None = None,
    tags: str | list[str] | None = "",
    visibility: str = "public",
    status: str = "draft",
    translation_of: Article | None = None,
) -> Article:
    """A new article (or a new language version of `translation_of`). Authors start drafts or
    send them straight to review; reviewers may publish at once."""
    if by is not None:
        permissions.require(permissions.can_author(by))
    language = _choice(language, LANGUAGES, "language")
    visibility = _choice(visibility, VISIBILITIES, "visibility")
    status = _choice(status, STATUSES, "status")
    if by is not None and status not in ("draft", "review"):
        permissions.require(permissions.can_review(by))
    title = _text(title, "title", MAX_TITLE, required=True)
    summary = _text(summary, "summary", MAX_SUMMARY)
    if translation_of is not None:
        taken = {a.language for a in translation_of.topic.articles}
        if language in taken:
            raise Conflict(
                _l("This article already has a version in this language."), field="language"
            )
        topic = translation_of.topic
        if category_id is None:
            category_id = translation_of.category_id
    else:
        topic = KbTopic(created_at=now())
        db.session.add(topic)
    at = now()
    article = Article(
        topic=topic,
        language=language,
        slug=_unique_slug(language, title),
        title=title,
        summary=summary,
        category_id=_category(category_id),
        tags=_tags(tags),
        visibility=visibility,
        status=status,
        author_id=by.id if by is not None else None,
        created_at=at,
        updated_at=at,
    )
    _set_body(article, body)
    if not article.body_text.strip():
        raise ValidationError(_l("This field is required."), field="body")
    if status == "published":
        article.published_at = at
        article.reviewer_id = by.id if by is not None else None
    db.session.add(article)
    db.session.flush()
    _revise(article, by, "created")
    db.session.flush()
    log.info("article %s (%s) created by %s", article.id, language, who(by))
    return article


EDITABLE = ("title", "body", "summary", "category_id", "tags", "visibility")


def update_article(article: Article, by: User | None, note: str = "", **changes) -> Article:
    """Change the text, category, tags or visibility (a revision); a new title keeps the slug
    (links already given out keep working)."""
    if by is not None:
        permissions.require(permissions.can_edit(by, article))
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(_l("This value is not valid."), field=sorted(unknown)[0])
    changed = False
    if "title" in changes and changes["title"] is not None:
        title = _text(changes["title"], "title", MAX_TITLE, required=True)
        changed |= title != article.title
        article.title = title
    if "summary" in changes and changes["summary"] is not None:
        summary = _text(changes["summary"], "summary", MAX_SUMMARY)
        changed |= summary != article.summary
        article.summary = summary
    if "body" in changes and changes["body"] is not None:
        before = article.body_html
        _set_body(article, changes["body"])
        if not article.body_text.strip():
            raise ValidationError(_l("This field is required."), field="body")
        changed |= before != article.body_html
    if "category_id" in changes:
        category_id = _category(changes["category_id"])
        changed |= category_id != article.category_id
        article.category_id = category_id
    if "tags" in changes and changes["tags"] is not None:
        tags = _tags(changes["tags"])
        changed |= tags != article.tags
        article.tags = tags
    if "visibility" in changes and changes["visibility"] is not None:
        visibility = _choice(changes["visibility"], VISIBILITIES, "visibility")
        changed |= visibility != article.visibility
        article.visibility = visibility
    if changed:
        article.updated_at = now()
        db.session.flush()
        _revise(article, by, "edited", note)
        db.session.flush()
    return article


def change_status(article: Article, by: User | None, status: str, note: str = "") -> Article:
    """Move an article through draft → review → published → archived. Authors send drafts to
    review (and take them back); reviewers publish, archive, or send back to draft."""
    status = _choice(status, STATUSES, "status")
    if status == article.status:
        return article
    if by is not None:
        allowed = permissions.can_review(by) or (
            permissions.can_author(by) and (article.status, status) in AUTHOR_TRANSITIONS
        )
        permissions.require(allowed)
    article.status = status
    article.updated_at = now()
    if status == "published":
        article.published_at = article.published_at or now()
        article.reviewer_id = by.id if by is not None else article.reviewer_id
    db.session.flush()
    _revise(article, by, "status", note)
    db.session.flush()
    log.info("article %s is now %s (%s)", article.id, status, who(by))
    return article


def draft_from_message(message: Message, by: User) -> Article:
    """A draft article from an agent's reply, in one step: the demand's subject as the title, the
    reply as the body, in the customer's language (a reviewer checks it before it is public)."""
    permissions.require(permissions.can_author(by))
    from ..investigations.notices import customer_language

    ticket = message.ticket
    return create_article(
        by,
        language=customer_language(ticket),
        title=ticket.subject or "—",
        body=message.body or "",
        category_id=ticket.category_id,
        visibility="public",
        status="draft",
    )


# images ----------------------------------------------------------------------------------------


def store_image(file_storage, by: User | None) -> KbImage:
    """An image for an article's body, written like a ticket attachment (random name outside
    static, removed again if the transaction rolls back)."""
    if by is not None:
        permissions.require(permissions.can_author(by))
    stored = attachments.write_upload(file_storage, allowed=IMAGE_TYPES, field="image")
    image = KbImage(
        filename=stored.name,
        storage_name=stored.storage_name,
        content_type=IMAGE_TYPES[stored.ext],
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=by.id if by is not None else None,
        created_at=now(),
    )
    db.session.add(image)
    db.session.flush()
    return image


def image_path(image: KbImage) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / image.storage_name[:2] / image.storage_name


# readers ---------------------------------------------------------------------------------------


def record_vote(
    article: Article, *, helpful: bool, comment: str = "", user: User | None = None
) -> KbVote:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError(_l("At most %(n)s characters."), field="comment", n=MAX_COMMENT)
    vote = KbVote(
        article_id=article.id,
        helpful=helpful,
        comment=comment,
        user_id=user.id if user is not None and getattr(user, "is_authenticated", False) else None,
        created_at=now(),
    )
    db.session.add(vote)
    column = Article.helpful_yes if helpful else Article.helpful_no
    db.session.execute(
        sa.update(Article).where(Article.id == article.id).values({column: column + 1})
    )
    db.session.flush()
    return vote


def count_view(article: Article) -> None:
    db.session.execute(
        sa.update(Article).where(Article.id == article.id).values(views=Article.views + 1)
    )


def record_deflection(visit: str, kind: str, article_id: int | None = None) -> DeflectionEvent:
    """One step of a visit to the new-demand form (see DeflectionEvent)."""
    if not _VISIT.match(visit or ""):
        raise ValidationError(_l("This value is not valid."), field="visit")
    kind = _choice(kind, DEFLECTION_KINDS, "kind")
    if article_id is not None and db.session.get(Article, article_id) is None:
        article_id = None
    event = DeflectionEvent(visit=visit, kind=kind, article_id=article_id, created_at=now())
    db.session.add(event)
    db.session.flush()
    return event
