"""The help centre: anyone reads the published public articles (signed-in customers also the
customers-only ones; internal ones never appear here), searches them, votes on them, follows
known problems; the new-demand form asks it for suggestions (`/help/suggest`) and tells it what
the visitor did with them (`/help/events`).
"""

from __future__ import annotations

import contextlib
import logging

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..core.errors import DomainError, ValidationError
from ..core.unit import attempt
from ..extensions import db, limiter
from ..kb import problems, queries, services
from ..kb.models import LANGUAGE_LABELS, NOTICE_STATUS_LABELS, Article, KbImage, ProblemNotice
from ..kb.permissions import help_visibility_for
from ..kb.sanitize import clean_body
from ..kb.search import search_articles
from ..search.service import MAX_QUERY
from ..tickets.models import Category
from .forms import FollowForm, VoteForm

log = logging.getLogger(__name__)

bp = Blueprint("help", __name__)

SUGGESTIONS = 5


def _language() -> str:
    return str(get_locale())


def _visibility() -> tuple[str, ...]:
    return help_visibility_for(current_user)


def _query() -> str:
    return (request.args.get("q") or "")[:MAX_QUERY]


def _category_arg() -> Category | None:
    raw = request.args.get("category", "")
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        abort(400)
    category = db.session.get(Category, int(raw))
    if category is None or not category.active:
        abort(404)
    return category


def _readable(article: Article | None) -> Article:
    if article is None or article.status != "published" or article.visibility not in _visibility():
        abort(404)
    return article


def _search(q: str, language: str, **options):
    """Articles in the reader's language; when none matches, in any language."""
    return search_articles(q, language, _visibility(), **options) or search_articles(
        q, None, _visibility(), **options
    )


@bp.get("/")
def home():
    q = _query()
    language = _language()
    category = _category_arg()
    hits = (
        _search(q, language, limit=30, category_id=category.id if category is not None else None)
        if q.strip()
        else []
    )
    articles = (
        queries.article_list(language, _visibility(), category_id=category.id)
        if category is not None and not q.strip()
        else []
    )
    return render_template(
        "help/home.html",
        q=q,
        hits=hits,
        category=category,
        articles=articles,
        categories=queries.categories_with_counts(language, _visibility()),
        popular=queries.article_list(language, _visibility(), limit=6)
        if not q.strip() and category is None
        else [],
        notices=problems.matching_notices(q, language)
        if q.strip()
        else problems.published_notices(limit=5),
        language=language,
    )


@bp.get("/<slug>")
def article(slug: str):
    if len(slug) > 120:
        abort(404)
    found = _readable(queries.article_by_slug(slug, _language()))
    visit = request.args.get("visit", "")
    if visit:
        with contextlib.suppress(ValidationError):  # a hand-typed link: no event
            services.record_deflection(visit, "opened", found.id)
    services.count_view(found)
    translations = [
        a
        for a in found.topic.articles
        if a.id != found.id and a.status == "published" and a.visibility in _visibility()
    ]
    return render_template(
        "help/article.html",
        article=found,
        translations=translations,
        language_labels=LANGUAGE_LABELS,
        related=queries.related_articles(found, _visibility()),
        form=VoteForm(formdata=None, visit=visit),
    )


@bp.post("/<slug>/vote")
@limiter.limit("10/minute;60/hour")
def vote(slug: str):
    found = _readable(queries.article_by_slug(slug, _language()))
    form = VoteForm()
    if not form.validate_on_submit():
        flash(_("Choose yes or no."), "error")
        return redirect(url_for("help.article", slug=found.slug, _anchor="helpful")), 303
    with attempt() as done:
        services.record_vote(
            found,
            helpful=form.helpful.data == "yes",
            comment=form.comment.data or "",
            user=current_user,
        )
    if done.error:
        flash(str(done.error), "error")
    else:
        flash(_("Thank you: your answer helps us improve this article."), "success")
    return redirect(url_for("help.article", slug=found.slug, _anchor="helpful")), 303


@bp.get("/suggest")
@limiter.limit("120/minute")
def suggest():
    """Articles (and known problems) for what a customer is typing into the new-demand form."""
    q = _query()
    language = _language()
    visit = request.args.get("visit", "")
    hits = _search(q, language, limit=SUGGESTIONS, any_word=True) if q.strip() else []
    notices = problems.matching_notices(q, language) if q.strip() else []
    if (hits or notices) and visit:
        try:
            services.record_deflection(visit, "shown")
        except ValidationError:
            visit = ""
    suffix = {"visit": visit} if visit else {}
    return jsonify(
        {
            "articles": [
                {
                    "id": h.article.id,
                    "title": h.article.title,
                    "url": url_for("help.article", slug=h.article.slug, **suffix),
                    "snippet": str(h.snippet),
                }
                for h in hits
            ],
            "problems": [
                {
                    "id": n.id,
                    "title": n.text(language, "title"),
                    "workaround": n.text(language, "workaround"),
                    "url": url_for("help.problem", notice_id=n.id),
                }
                for n in notices
            ],
        }
    )


