"""The escalation queue of supervisors and admins, one escalation's page with its decisions, and
the agent's "Escalate" action on the ticket workspace.

Supervisors see the escalations of their departments (raised there, or of tickets now there);
admins see every one; agents and customers get 403. Each action: load-or-404, check-or-403,
validate, call one service, commit, redirect; a service error is shown next to its field.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import Department, User
from ..core.errors import InvalidProtocol
from ..core.forms import show_domain_error
from ..core.unit import attempt
from ..escalations import services
from ..escalations.models import (
    DECISION_LABELS,
    DECISIONS,
    LEVELS,
    STATE_LABELS,
    TRIGGERS,
)
from ..escalations.queries import (
    TABS,
    EscalationFilter,
    escalation_page,
    load_escalation,
    tab_counts,
    ticket_escalations,
)
from ..extensions import db
from ..sla.clocks import SLA_STATE_LABELS, SLA_TARGET_LABELS, visible_slas
from ..tickets import protocol as protocols
from ..tickets.models import PRIORITY_LABELS, TicketEvent
from ..tickets.permissions import can_work_ticket
from .blueprint import arg_choice, back_to_ticket, bp, load_workable_ticket, visible_departments
from .forms import EmptyForm, opts
from .history import describe_event, event_detail
from .supervision import require_supervisor
from .supervision_forms import DecideForm, EscalateForm
from .workspace import _run

TAB_LABELS = {
    "open": _l("To acknowledge"),
    "acknowledged": STATE_LABELS["acknowledged"],
    "closed": STATE_LABELS["closed"],
}
# the ticket events the escalation page shows as its history
ESCALATION_EVENTS = (
    "escalated",
    "escalation_acknowledged",
    "escalation_decided",
    "de_escalated",
    "transferred",
    "assigned",
    "priority",
    "sla_breached",
)


# the queue ----------------------------------------------------------------------------------------


@bp.get("/escalations")
def escalations():
    require_supervisor()
    departments = visible_departments(current_user)
    tab = arg_choice("tab", TABS) or "open"
    level = arg_choice("level", {str(n) for n in LEVELS})
    department = arg_choice("department", {str(d.id) for d in departments})
    trigger = arg_choice("trigger", TRIGGERS)
    raw_protocol = request.args.get("protocol", "").strip()[:40]
    protocol_error = None
    protocol = None
    if raw_protocol:
        try:
            protocol = protocols.parse(raw_protocol)
        except InvalidProtocol as exc:
            protocol_error = str(exc)
    flt = EscalationFilter(
        tab=tab,
        level=int(level) if level else None,
        department_id=int(department) if department else None,
        trigger=trigger,
        protocol=protocol,
    )
    args = {k: v for k, v in request.args.items() if k not in ("cursor", "tab") and v}
    if protocol_error:
        page, counts = None, {t: "0" for t in TABS}
    else:
        page = escalation_page(
            current_user,
            flt,
            cursor=request.args.get("cursor") or None,
            limit=current_app.config.get("QUEUE_PAGE_SIZE", 50),
        )
        counts = tab_counts(current_user, flt)
    next_url = (
        url_for("console.escalations", tab=tab, **args, cursor=page.next_cursor)
        if page is not None and page.next_cursor
        else None
    )
    return render_template(
        "console/escalations.html",
        page=page,
        tab=tab,
        tabs=TAB_LABELS,
        counts=counts,
        args=args,
        departments=departments,
        selected={
            "level": level or "",
            "department": department or "",
            "trigger": trigger or "",
            "protocol": raw_protocol,
        },
        protocol_error=protocol_error,
        next_url=next_url,
        is_first_page=not request.args.get("cursor"),
        ticket_prefix=url_for("console.ticket", protocol="0")[:-1],
        escalation_prefix=url_for("console.escalation", escalation_id=0)[:-1],
        decision_labels=DECISION_LABELS,
    ), 400 if protocol_error else 200


# one escalation -----------------------------------------------------------------------------------


def load_supervised(escalation_id: int):
    """Load-or-404, then check-or-403."""
    require_supervisor()
    escalation = load_escalation(escalation_id)
    if escalation is None:
        abort(404)
    if not services.can_supervise(current_user, escalation):
        abort(403)
    return escalation


def _staff_choices():
    people = db.session.scalars(
        sa.select(User)
        .where(User.active.is_(True), User.role.in_(("agent", "supervisor", "admin")))
        .order_by(User.name)
        .options(selectinload(User.departments))
    ).all()
    choices = [("", _("— keep —"))]
    for person in people:
        where = ", ".join(d.name for d in person.departments) or _("every department")
        choices.append((str(person.id), f"{person.name} ({where})"))
    return choices


def _department_choices():
    departments = db.session.scalars(
        sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
    )
    return [("", _("— keep —"))] + [(str(d.id), d.name) for d in departments]


def fill_decide(form: DecideForm, ticket, choices: dict) -> DecideForm:
    form.department.choices = opts(choices["departments"])
    form.assignee.choices = opts(choices["people"])
    form.priority.choices = opts(
        [("", _("— choose —"))] + [(str(k), v) for k, v in PRIORITY_LABELS.items()]
    )
    if request.method == "GET":
        form.priority.data = str(ticket.priority)
    return form


def _decide_forms(escalation, bound: DecideForm | None = None, choices=None):
    choices = choices or {"departments": _department_choices(), "people": _staff_choices()}
    forms = {}
    for decision in DECISIONS:
        if bound is not None and bound._prefix == decision + "-":
            forms[decision] = bound
        else:
            forms[decision] = fill_decide(
                DecideForm(prefix=decision, formdata=None), escalation.ticket, choices
            )
    return forms


def _render_escalation(escalation, *, bound=None, choices=None, status: int = 200):
    ticket = escalation.ticket
    events = db.session.scalars(
        sa.select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action.in_(ESCALATION_EVENTS))
        .order_by(TicketEvent.id)
        .options(joinedload(TicketEvent.actor))
    ).all()
    return render_template(
        "console/escalation.html",
        escalation=escalation,
        ticket=ticket,
        can_work=can_work_ticket(current_user, ticket),
        slas=visible_slas(ticket, staff=True),
        sla_target_labels=SLA_TARGET_LABELS,
        sla_state_labels=SLA_STATE_LABELS,
        others=[e for e in ticket_escalations(ticket) if e.id != escalation.id],
        history=[(e, describe_event(e), event_detail(e)) for e in events],
        state_labels=STATE_LABELS,
        decision_labels=DECISION_LABELS,
        ack_form=EmptyForm(),
        decide_forms=(
            _decide_forms(escalation, bound, choices) if escalation.closed_at is None else {}
        ),
    ), status


@bp.get("/escalations/<int:escalation_id>")
def escalation(escalation_id: int):
    return _render_escalation(load_supervised(escalation_id))


def _back(escalation):
    return redirect(url_for("console.escalation", escalation_id=escalation.id))


@bp.post("/escalations/<int:escalation_id>/acknowledge")
def acknowledge_escalation(escalation_id: int):
    escalation = load_supervised(escalation_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with attempt() as done:
        services.acknowledge(escalation, current_user)
    if done.error:
        flash(str(done.error), "error")
        return _back(escalation)
    flash(_("Escalation acknowledged. Now decide what happens next."), "success")
    return _back(escalation)


def _pick(form_field, allowed: dict, message: str):
    """The chosen row of a database-filled select, or None; an unknown value is a field error."""
    value = form_field.data or ""
    if not value:
        return None
    if value not in allowed:
        form_field.errors = [*form_field.errors, message]
        return None
    return allowed[value]


@bp.post("/escalations/<int:escalation_id>/decide/<decision>")
def decide_escalation(escalation_id: int, decision: str):
    escalation = load_supervised(escalation_id)
    if decision not in DECISIONS:
        abort(404)
    choices = {"departments": _department_choices(), "people": _staff_choices()}
    form = fill_decide(DecideForm(prefix=decision), escalation.ticket, choices)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _render_escalation(escalation, bound=form, choices=choices, status=400)
    department = assignee = priority = None
    if decision == "reassign":
        ids = {v for v, _label in choices["departments"] if v}
        dept_id = _pick(form.department, {v: v for v in ids}, _("Please choose a department."))
        department = db.session.get(Department, int(dept_id)) if dept_id else None
        person_ids = {v for v, _label in choices["people"] if v}
        person_id = _pick(form.assignee, {v: v for v in person_ids}, _("Please choose a person."))
        assignee = db.session.get(User, int(person_id)) if person_id else None
    elif decision == "change_priority":
        value = _pick(
            form.priority,
            {str(k): k for k in PRIORITY_LABELS},
            _("Please choose a priority."),
        )
        priority = value
    if form.errors:
        return _render_escalation(escalation, bound=form, choices=choices, status=400)
    with attempt() as done:
        services.decide(
            escalation,
            current_user,
            decision=decision,
            note=form.note.data or "",
            department=department,
            assignee=assignee,
            priority=priority,
        )
    if done.error:
        show_domain_error(form, done.error)
        escalation = load_supervised(escalation_id)
        return _render_escalation(escalation, bound=form, choices=choices, status=done.error.status)
    flash(
        _("Decision recorded: %(decision)s.", decision=DECISION_LABELS[decision]),
        "success",
    )
    if services.can_supervise(current_user, escalation):
        return _back(escalation)
    return back_to_ticket(escalation.ticket)  # reassigned out of the supervisor's departments


# the agent's "Escalate" on the ticket workspace ---------------------------------------------------


@bp.post("/tickets/<protocol>/escalate")
def escalate(protocol: str):
    ticket = load_workable_ticket(protocol)
    form = EscalateForm()

    def act():
        services.escalate_by_agent(
            ticket,
            current_user,
            reason=form.reason.data,
            note=form.note.data,
            level=form.level_value,
        )

    return _run(ticket, form, act, _("Escalated. The supervisors were told."), "escalations")
