"""The ticket workspace: everything about one demand, and one small POST form per action.

Each action: load-or-404, check-or-403, validate its form, call one service, commit, flash,
redirect back. A DomainError rolls back and is flashed, so nothing changes.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import abort, flash, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.models import Department, User
from ..core.clock import as_utc
from ..core.text import ascii_digits
from ..core.unit import attempt
from ..customers.documents import format_document
from ..customers.services import format_phone
from ..escalations.queries import ticket_escalations
from ..extensions import db
from ..feedback.services import forward_suggestion
from ..mail.queries import email_links, refused_attachments
from ..sla.clocks import SLA_STATE_LABELS, SLA_TARGET_LABELS, visible_slas
from ..tickets import services
from ..tickets.attachments import path_of
from ..tickets.models import OPEN_STATUSES, STATUS_LABELS, Attachment, Category, Ticket
from ..tickets.permissions import can_download_attachment, staff_department_ids
from ..tickets.presence import answers_since
from ..tickets.queries import TicketFilter, ticket_page, ticket_with_thread
from ..tickets.services import ALLOWED_TRANSITIONS
from .blueprint import back_to_ticket, bp, load_workable_ticket
from .feedback import ForwardForm, feedback_panel
from .forms import (
    AssignForm,
    DetailsForm,
    NoteForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
    TransferForm,
    opts,
)
from .history import describe_event, event_detail
from .investigations import ticket_panel
from .macros import macro_picker
from .supervision_forms import EscalateForm

log = logging.getLogger(__name__)

UNASSIGN = "none"


def category_choices():
    categories = db.session.scalars(
        sa.select(Category)
        .where(Category.active.is_(True))
        .order_by(Category.position, Category.name)
    )
    from flask_babel import get_locale

    locale = str(get_locale())
    return opts([("", _("— none —"))] + [(str(c.id), c.label(locale)) for c in categories])


def fill_details(form: DetailsForm, ticket: Ticket | None = None) -> DetailsForm:
    form.category.choices = category_choices()
    if ticket is not None and request.method == "GET":
        form.kind.data = ticket.kind
        form.category.data = str(ticket.category_id) if ticket.category_id else ""
        form.subject.data = ticket.subject
        form.description.data = ticket.description
        form.remedy.data = ticket.remedy
    return form


def fill_assign(form: AssignForm, ticket: Ticket) -> AssignForm:
    members = [m for m in ticket.department.members if m.active and m.is_staff]
    choices = [
        (UNASSIGN, _("— Unassigned —")),
        (str(current_user.id), _("Me (%(name)s)", name=current_user.name)),
    ]
    choices += [(str(m.id), m.name) for m in members if m.id != current_user.id]
    form.assignee.choices = opts(choices)
    if request.method == "GET":
        form.assignee.data = str(ticket.assignee_id) if ticket.assignee_id else UNASSIGN
    return form


def fill_transfer(form: TransferForm, ticket: Ticket) -> TransferForm:
    departments = db.session.scalars(
        sa.select(Department)
        .where(Department.active.is_(True), Department.id != ticket.department_id)
        .order_by(Department.name)
    )
    form.department.choices = opts((d.id, d.name) for d in departments)
    return form


def fill_status(form: StatusForm, ticket: Ticket) -> StatusForm:
    allowed = sorted(ALLOWED_TRANSITIONS.get(ticket.status, ()), key=list(STATUS_LABELS).index)
    form.status.choices = opts((s, STATUS_LABELS[s]) for s in allowed)
    return form


def _back(ticket: Ticket, anchor: str | None = None):
    return back_to_ticket(ticket, anchor)


def _flash_form_errors(form) -> None:
    for field in form:
        for error in field.errors:
            label = field.label.text if field.type != "CSRFTokenField" else ""
            flash(_("%(field)s: %(error)s", field=label, error=error) if label else error, "error")


def _run(ticket: Ticket, form, action, success: str, anchor: str | None = None):
    """Validate, call the service, commit once, flash; on DomainError roll back and flash."""
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        _flash_form_errors(form)
        return _back(ticket, anchor)
    with attempt() as done:
        action()
    if done.error:
        flash(str(done.error), "error")
        return _back(ticket, anchor)
    flash(success, "success")
    return _back(ticket, anchor)


@bp.get("/tickets/<protocol>")
def ticket(protocol: str):
    return _render_workspace(load_workable_ticket(protocol, full=True))


def _render_workspace(ticket: Ticket, *, stale=None, reply_draft: str = "", status: int = 200):
    """The workspace page; `stale`: public messages added since the agent's page was loaded
    (their reply was held back, its text `reply_draft` is kept in the box)."""
    other = ticket_page(
        TicketFilter(
            statuses=(),
            customer_id=ticket.customer_id,
            department_ids=staff_department_ids(current_user),
            extra=[Ticket.id != ticket.id],
        ),
        sort="newest",
        limit=10,
        eager=False,
    )
    customer = ticket.customer
    return render_template(
        "console/ticket.html",
        ticket=ticket,
        thread=_thread(ticket),
        customer=customer,
        phones=[format_phone(p.number) for p in customer.phones],
        document=format_document(customer.document) if customer.document else None,
        other_demands=other.items,
        merge_candidates=[
            t for t in other.items if t.status in OPEN_STATUSES and t.merged_into_id is None
        ],
        history=[(e, describe_event(e), event_detail(e)) for e in ticket.events],
        slas=visible_slas(ticket, staff=True),
        sla_target_labels=SLA_TARGET_LABELS,
        sla_state_labels=SLA_STATE_LABELS,
        reply_form=ReplyForm(),
        note_form=NoteForm(),
        assign_form=fill_assign(AssignForm(), ticket),
        transfer_form=fill_transfer(TransferForm(), ticket),
        priority_form=PriorityForm(priority=ticket.priority),
        status_form=fill_status(StatusForm(), ticket),
        details_form=fill_details(DetailsForm(), ticket),
        escalations=ticket_escalations(ticket),
        escalate_form=EscalateForm(),
        emails=email_links(ticket.id) if _has_email(ticket) else {},
        refused=refused_attachments(ticket.id) if _has_email(ticket) else {},
        last_public_id=max((m.id for m in ticket.messages if not m.is_internal), default=0),
        stale=stale,
        reply_draft=reply_draft,
        **ticket_panel(ticket),
        **macro_picker(ticket),
        **feedback_panel(ticket),
    ), status


def _has_email(ticket) -> bool:
    return ticket.channel == "email" or any(m.channel == "email" for m in ticket.messages)


@bp.post("/tickets/<protocol>/feedback")
def ticket_forward_feedback(protocol: str):
    """Forward a suggestion to the feedback list (a wrong title or a second forward: the page
    again with the error, 422 / 409)."""
    ticket = load_workable_ticket(protocol)
    form = ForwardForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        _flash_form_errors(form)
        return _render_workspace(ticket_with_thread(ticket.id), status=422)
    with attempt() as done:
        title = forward_suggestion(ticket, current_user, form.title.data).title
    if done.error:
        flash(str(done.error), "error")
        return _render_workspace(ticket_with_thread(ticket.id), status=done.error.status)
    flash(_("Suggestion added to the feedback topic “%(title)s”.", title=title), "success")
    return _back(ticket, "feedback")


@bp.post("/tickets/<protocol>/reply")
def reply(protocol: str):
    ticket = load_workable_ticket(protocol)
    form = ReplyForm()
    newer = _answered_meanwhile(ticket, form)
    if newer:
        return _render_workspace(
            ticket_with_thread(ticket.id),
            stale=newer,
            reply_draft=form.body.data or "",
            status=409,
        )

    def act():
        services.add_message(
            ticket,
            current_user,
            form.body.data,
            channel="web",
            attachments=request.files.getlist("attachments"),
            new_status=form.status_after.data,
        )

    return _run(ticket, form, act, _("Your answer was sent to the customer."), "thread-end")


def _answered_meanwhile(ticket: Ticket, form: ReplyForm) -> list:
    """Public messages by someone else added after the newest one the agent's page showed
    (`seen_last`, sent by the reply form): the reply is held back once so the agent reads them;
    the page shown then carries the newest id, so sending again goes through."""
    raw = request.form.get("seen_last", "")
    if not form.validate_on_submit() or not ascii_digits(raw) or len(raw) > 18:
        return []
    return answers_since(ticket, int(raw), current_user)


@bp.post("/tickets/<protocol>/note")
def note(protocol: str):
    ticket = load_workable_ticket(protocol)
    form = NoteForm()

    def act():
        services.add_message(ticket, current_user, form.body.data, internal=True)

    return _run(ticket, form, act, _("Internal note added."), "thread-end")


@bp.post("/tickets/<protocol>/assign")
def assign(protocol: str):
    ticket = load_workable_ticket(protocol)
    form = fill_assign(AssignForm(), ticket)

    def act():
        value = form.assignee.data
        assignee = None if value == UNASSIGN else db.session.get(User, int(value))
        services.assign_ticket(ticket, current_user, assignee)

    return _run(ticket, form, act, _("Assignment saved."))


@bp.post("/tickets/<protocol>/transfer")
def transfer(protocol: str):
    ticket = load_workable_ticket(protocol)
    form = fill_transfer(TransferForm(), ticket)

    def act():
        department = db.session.get(Department, form.department.data)
        services.transfer_ticket(ticket, current_user, department, form.reason.data)

    return _run(ticket, form, act, _("Demand transferred."))


@bp.post("/tickets/<protocol>/priority")
def priority(protocol: str):
    ticket = load_workable_ticket(protocol)
    form = PriorityForm()

    def act():
        services.change_priority(ticket, current_user, form.priority.data)

    return _run(ticket, form, act, _("Priority changed."))


@bp.post("/tickets/<protocol>/status")
def status(protocol: str):
    ticket = load_workable_ticket(protocol)
    form = fill_status(StatusForm(), ticket)

    def act():
        services.change_status(
            ticket,
            current_user,
            form.status.data,
            outcome=(form.outcome.data or "").strip() or None,
        )

    return _run(ticket, form, act, _("Status changed."))


@bp.post("/tickets/<protocol>/details")
def details(protocol: str):
    ticket = load_workable_ticket(protocol)
    form = fill_details(DetailsForm(), ticket)

    def act():
        services.update_details(
            ticket,
            current_user,
            kind=form.kind.data,
            subject=form.subject.data,
            description=form.description.data or "",
            remedy=form.remedy.data or "",
            category_id=form.category_id,
            reroute=form.reroute.data,
        )

    return _run(ticket, form, act, _("Details saved."))


@bp.get("/tickets/<protocol>/attachments/<int:attachment_id>")
def attachment(protocol: str, attachment_id: int):
    ticket = load_workable_ticket(protocol)
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.ticket_id != ticket.id:
        abort(404)
    if not can_download_attachment(current_user, item):
        abort(403)
    path = path_of(item)
    if not path.is_file():
        log.warning("attachment %s missing on disk", item.id)
        abort(404)
    response = send_file(
        path, mimetype=item.content_type, as_attachment=True, download_name=item.filename
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _thread(ticket) -> list[tuple[str, object]]:
    """Messages and phone calls in the order they happened: ("message", m) / ("call", c)."""
    items = [(as_utc(m.created_at), 0, "message", m) for m in ticket.messages]
    items += [(as_utc(c.started_at), 1, "call", c) for c in ticket.calls]
    return [(kind, item) for _at, _order, kind, item in sorted(items, key=lambda i: i[:2])]
