"""Follow-ups after a bad survey rating: the list supervisors work ("call the customer back"),
overdue ones first and in red, and marking one done."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..surveys.models import FollowUp
from ..surveys.services import close_follow_up, open_follow_ups
from ..tickets.permissions import staff_department_ids
from .blueprint import bp
from .forms import EmptyForm
from .supervision import require_supervisor


@bp.get("/follow-ups")
def follow_ups():
    require_supervisor()
    rows = open_follow_ups(staff_department_ids(current_user))
    return render_template("console/follow_ups.html", rows=rows, form=EmptyForm())


@bp.post("/follow-ups/<int:follow_up_id>/done")
def follow_up_done(follow_up_id: int):
    require_supervisor()
    follow = db.session.get(FollowUp, follow_up_id)
    scope = staff_department_ids(current_user)
    if follow is None or (scope is not None and follow.department_id not in scope):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    close_follow_up(follow, current_user)
    flash(_("Follow-up marked as done."), "success")
    return redirect(url_for("console.follow_ups"))
