"""Admin: escalation rules (ordered list with move up/down, create, edit).

A rule watches one SLA target of the tickets matching its conditions and, at a share of the target
elapsed or some minutes after its breach, raises the ticket to its level and runs its actions
(notify, raise priority, reassign, send to the ombudsman). Levels only go up; each fires once.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..accounts.models import STAFF_ROLES, Department, User
from ..core.forms import show_domain_error
from ..core.unit import attempt
from ..escalations.models import LEVEL_LABELS, RULE_TRIGGER_LABELS, EscalationRule
from ..escalations.queries import rules_with_people
from ..escalations.services import create_rule, move_rule, update_rule
from ..extensions import db
from .blueprint import bp, load_or_404
from .policies import duration_text
from .sla_forms import TARGET_TITLES, EscalationRuleForm


@bp.get("/escalation-rules")
def escalation_rules():
    rows, people = rules_with_people()
    return render_template(
        "admin/escalation_rules.html",
        rules=rows,
        notified={
            rule.id: ", ".join(people[u] for u in rule.notify_user_ids or [] if u in people)
            for rule in rows
        },
        level_labels=LEVEL_LABELS,
        target_titles=TARGET_TITLES,
        duration_text=duration_text,
    )


def _rule_form(rule: EscalationRule | None) -> EscalationRuleForm:
    form = EscalationRuleForm()
    current = set(rule.notify_user_ids or []) if rule is not None else set()
    if rule is not None and rule.reassign_user_id:
        current.add(rule.reassign_user_id)
    staff = db.session.scalars(
        sa.select(User)
        .where(
            sa.or_(
                sa.and_(User.role.in_(STAFF_ROLES), User.active.is_(True)),
                User.id.in_(current),
            )
        )
        .order_by(User.name, User.id)
    ).all()
    departments = db.session.scalars(
        sa.select(Department)
        .where(
            sa.or_(
                Department.active.is_(True),
                Department.id.in_(
                    {rule.department_id, rule.reassign_department_id} - {None} if rule else set()
                ),
            )
        )
        .order_by(Department.name)
    ).all()
    form.fill_choices(
        departments=departments,
        staff=staff,
        level_labels=LEVEL_LABELS,
        trigger_labels=RULE_TRIGGER_LABELS,
    )
    if request.method == "GET":
        if rule is not None:
            form.load(rule)
        else:
            form.trigger.data, form.percent.data, form.level.data = "elapsed", 75, "1"
            form.target.data = "resolution"
    return form


def _rule_page(rule: EscalationRule | None):
    form = _rule_form(rule)
    if form.validate_on_submit():
        with attempt() as done:
            if rule is None:
                rule = create_rule(**form.service_data(), position=_bottom_position())
            else:
                update_rule(rule, **form.service_data())
        if done.error:
            show_domain_error(form, done.error)
            rule = load_or_404(EscalationRule, rule.id) if rule is not None and rule.id else None
        else:
            flash(_("Escalation rule “%(name)s” saved.", name=rule.name), "success")
            return redirect(url_for("admin.escalation_rules"))
    return render_template("admin/escalation_rules_form.html", form=form, rule=rule)


def _bottom_position() -> int:
    highest = db.session.scalar(sa.select(sa.func.max(EscalationRule.position)))
    return (highest if highest is not None else 0) + 10


@bp.route("/escalation-rules/new", methods=["GET", "POST"])
def escalation_rule_new():
    return _rule_page(None)


@bp.route("/escalation-rules/<int:rule_id>", methods=["GET", "POST"])
def escalation_rule_edit(rule_id: int):
    return _rule_page(load_or_404(EscalationRule, rule_id))


@bp.post("/escalation-rules/<int:rule_id>/move")
def escalation_rule_move(rule_id: int):
    rule = load_or_404(EscalationRule, rule_id)
    direction = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if direction is None:
        abort(400)
    move_rule(rule, direction)
    flash(_("Escalation rule “%(name)s” moved.", name=rule.name), "success")
    return redirect(url_for("admin.escalation_rules"))
