"""Phone registration: find (or create) the caller, issue the protocol at once, then complete it.

Step 1 GET /console/phone: search the caller by phone, email or document; or a new-caller form.
Step 2 POST /console/phone/start: register a placeholder demand assigned to the agent and commit,
so the protocol exists before the conversation goes on; GET /console/phone/<protocol> shows it
huge with the details form, whose POST completes (and routes, or resolves) the demand.
"""

from __future__ import annotations

from collections import defaultdict

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.errors import DomainError
from ..core.forms import show_domain_error
from ..core.unit import attempt
from ..customers.models import Customer
from ..customers.services import create_customer, find_customers, format_phone
from ..extensions import db
from ..search.service import find_callers
from ..tickets import services
from ..tickets.models import STATUSES
from ..tickets.permissions import can_work_ticket, staff_can_view
from ..tickets.queries import TicketFilter, ticket_page
from .blueprint import bp, load_workable_ticket
from .forms import CallerSearchForm, NewCallerForm, PhoneDetailsForm, StartCallForm
from .workspace import fill_details


def _start(customer: Customer):
    return services.register_ticket(
        actor=current_user,
        customer=customer,
        channel="phone",
        kind="request",
        subject=_("Phone call in progress"),
        route=False,
        assignee=current_user,
        notify_customer=False,  # acknowledged when the call's details are saved
    )


def _caller_scope() -> TicketFilter:
    """Where a name or a word is looked for: every demand (any status) the agent may open."""
    flt = TicketFilter(statuses=STATUSES)
    scope = staff_can_view(current_user)
    if scope is not None:
        flt.extra.append(scope)
    return flt


def _render_search(search: CallerSearchForm, new_form: NewCallerForm, status: int = 200):
    matches, open_demands, searched = [], defaultdict(list), False
    if search.q.data and search.validate():
        searched = True
        try:
            if search.by.data == "any":
                matches = find_callers(search.q.data, _caller_scope())
            else:
                matches = find_customers(**{search.by.data: search.q.data})
        except DomainError as exc:
            search.q.errors = [*search.q.errors, str(exc)]
        if matches:
            page = ticket_page(
                TicketFilter(customer_ids=[c.id for c in matches]), sort="newest", limit=100
            )
            for t in page.items:
                open_demands[t.customer_id].append(t)
    return (
        render_template(
            "console/phone.html",
            search=search,
            new_form=new_form,
            start_form=StartCallForm(),
            matches=matches,
            open_demands=open_demands,
            searched=searched,
            format_phone=format_phone,
        ),
        status,
    )


@bp.route("/phone", methods=["GET", "POST"])
def phone():
    search = CallerSearchForm(request.args)
    new_form = NewCallerForm()
    if request.method == "POST":
        if not new_form.validate_on_submit():
            if "csrf_token" in new_form.errors:
                abort(400)
            return _render_search(search, new_form, 400)
        with attempt() as done:
            customer = create_customer(
                name=new_form.name.data,
                phone=new_form.phone.data or None,
                email=new_form.email.data or None,
                document=new_form.document.data or None,
            )
            ticket = _start(customer)
        if done.error:
            show_domain_error(new_form, done.error)
            return _render_search(search, new_form, 400)
        return redirect(url_for("console.phone_call", protocol=ticket.protocol))
    if not new_form.phone.data and search.by.data in ("any", "phone") and search.q.data:
        if search.by.data == "phone" or not any(c.isalpha() for c in search.q.data):
            new_form.phone.data = search.q.data
        else:
            new_form.name.data = new_form.name.data or search.q.data
    return _render_search(search, new_form)


@bp.post("/phone/start")
def phone_start():
    form = StartCallForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        abort(400)
    customer = db.session.get(Customer, form.customer_id.data)
    if customer is None:
        abort(404)
    with attempt() as done:
        ticket = _start(customer)
    if done.error:
        flash(str(done.error), "error")
        return redirect(url_for("console.phone"))
    return redirect(url_for("console.phone_call", protocol=ticket.protocol))


@bp.route("/phone/<protocol>", methods=["GET", "POST"])
def phone_call(protocol: str):
    if protocol == "start":  # GET on the POST-only /phone/start lands here
        abort(405, valid_methods=["POST"])
    ticket = load_workable_ticket(protocol)
    form = fill_details(PhoneDetailsForm(), ticket)
    if request.method == "GET":
        form.kind.data = ticket.kind
        if ticket.subject == _("Phone call in progress"):
            form.subject.data = ""
    elif form.validate_on_submit():
        resolved = bool(form.resolved_in_call.data)
        with attempt() as done:
            services.complete_phone_registration(
                ticket,
                current_user,
                kind=form.kind.data,
                subject=form.subject.data,
                description=form.description.data or "",
                remedy=form.remedy.data or "",
                category_id=form.category_id,
                resolution=form.resolution.data if resolved else None,
            )
        if done.error:
            show_domain_error(form, done.error)
        else:
            if not can_work_ticket(current_user, ticket):  # routed away from the agent
                flash(
                    _(
                        "Demand %(protocol)s registered and routed to %(department)s.",
                        protocol=ticket.protocol,
                        department=ticket.department.name,
                    ),
                    "success",
                )
                return redirect(url_for("console.phone"))
            flash(
                _("Demand %(protocol)s resolved during the call.", protocol=ticket.protocol)
                if resolved
                else _("Demand %(protocol)s registered and routed.", protocol=ticket.protocol),
                "success",
            )
            return redirect(url_for("console.ticket", protocol=ticket.protocol))
    elif "csrf_token" in form.errors:
        abort(400)
    status = 400 if request.method == "POST" else 200
    return render_template("console/phone_call.html", ticket=ticket, form=form), status
