"""Admin: tags. The list with how many demands carry each (one grouped query); create with a
colour and the curated flag; rename and recolour (the demands keep the tag and search follows the
new name); delete after a confirmation page that says how many demands lose it. The rules
(normalised names, #rrggbb colours, unique names) are `tickets/tags.py`'s."""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..core.errors import DomainError
from ..core.forms import show_domain_error
from ..core.unit import attempt
from ..tickets import tags as tag_services
from ..tickets.models import Tag
from .blueprint import bp, load_or_404
from .forms import ActionForm, TagForm

log = logging.getLogger(__name__)

SORTS = ("name", "use")


def _show_error(form: TagForm, error: DomainError) -> None:
    if getattr(error, "field", None) == "tags":  # a name the tag rules refuse
        error.field = "name"
    show_domain_error(form, error)


def _values(form: TagForm) -> dict:
    return {
        "name": form.name.data or "",
        "color": form.color.data or "",
        "curated": bool(form.curated.data),
    }


@bp.get("/tags")
def tags():
    sort = request.args.get("sort", "name")
    if sort not in SORTS:
        abort(400)
    rows = tag_services.tags_with_usage(sort)
    return render_template(
        "admin/tags.html", rows=rows, sort=sort, free_tags=tag_services.free_tags_allowed()
    )


@bp.route("/tags/new", methods=["GET", "POST"])
def tag_new():
    form = TagForm()
    if form.validate_on_submit():
        with attempt() as done:
            tag = tag_services.create_tag(current_user, **_values(form))
        if not done.error:
            flash(_("Tag “%(name)s” created.", name=tag.name), "success")
            return redirect(url_for("admin.tags"))
        _show_error(form, done.error)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/tag_form.html", form=form, tag=None, used=0), status


@bp.route("/tags/<int:tag_id>", methods=["GET", "POST"])
def tag_edit(tag_id: int):
    tag = load_or_404(Tag, tag_id)
    form = TagForm(obj=tag if request.method == "GET" else None)
    if form.validate_on_submit():
        with attempt() as done:
            tag_services.update_tag(tag, current_user, **_values(form))
        if not done.error:
            flash(_("Tag “%(name)s” saved.", name=form.name.data.strip().lower()), "success")
            return redirect(url_for("admin.tags"))
        _show_error(form, done.error)
        tag = load_or_404(Tag, tag_id)
    status = 400 if request.method == "POST" else 200
    used = tag_services.tag_usage(tag)
    return render_template("admin/tag_form.html", form=form, tag=tag, used=used), status


@bp.route("/tags/<int:tag_id>/delete", methods=["GET", "POST"])
def tag_delete(tag_id: int):
    tag = load_or_404(Tag, tag_id)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        name = tag.name
        used = tag_services.tag_usage(tag)
        tag_services.delete_tag(tag, current_user)
        flash(
            ngettext(
                "Tag “%(name)s” deleted; %(num)d demand no longer carries it.",
                "Tag “%(name)s” deleted; %(num)d demands no longer carry it.",
                used,
                name=name,
            ),
            "success",
        )
        return redirect(url_for("admin.tags"))
    return render_template(
        "admin/tag_delete.html", tag=tag, used=tag_services.tag_usage(tag), action_form=form
    )
