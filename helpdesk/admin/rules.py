"""Admin: routing rules (ordered list, create, edit, move) and the routing preview.

The preview never writes: the rule being edited is evaluated as a transient object that is
never added to the session, ahead of the saved active rules.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ..accounts.models import STAFF_ROLES, Department, User
from ..core.errors import DomainError
from ..core.forms import show_domain_error
from ..core.unit import attempt, refuse
from ..extensions import db
from ..routing.models import RoutingRule
from ..routing.services import (
    active_rules,
    create_rule,
    draft_rule,
    move_rule,
    preview_routing,
    update_rule,
)
from ..tickets.models import Category
from .blueprint import bp, load_or_404
from .forms import SEGMENT_LABELS, RuleForm, SampleForm


def _categories() -> list[Category]:
    return list(db.session.scalars(sa.select(Category).order_by(Category.position, Category.name)))


def _sample_form(formdata=None, **kwargs) -> SampleForm:
    form = SampleForm(formdata=formdata, **kwargs)
    form.fill_choices(_categories())
    if not form.kind.data:
        form.kind.data = "complaint"
    if not form.channel.data:
        form.channel.data = "web"
    return form


def _preview(sample_form: SampleForm, rules=None) -> tuple[dict | None, str | None]:
    """The preview outcome, or an error message (e.g. no department exists yet)."""
    try:
        return preview_routing(sample_form.sample(), rules=rules), None
    except DomainError as exc:
        return None, str(exc)


@bp.get("/rules")
def rules():
    rows = db.session.scalars(
        sa.select(RoutingRule)
        .options(
            selectinload(RoutingRule.category),
            selectinload(RoutingRule.department),
            selectinload(RoutingRule.agent),
        )
        .order_by(RoutingRule.position, RoutingRule.id)
    ).all()
    asked = "preview" in request.args
    sample = _sample_form(request.args if asked else None)
    result = error = None
    if asked and sample.validate():
        result, error = _preview(sample)
    return render_template(
        "admin/rules.html",
        rules=rows,
        sample=sample,
        result=result,
        preview_error=error,
        segment_labels=SEGMENT_LABELS,
    )


def _rule_form(rule: RoutingRule | None) -> RuleForm:
    form = RuleForm()
    form.fill_choices(_categories())
    departments = list(db.session.scalars(sa.select(Department).order_by(Department.name)))
    staff = list(
        db.session.scalars(
            sa.select(User)
            .where(User.role.in_(STAFF_ROLES), User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )
    if rule is not None and rule.agent is not None and rule.agent not in staff:
        staff.append(rule.agent)
    form.fill_outcomes(departments, staff)
    if request.method == "GET" and rule is not None:
        form.load(rule)
    return form


def _rule_page(rule: RoutingRule | None):
    form = _rule_form(rule)
    is_post = request.method == "POST"
    previewing = is_post and request.form.get("action") == "preview"
    sample = _sample_form(request.form if previewing else None, prefix="sample")
    result = error = draft = None
    if previewing:
        rule_ok = form.validate()
        sample_ok = sample.validate()
        if rule_ok and sample_ok:
            refuse()  # a preview never saves anything, whatever the outcome
            with attempt() as done:
                draft = draft_rule(**form.service_data())
            if done.error:
                show_domain_error(form, done.error)
            else:
                saved = [r for r in active_rules() if rule is None or r.id != rule.id]
                result, error = _preview(sample, rules=[draft, *saved])
    elif is_post and form.validate():
        with attempt() as done:
            if rule is None:
                rule = create_rule(**form.service_data())
            else:
                update_rule(rule, **form.service_data())
        if done.error:
            show_domain_error(form, done.error)
        else:
            flash(_("Routing rule “%(name)s” saved.", name=rule.name), "success")
            return redirect(url_for("admin.rules"))
    return render_template(
        "admin/rule_form.html",
        form=form,
        rule=rule,
        sample=sample,
        result=result,
        draft=draft,
        preview_error=error,
    )


@bp.route("/rules/new", methods=["GET", "POST"])
def rule_new():
    return _rule_page(None)


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
def rule_edit(rule_id: int):
    return _rule_page(load_or_404(RoutingRule, rule_id))


@bp.post("/rules/<int:rule_id>/move")
def rule_move(rule_id: int):
    rule = load_or_404(RoutingRule, rule_id)
    direction = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if direction is None:
        abort(400)
    move_rule(rule, direction)
    flash(_("Rule “%(name)s” moved.", name=rule.name), "success")
    return redirect(url_for("admin.rules"))
