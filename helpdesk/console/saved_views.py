"""Saved views in the console: save the queue's current filters and sort under a name (personal,
or shared with a department by a supervisor), open one, rename, delete, reorder.

Opening a view (GET /console/views/<id>) checks its filters again and redirects to the queue with
those that still apply, so a view whose department or category was removed opens without them
(and says so) instead of failing.
"""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.formatting import number
from ..core.text import ascii_digits
from ..core.unit import attempt
from ..tickets import saved_views as views
from .blueprint import bp, visible_departments

log = logging.getLogger(__name__)

VIEW_COUNT_CAP = 999  # "999+"


def sidebar_views(user) -> list[tuple]:
    """(view, shown count) for the sidebar: one query for the views, one for all their counts."""
    items = views.visible_views(user)
    counts = views.bounded_view_counts(user, items, cap=VIEW_COUNT_CAP)
    return [
        (
            v,
            f"{number(VIEW_COUNT_CAP)}+" if counts[v.id] > VIEW_COUNT_CAP else number(counts[v.id]),
        )
        for v in items
    ]


def _department_id() -> int | None:
    raw = request.form.get("share", "").strip()
    if not raw:
        return None
    if not ascii_digits(raw) or len(raw) > 12:
        abort(400)
    return int(raw)


@bp.post("/views")
def save_view():
    filters = {k: request.form.get(k, "") for k in views.FILTER_KEYS}
    sort = request.form.get("sort", "") or "due"
    created = None
    with attempt() as done:
        created = views.create_saved_view(
            current_user,
            request.form.get("name", ""),
            filters,
            sort,
            department_id=_department_id(),
        )
    if done.error:
        flash(str(done.error), "error")
        args = {k: v for k, v in filters.items() if v}
        return redirect(url_for("console.queue", **args, sort=sort))
    flash(_("View “%(name)s” saved.", name=created.name), "success")
    return redirect(url_for("console.open_view", view_id=created.id))


@bp.get("/views/<int:view_id>")
def open_view(view_id: int):
    view = views.get_visible_view(current_user, view_id)
    filters, dropped = views.applicable_filters(view, current_user)
    if dropped:
        flash(
            _("Some filters of this view no longer apply and were left out."),
            "error",
        )
    return redirect(url_for("console.queue", **filters, sort=view.sort, view=view.id))


@bp.get("/views")
def manage_views():
    return render_template(
        "console/saved_views.html",
        items=views.visible_views(current_user, limit=views.MAX_VIEWS * 2),
        departments=visible_departments(current_user),
    )


def _change(view_id: int, action, success: str):
    view = views.get_own_view(current_user, view_id)  # another's: 403, not visible: 404
    with attempt() as done:
        action(view)
    flash(str(done.error) if done.error else success, "error" if done.error else "success")
    return redirect(url_for("console.manage_views"))


@bp.post("/views/<int:view_id>/rename")
def rename_view(view_id: int):
    name = request.form.get("name", "")
    return _change(
        view_id, lambda v: views.rename_saved_view(v, current_user, name), _("View renamed.")
    )


@bp.post("/views/<int:view_id>/delete")
def delete_view(view_id: int):
    return _change(view_id, lambda v: views.delete_saved_view(v, current_user), _("View deleted."))


@bp.post("/views/<int:view_id>/move")
def move_view(view_id: int):
    direction = request.form.get("direction", "")
    return _change(
        view_id, lambda v: views.move_saved_view(v, current_user, direction), _("View moved.")
    )
