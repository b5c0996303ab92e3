"""Admin: SLA policies (ordered list with move up/down, create, edit).

The first active policy from the top whose conditions all match a new ticket gives it its targets
(first response, next response, resolution), each counted on a business calendar or in calendar
time. New policies start at the top (they are usually narrower than the catch-all default).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ..accounts.models import Department
from ..core.formatting import duration
from ..core.forms import show_domain_error
from ..core.i18n import localized_name
from ..core.unit import attempt
from ..customers.models import LIFECYCLE_LABELS, RELATIONSHIP_LABELS, VALUE_TIER_LABELS
from ..extensions import db
from ..sla.models import BusinessCalendar, SlaPolicy
from ..sla.policies import PAUSABLE_STATUSES, create_policy, move_policy, update_policy
from ..tickets.models import STATUS_LABELS, Category
from .blueprint import bp, load_or_404
from .forms import SEGMENT_LABELS
from .sla_forms import POLICY_TARGETS, TARGET_TITLES, PolicyForm


def duration_text(minutes: int | None) -> str:
    """1440 -> "1 d", 540 -> "9 h", 90 -> "1 h 30 min" (every unit: an exact setting)."""
    if not minutes:
        return ""
    return duration(minutes, max_units=3)


def _targets(policy: SlaPolicy) -> list[tuple[str, str, str | None]]:
    """(title, duration, calendar name or None for calendar time) of each tracked target."""
    rows = []
    for target in POLICY_TARGETS:
        minutes = getattr(policy, f"{target}_minutes", None)
        if minutes:
            calendar = getattr(policy, f"{target}_calendar", None)
            rows.append(
                (TARGET_TITLES[target], duration_text(minutes), calendar.name if calendar else None)
            )
    return rows


def _calendar_loads():
    return [
        selectinload(getattr(SlaPolicy, f"{target}_calendar"))
        for target in POLICY_TARGETS
        if hasattr(SlaPolicy, f"{target}_calendar")
    ]


@bp.get("/policies")
def policies():
    rows = db.session.scalars(
        sa.select(SlaPolicy).options(*_calendar_loads()).order_by(SlaPolicy.position, SlaPolicy.id)
    ).all()
    categories = {c.id: localized_name(c) for c in db.session.scalars(sa.select(Category))}
    departments = dict(db.session.execute(sa.select(Department.id, Department.name)).all())
    return render_template(
        "admin/policies.html",
        policies=[(p, _targets(p)) for p in rows],
        categories=categories,
        departments=departments,
        segment_labels=SEGMENT_LABELS,
        relationship_labels=RELATIONSHIP_LABELS,
        lifecycle_labels=LIFECYCLE_LABELS,
        value_tier_labels=VALUE_TIER_LABELS,
    )


def _policy_form(policy: SlaPolicy | None) -> PolicyForm:
    form = PolicyForm()
    used = (
        {getattr(policy, f"{t}_calendar_id", None) for t in POLICY_TARGETS} - {None}
        if policy is not None
        else set()
    )
    calendars = db.session.scalars(
        sa.select(BusinessCalendar)
        .where(sa.or_(BusinessCalendar.active.is_(True), BusinessCalendar.id.in_(used)))
        .order_by(BusinessCalendar.name)
    ).all()
    form.fill_choices(
        categories=db.session.scalars(sa.select(Category).order_by(Category.name)).all(),
        departments=db.session.scalars(sa.select(Department).order_by(Department.name)).all(),
        calendars=calendars,
        statuses=[(s, STATUS_LABELS[s]) for s in PAUSABLE_STATUSES],
    )
    if request.method == "GET":
        if policy is not None:
            form.load(policy)
        else:
            form.pause_statuses.data = ["pending_customer"]
    return form


def _top_position() -> int:
    lowest = db.session.scalar(sa.select(sa.func.min(SlaPolicy.position)))
    return (lowest if lowest is not None else 10) - 10


def _policy_page(policy: SlaPolicy | None):
    form = _policy_form(policy)
    if form.validate_on_submit():
        with attempt() as done:
            if policy is None:
                policy = create_policy(**form.service_data(), position=_top_position())
            else:
                update_policy(policy, **form.service_data())
        if done.error:
            show_domain_error(form, done.error)
            if policy is not None and policy.id is not None:
                policy = load_or_404(SlaPolicy, policy.id)
            else:
                policy = None
        else:
            flash(_("SLA policy “%(name)s” saved.", name=policy.name), "success")
            return redirect(url_for("admin.policies"))
    return render_template(
        "admin/policies_form.html", form=form, policy=policy, targets=POLICY_TARGETS
    )


@bp.route("/policies/new", methods=["GET", "POST"])
def policy_new():
    return _policy_page(None)


@bp.route("/policies/<int:policy_id>", methods=["GET", "POST"])
def policy_edit(policy_id: int):
    return _policy_page(load_or_404(SlaPolicy, policy_id))


@bp.post("/policies/<int:policy_id>/move")
def policy_move(policy_id: int):
    policy = load_or_404(SlaPolicy, policy_id)
    direction = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if direction is None:
        abort(400)
    move_policy(policy, direction)
    flash(_("Policy “%(name)s” moved.", name=policy.name), "success")
    return redirect(url_for("admin.policies"))
