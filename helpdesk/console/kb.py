"""The console's knowledge base: authors list, write and translate articles and send them to
review; reviewers (supervisors, admins) publish and archive; every change is listed as a
revision. Agents search articles from the ticket workspace and insert a link or the text into a
reply, or turn a reply into a draft article. Supervisors read the deflection report and publish
an investigation's known-problem notice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..core.clock import now
from ..core.errors import DomainError
from ..core.forms import show_domain_error
from ..core.permissions import is_supervisor
from ..core.unit import attempt
from ..extensions import db
from ..investigations.permissions import can_manage as can_manage_investigations
from ..kb import permissions, problems, queries, services
from ..kb.models import (
    LANGUAGE_LABELS,
    LANGUAGES,
    NOTICE_STATUS_LABELS,
    STATUS_LABELS,
    STATUSES,
    VISIBILITIES,
    VISIBILITY_LABELS,
    Article,
)
from ..kb.search import search_articles
from ..search.service import MAX_QUERY
from ..tickets.models import Category, Message
from .blueprint import arg_choice, arg_int_choice, bp, load_workable_ticket
from .investigations import load_investigation
from .kb_forms import (
    FIELD_LABELS,
    ArticleForm,
    ArticleStatusForm,
    ConfirmForm,
    ImageForm,
    KnownProblemForm,
)

log = logging.getLogger(__name__)

PICKER_LIMIT = 8
REPORT_DAYS = (7, 30, 90, 365)


@bp.app_context_processor
def kb_helpers() -> dict:
    return {
        "kb_status_labels": STATUS_LABELS,
        "kb_visibility_labels": VISIBILITY_LABELS,
        "kb_language_labels": LANGUAGE_LABELS,
        "known_problem_of": problems.notice_of,
        "kb_notice_status_labels": NOTICE_STATUS_LABELS,
    }


def _categories() -> list[Category]:
    return list(
        db.session.scalars(
            db.select(Category)
            .where(Category.active.is_(True))
            .order_by(Category.position, Category.name)
        )
    )


def _load(article_id: int) -> Article:
    found = db.session.get(Article, article_id)
    if found is None:
        abort(404)
    return found


def _fill_choices(form: ArticleForm) -> None:
    locale = str(get_locale())
    form.category.choices = [("", "—")] + [(c.id, c.label(locale)) for c in _categories()]
    if permissions.can_review(current_user):
        form.status.choices = [(s, STATUS_LABELS[s]) for s in ("draft", "review", "published")]


@bp.get("/kb")
def kb_list():
    flt = queries.ConsoleFilter(
        q=(request.args.get("q") or "")[:MAX_QUERY].strip(),
        status=arg_choice("status", STATUSES),
        language=arg_choice("language", LANGUAGES),
        visibility=arg_choice("visibility", VISIBILITIES),
        category_id=arg_int_choice("category", {c.id for c in _categories()}),
    )
    return render_template(
        "console/kb/list.html",
        articles=queries.console_list(flt),
        flt=flt,
        categories=_categories(),
        can_review=permissions.can_review(current_user),
    )


@bp.route("/kb/new", methods=["GET", "POST"])
def kb_new():
    permissions.require(permissions.can_author(current_user))
    source = None
    raw_source = request.args.get("translation_of", "")
    if raw_source:
        if not raw_source.isascii() or not raw_source.isdigit() or len(raw_source) > 9:
            abort(400)
        source = _load(int(raw_source))
    form = ArticleForm()
    _fill_choices(form)
    if request.method == "GET" and source is not None:
        free = [
            lang for lang in LANGUAGES if lang not in {a.language for a in source.topic.articles}
        ]
        form.language.data = arg_choice("language", free) or (free[0] if free else source.language)
        form.category.data = source.category_id
        form.tags.data = source.tags
        form.visibility.data = source.visibility
    status = 200
    if form.validate_on_submit():
        with attempt() as done:
            created = services.create_article(
                current_user,
                language=form.language.data,
                title=form.title.data,
                body=form.body.data,
                summary=form.summary.data or "",
                category_id=form.category.data,
                tags=form.tags.data or "",
                visibility=form.visibility.data,
                status=form.status.data,
                translation_of=source,
            )
            article_id = created.id
        if not done.error:
            flash(_("Article saved."), "success")
            return redirect(url_for("console.kb_edit", article_id=article_id))
        show_domain_error(form, done.error)
        status = done.error.status
    elif request.method == "POST":
        status = 400
    return render_template(
        "console/kb/edit.html", form=form, article=None, source=source, image_form=ImageForm()
    ), status


@bp.route("/kb/<int:article_id>", methods=["GET", "POST"])
def kb_edit(article_id: int):
    article = _load(article_id)
    form = ArticleForm(obj=article if request.method == "GET" else None)
    _fill_choices(form)
    if request.method == "GET":
        form.body.data = article.body_html
        form.category.data = article.category_id
    status = 200
    if request.method == "POST":
        permissions.require(permissions.can_edit(current_user, article))
        form.language.data = article.language  # a version's language never changes
        if form.validate_on_submit():
            with attempt() as done:
                services.update_article(
                    article,
                    current_user,
                    note=form.note.data or "",
                    title=form.title.data,
                    body=form.body.data,
                    summary=form.summary.data or "",
                    category_id=form.category.data,
                    tags=form.tags.data or "",
                    visibility=form.visibility.data,
                )
            if not done.error:
                flash(_("Article saved."), "success")
                return redirect(url_for("console.kb_edit", article_id=article_id))
            show_domain_error(form, done.error)
            status = done.error.status
        else:
            status = 400
    status_form = ArticleStatusForm(formdata=None)
    status_form.status.choices = _moves(article)
    return render_template(
        "console/kb/edit.html",
        form=form,
        article=article,
        source=None,
        status_form=status_form,
        image_form=ImageForm(formdata=None),
        can_edit=permissions.can_edit(current_user, article),
        revisions=queries.revisions_of(article),
        missing=[
            lang for lang in LANGUAGES if lang not in {a.language for a in article.topic.articles}
        ],
    ), status


def _moves(article: Article) -> list[tuple[str, str]]:
    if permissions.can_review(current_user):
        allowed = [s for s in STATUSES if s != article.status]
    else:
        allowed = [b for a, b in (("draft", "review"), ("review", "draft")) if a == article.status]
    return [(s, STATUS_LABELS[s]) for s in allowed]


@bp.post("/kb/<int:article_id>/status")
def kb_status(article_id: int):
    article = _load(article_id)
    form = ArticleStatusForm()
    form.status.choices = [(s, STATUS_LABELS[s]) for s in STATUSES]
    if not form.validate_on_submit():
        abort(400)
    with attempt() as done:
        services.change_status(article, current_user, form.status.data, note=form.note.data or "")
    if done.error:
        if done.error.status == 403:
            abort(403)
        flash(str(done.error), "error")
    else:
        flash(_("Now: %(status)s.", status=STATUS_LABELS[form.status.data]), "success")
    return redirect(url_for("console.kb_edit", article_id=article_id))


@bp.post("/kb/images")
def kb_image():
    permissions.require(permissions.can_author(current_user))
    form = ImageForm()
    back = request.form.get("back", "")
    target = (
        url_for("console.kb_edit", article_id=int(back))
        if back.isdigit() and len(back) < 10
        else url_for("console.kb_new")
    )
    if not form.validate_on_submit() or not form.image.data:
        flash(_("Choose an image."), "error")
        return redirect(target)
    with attempt() as done:
        image = services.store_image(form.image.data, current_user)
        tag = f'<img src="/help/images/{image.id}" alt="{image.filename}">'
    if done.error:
        flash(str(done.error), "error")
    else:
        flash(
            _("Image stored. Paste this where it goes in the article: %(tag)s", tag=tag), "success"
        )
    return redirect(target)


# the ticket workspace -------------------------------------------------------------------------


@bp.get("/kb/picker")
def kb_picker():
    """Articles for the reply box (JSON): published ones, internal included (agents read them
    to answer); the link is the help centre's, the text the article's plain text."""
    q = (request.args.get("q") or "")[:MAX_QUERY]
    language = arg_choice("language", LANGUAGES)
    hits = (
        search_articles(q, language, permissions.visibility_for(current_user), PICKER_LIMIT)
        if q.strip()
        else []
    )
    if not hits and language and q.strip():
        hits = search_articles(q, None, permissions.visibility_for(current_user), PICKER_LIMIT)
    base = request.host_url.rstrip("/")
    return jsonify(
        {
            "items": [
                {
                    "id": h.article.id,
                    "title": h.article.title,
                    "language": h.article.language,
                    "visibility": h.article.visibility,
                    "internal": h.article.visibility == "internal",
                    "snippet": str(h.snippet),
                    "url": base + url_for("help.article", slug=h.article.slug),
                    "text": h.article.body_text,
                }
                for h in hits
            ]
        }
    )


@bp.post("/tickets/<protocol>/messages/<int:message_id>/kb-draft")
def kb_draft_from_reply(protocol: str, message_id: int):
    ticket = load_workable_ticket(protocol)
    message = db.session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        abort(404)
    if message.author_kind != "agent" or message.is_internal:
        abort(400)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with attempt() as done:
        article_id = services.draft_from_message(message, current_user).id
    if done.error:
        flash(str(done.error), "error")
        return redirect(url_for("console.ticket", protocol=protocol, _anchor=f"msg-{message_id}"))
    flash(_("Draft article made from this answer: check it and send it to review."), "success")
    return redirect(url_for("console.kb_edit", article_id=article_id))


# supervision ----------------------------------------------------------------------------------


@bp.get("/kb/deflection")
def kb_deflection():
    if not is_supervisor(current_user):
        abort(403)
    days = arg_int_choice("days", REPORT_DAYS, default=30)
    until = now()
    report = queries.deflection_report(until - timedelta(days=days), until)
    return render_template(
        "console/kb/deflection.html", report=report, days=days, choices=REPORT_DAYS
    )


@bp.route("/investigations/<number>/known-problem", methods=["GET", "POST"])
def kb_known_problem(number: str):
    inv = load_investigation(number)
    if not can_manage_investigations(current_user):
        abort(403)
    notice = problems.notice_of(inv)
    form = KnownProblemForm()
    if request.method == "GET" and notice is not None:
        form.expected_fix_on.data = notice.expected_fix_on
        for lang in LANGUAGES:
            for name in FIELD_LABELS:
                getattr(form, f"{lang}_{name}").data = (notice.texts.get(lang) or {}).get(name, "")
    status = 200
    if form.validate_on_submit():
        texts = {
            lang: {name: getattr(form, f"{lang}_{name}").data or "" for name in FIELD_LABELS}
            for lang in LANGUAGES
        }
        with attempt() as done:
            problems.publish_notice(
                inv, current_user, texts=texts, expected_fix_on=form.expected_fix_on.data
            )
        if not done.error:
            flash(_("Published in the help centre."), "success")
            return redirect(url_for("console.kb_known_problem", number=inv.number))
        if (
            isinstance(done.error, DomainError)
            and done.error.field
            and hasattr(form, done.error.field)
        ):
            getattr(form, done.error.field).errors = [str(done.error)]
        else:
            flash(str(done.error), "error")
        status = done.error.status
    elif request.method == "POST":
        status = 400
    return render_template(
        "console/kb/known_problem.html",
        inv=inv,
        notice=notice,
        form=form,
        confirm_form=ConfirmForm(formdata=None),
        field_labels=FIELD_LABELS,
        languages=LANGUAGES,
        language_labels=LANGUAGE_LABELS,
        notice_status_labels=NOTICE_STATUS_LABELS,
    ), status


@bp.post("/investigations/<number>/known-problem/<verb>")
def kb_known_problem_state(number: str, verb: str):
    inv = load_investigation(number)
    if not can_manage_investigations(current_user):
        abort(403)
    if verb not in ("solve", "withdraw"):
        abort(404)
    notice = problems.notice_of(inv)
    if notice is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    told = {}
    with attempt() as done:
        if verb == "solve":
            told["n"] = problems.solve_notice(notice, current_user)
        else:
            problems.withdraw_notice(notice, current_user)
    if done.error:
        flash(str(done.error), "error")
    elif verb == "solve":
        flash(_("Marked solved; %(n)s follower(s) told by email.", n=told["n"]), "success")
    else:
        flash(_("Withdrawn from the help centre."), "success")
    return redirect(url_for("console.kb_known_problem", number=inv.number))