@bp.post("/events")
@limiter.limit("60/minute")
def events():
    """The new-demand form says its demand was sent (a beacon: no answer is read)."""
    visit = request.form.get("visit", "")
    kind = request.form.get("kind", "")
    if kind != "submitted":
        abort(400)
    with attempt() as done:
        services.record_deflection(visit, kind)
    if done.error:
        abort(400)
    return "", 204


@bp.get("/problems/<int:notice_id>")
def problem(notice_id: int):
    notice = db.session.get(ProblemNotice, notice_id)
    if notice is None or notice.status == "withdrawn":
        abort(404)
    return render_template(
        "help/problem.html", notice=notice, language=_language(), form=FollowForm(formdata=None)
    )


@bp.post("/problems/<int:notice_id>/follow")
@limiter.limit("5/minute;30/hour")
def follow(notice_id: int):
    notice = db.session.get(ProblemNotice, notice_id)
    if notice is None or notice.status == "withdrawn":
        abort(404)
    form = FollowForm()
    signed_in = current_user.is_authenticated
    if not form.validate_on_submit() or (not signed_in and not form.email.data):
        if not signed_in and not form.email.data:
            form.email.errors = [*form.email.errors, _("Enter your email address.")]
        return render_template(
            "help/problem.html", notice=notice, language=_language(), form=form
        ), 400
    with attempt() as done:
        problems.follow_notice(
            notice,
            user=current_user if signed_in else None,
            email=None if signed_in else form.email.data,
            language=_language(),
        )
    if done.error:
        if isinstance(done.error, DomainError) and done.error.field == "email":
            form.email.errors = [str(done.error)]
        else:
            flash(str(done.error), "error")
        return render_template(
            "help/problem.html", notice=notice, language=_language(), form=form
        ), done.error.status
    if signed_in:
        flash(_("Done: we will tell you by email when this problem is solved."), "success")
    else:  # the same answer whether or not the address already follows it
        flash(
            _(
                "Check your inbox: confirm with the link we sent, and we will tell you when it is solved."
            ),
            "success",
        )
    return redirect(url_for("help.problem", notice_id=notice.id)), 303


@bp.get("/follow/<token>")
def confirm_follow(token: str):
    with attempt() as done:
        follower = problems.confirm_follow(token)
        notice_id = follower.notice_id
    if done.error:
        abort(404)
    flash(_("Confirmed: we will tell you by email when this problem is solved."), "success")
    return redirect(url_for("help.problem", notice_id=notice_id)), 303


@bp.get("/images/<int:image_id>")
@bp.get("/images/<int:image_id>/<name>")
def image(image_id: int, name: str | None = None):
    """An article's image, to whoever may read an article that shows it."""
    found = db.session.get(KbImage, image_id)
    if found is None:
        abort(404)
    from ..core.permissions import is_staff

    if not is_staff(current_user):
        marker = f"/help/images/{image_id}"
        shown = db.session.scalar(
            sa.select(Article.id)
            .where(
                Article.status == "published",
                Article.visibility.in_(list(_visibility())),
                sa.or_(
                    Article.body_html.contains(marker + '"'),
                    Article.body_html.contains(marker + "/"),
                ),
            )
            .limit(1)
        )
        if shown is None:
            abort(404)
    response = send_file(
        services.image_path(found),
        mimetype=found.content_type,
        download_name=found.filename,
        as_attachment=False,
        max_age=3600,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@bp.get("/sitemap.xml")
def sitemap():
    rows = db.session.execute(
        sa.select(Article.slug, Article.language, Article.updated_at)
        .where(Article.status == "published", Article.visibility == "public")
        .order_by(Article.id)
        .limit(50_000)
    ).all()
    xml = render_template("help/sitemap.xml", rows=rows, base=request.host_url.rstrip("/"))
    response = make_response(xml)
    response.headers["Content-Type"] = "application/xml; charset=utf-8"
    return response


@bp.app_template_filter("safe_article")
def safe_article(value: str) -> Markup:
    """An article's body: sanitised when saved, and again here (defence in depth)."""
    return Markup(clean_body(value or ""))  # noqa: S704 - nh3-sanitised


@bp.app_context_processor
def help_labels() -> dict:
    return {"notice_status_labels": NOTICE_STATUS_LABELS}
