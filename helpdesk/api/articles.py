"""Knowledge-base articles over the API.

Reading is open: without a token, the published public articles; a customer's token adds the
customers-only ones; a staff token sees every visibility and status (drafts too). Writing is
staff's: any member of staff authors (creates drafts, sends them to review, edits them);
supervisors and admins review (publish, archive, edit published ones).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..core.errors import NotFound, ValidationError
from ..core.text import id_number
from ..core.unit import commit
from ..extensions import db
from ..kb import permissions, services
from ..kb.models import LANGUAGES, STATUSES, VISIBILITIES, Article, KbTopic
from ..kb.search import search_articles
from ..search.service import MAX_QUERY
from .auth import api_user, require_staff
from .blueprint import bp
from .documented import documented, ok, path_parameter, query
from .lookups import category_by_ref
from .parsing import json_object, query_int
from .schemas.articles import Article as ArticleSchema
from .schemas.articles import ArticleInput, ArticleList, ArticlePatch
from .serializers import iso, person
from .validation import parse_body

ARTICLE_ID = path_parameter("article_id", _l("The article's id."), {"type": "integer"})
OPTIONAL_TOKEN = _l(
    "No token needed: without one, published public articles; a customer's token adds the "
    "customers-only ones; staff see every visibility and status."
)


def _reader():
    return g.get("api_user")


def _category(category) -> dict | None:
    if category is None:
        return None
    return {"id": category.id, "name": category.name}


def article_json(article: Article, viewer) -> dict:
    return {
        "id": article.id,
        "language": article.language,
        "slug": article.slug,
        "url": url_for("help.article", slug=article.slug, _external=True),
        "title": article.title,
        "summary": article.summary,
        "body_html": article.body_html,
        "category": _category(article.category),
        "tags": article.tag_list,
        "visibility": article.visibility,
        "status": article.status,
        "author": person(article.author, viewer) if permissions.can_author(viewer) else None,
        "reviewer": person(article.reviewer, viewer) if permissions.can_author(viewer) else None,
        "revision": article.revision,
        "translations": [
            {"id": t.id, "language": t.language, "slug": t.slug}
            for t in article.topic.articles
            if t.id != article.id and permissions.can_read(viewer, t)
        ],
        "helpful_yes": article.helpful_yes,
        "helpful_no": article.helpful_no,
        "uses": article.uses,
        "created_at": iso(article.created_at),
        "updated_at": iso(article.updated_at),
        "published_at": iso(article.published_at),
    }


def _hit_json(article: Article, snippet=None) -> dict:
    return {
        "id": article.id,
        "language": article.language,
        "slug": article.slug,
        "url": url_for("help.article", slug=article.slug, _external=True),
        "title": article.title,
        "summary": article.summary,
        "snippet": str(snippet) if snippet is not None else None,
        "category": _category(article.category),
        "visibility": article.visibility,
        "status": article.status,
        "updated_at": iso(article.updated_at),
    }


def _choice_arg(name: str, allowed) -> str | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        raise ValidationError(_l("Use one of: %(values)s."), field=name, values=", ".join(allowed))
    return value


def _load(raw_id: int | str, viewer) -> Article:
    article_id = id_number(raw_id)
    if article_id is None:
        raise NotFound(_l("No article has this id."), field="article_id")
    found = db.session.scalar(
        sa.select(Article)
        .where(Article.id == article_id)
        .options(
            joinedload(Article.category),
            joinedload(Article.author),
            joinedload(Article.reviewer),
            joinedload(Article.topic).selectinload(KbTopic.articles),
        )
    )
    if found is None or not permissions.can_read(viewer, found):
        raise NotFound(_l("No article has this id."), field="article_id")
    return found


@bp.get("/articles")
@documented(
    "listArticles",
    "articles",
    _l("Search and list help-centre articles"),
    description=OPTIONAL_TOKEN,
    optional_token=True,
    parameters=(
        query("q", _l("Words of the title, body or tags (accents and case do not matter).")),
        query(
            "lang", _l("Language: pt_BR, es or en."), {"type": "string", "enum": list(LANGUAGES)}
        ),
        query("status", _l("Staff only."), {"type": "string", "enum": list(STATUSES)}),
        query("visibility", _l("Filter."), {"type": "string", "enum": list(VISIBILITIES)}),
        query("limit", _l("At most this many (1-50, default 20)."), {"type": "integer"}),
    ),
    responses={200: ok(ArticleList)},
    errors=(400, 401),
)
def list_articles():
    viewer = _reader()
    q = (request.args.get("q") or "")[:MAX_QUERY]
    language = _choice_arg("lang", LANGUAGES)
    status = _choice_arg("status", permissions.statuses_for(viewer))
    visibility = _choice_arg("visibility", permissions.visibility_for(viewer))
    limit = query_int("limit", 20, low=1, high=50)
    visibilities = [visibility] if visibility else permissions.visibility_for(viewer)
    statuses = (
        [status]
        if status
        else (permissions.statuses_for(viewer) if permissions.can_author(viewer) else ["published"])
    )
    if q.strip():
        hits = search_articles(q, language, visibilities, limit, statuses=statuses)
        items = [_hit_json(h.article, h.snippet) for h in hits]
    else:
        stmt = sa.select(Article).where(
            Article.visibility.in_(visibilities), Article.status.in_(statuses)
        )
        if language:
            stmt = stmt.where(Article.language == language)
        rows = db.session.scalars(
            stmt.order_by(Article.updated_at.desc(), Article.id.desc())
            .limit(limit)
            .options(joinedload(Article.category))
        )
        items = [_hit_json(a) for a in rows]
    return jsonify({"items": items})


@bp.post("/articles")
@documented(
    "createArticle",
    "articles",
    _l("Write an article (or a language version of one)"),
    description=_l(
        "Staff. Authors start drafts or send them to review; supervisors and admins may "
        "publish at once. Every change is kept as a revision."
    ),
    body=ArticleInput,
    example={
        "language": "pt_BR",
        "title": "Como emitir a segunda via da fatura",
        "body": "<p>Entre em <strong>Minha conta › Faturas</strong> e escolha o mês.</p>",
        "tags": ["fatura", "boleto"],
        "visibility": "public",
        "status": "draft",
    },
    responses={201: ok(ArticleSchema, description=_l("Created."))},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def create_article():
    user = api_user()
    require_staff(user)
    given = parse_body(ArticleInput, json_object())
    translation_of = None
    if given.translation_of is not None:
        translation_of = _load(given.translation_of, user)
    created = services.create_article(
        user,
        language=given.language,
        title=given.title,
        body=given.body,
        summary=given.summary or "",
        category_id=category_by_ref(given.category).id if given.category is not None else None,
        tags=given.tags or [],
        visibility=given.visibility or "public",
        status=given.status or "draft",
        translation_of=translation_of,
    )
    article_id = created.id
    commit()
    response = jsonify(article_json(_load(article_id, user), user))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_article", article_id=article_id)
    return response


# one rule for GET and PATCH without the int converter: werkzeug answers 405 instead of 404 for an
# id past the column's range when two methods share an <int:> rule in separate views
@bp.get("/articles/<article_id>")
@documented(
    "getArticle",
    "articles",
    _l("Read one article"),
    description=OPTIONAL_TOKEN,
    optional_token=True,
    parameters=(ARTICLE_ID,),
    responses={200: ok(ArticleSchema)},
    errors=(401, 404),
)
def get_article(article_id: str):
    viewer = _reader()
    return jsonify(article_json(_load(article_id, viewer), viewer))


@bp.patch("/articles/<article_id>")
@documented(
    "updateArticle",
    "articles",
    _l("Edit an article or move its status"),
    description=_l(
        "Staff edit drafts and articles in review and move them draft ↔ review; supervisors "
        "and admins also edit published ones, publish, archive and send back to draft. "
        "Fields first, then the status; each change is a revision."
    ),
    parameters=(ARTICLE_ID,),
    body=ArticlePatch,
    example={"status": "published", "note": "Revisado"},
    responses={200: ok(ArticleSchema)},
    errors=(400, 401, 403, 404, 415, 422),
)
def update_article(article_id: str):
    user = api_user()
    require_staff(user)
    article = _load(article_id, user)
    data = json_object()
    given = parse_body(ArticlePatch, data)
    changes = {
        name: getattr(given, name)
        for name in ("title", "body", "summary", "tags", "visibility")
        if getattr(given, name) is not None
    }
    if "category" in data:
        changes["category_id"] = (
            category_by_ref(given.category).id if given.category is not None else None
        )
    if changes:
        services.update_article(article, user, note=given.note or "", **changes)
    if given.status is not None:
        services.change_status(article, user, given.status, note=given.note or "")
    commit()
    return jsonify(article_json(_load(article_id, user), user))
