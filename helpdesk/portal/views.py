"""Customer portal: the landing page, a new demand, my demands, one demand with its public thread,
replies, the verdict after an answer and attachment downloads.

A demand is shown to the customer who owns it and to a browser holding a guest link for it; to
anyone else it does not exist (404). Staff may look at the customer's view of a ticket they can
work, but act on it in the console (403 here).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..accounts.guests import open_guest_demand
from ..accounts.services import (
    customer_record_for,
    guest_grant_email,
    revoke_guest_grant,
    revoke_guest_links,
)
from ..auth.forms import GuestAccessForm
from ..auth.guest import guest_grant_for, guest_ticket_ids, remember_guest_grant
from ..core.errors import NotAllowed, ProtocolNotFound
from ..core.forms import show_domain_error
from ..core.permissions import is_staff
from ..core.unit import attempt
from ..escalations.models import OMBUDSMAN_LEVEL
from ..escalations.services import customer_can_escalate, escalate_by_customer
from ..escalations.verdicts import record_verdict
from ..extensions import db, limiter, login_manager
from ..sla.clocks import visible_slas
from ..tickets import protocol as protocols
from ..tickets import services as tickets
from ..tickets.attachments import path_of
from ..tickets.merge import final_survivor, merged_protocols
from ..tickets.models import KINDS, Attachment, Category, Ticket
from ..tickets.permissions import can_download_attachment, can_view_ticket
from ..tickets.queries import TicketFilter, ticket_page, ticket_with_thread
from .forms import (
    KIND_HINTS,
    DemandForm,
    EndGuestAccessForm,
    EscalateForm,
    GuestDemandForm,
    ReplyForm,
    VerdictForm,
)

log = logging.getLogger(__name__)

bp = Blueprint("portal", __name__)

PAGE_SIZE = 20


# helpers --------------------------------------------------------------------------------------


def _customer_user():
    """The signed-in customer; staff are sent away (403) from customer-only pages."""
    if is_staff(current_user):
        abort(403)
    return current_user._get_current_object()


def _customer_record(user):
    customer = customer_record_for(user)
    if customer is None:
        raise NotAllowed(
            _l(
                "Your account is not linked to a customer record yet. "
                "Please contact us by phone or email."
            )
        )
    return customer


def load_ticket(protocol: str, *, act: bool = False, follow: bool = False) -> Ticket:
    """Load by protocol (wrong check digit: 400, unknown: 404) and check the viewer, or 404.

    Someone not signed in (and without a guest link for it) is sent to sign in, whatever the
    number, so that the links in our emails work and nothing reveals which numbers exist.

    With act=True the viewer must be the customer or a guest: staff answer in the console.
    """
    signed_in = current_user.is_authenticated
    try:
        ticket = tickets.get_ticket_by_protocol(protocol)
    except ProtocolNotFound:
        if not signed_in:  # the same for every number: sign in first
            abort(login_manager.unauthorized())
        raise
    if not can_view_ticket(current_user, ticket, guest_ticket_ids()):
        if not signed_in:
            abort(login_manager.unauthorized())
        abort(404)
    if follow and ticket.merged_into_id is not None:
        # a merged demand carries on in its survivor (the same customer's: see tickets.merge)
        survivor = final_survivor(ticket)
        if can_view_ticket(current_user, survivor, guest_ticket_ids()):
            ticket = survivor
    if act and is_staff(current_user) and ticket.id not in guest_ticket_ids():
        abort(403)
    return ticket


def _is_owner(ticket: Ticket) -> bool:
    return (
        current_user.is_authenticated
        and current_user.role == "customer"
        and ticket.customer.user_id == current_user.id
    )


def _actor_for(ticket: Ticket):
    """The signed-in owner, or None (a guest: the message is in the customer's name)."""
    return current_user._get_current_object() if _is_owner(ticket) else None


def _active_categories() -> list[Category]:
    return list(
        db.session.scalars(
            sa.select(Category)
            .where(Category.active.is_(True))
            .order_by(Category.position, Category.name)
        )
    )


# landing --------------------------------------------------------------------------------------


@bp.get("/")
def home():
    if is_staff(current_user):
        return redirect(url_for("console.queue"))
    return render_template("portal/home.html", guest_form=GuestAccessForm(formdata=None))


# a new demand ---------------------------------------------------------------------------------


@bp.route("/portal/new", methods=["GET", "POST"])
@limiter.limit(
    "5/minute;30/hour",
    methods=["POST"],
    exempt_when=lambda: current_user.is_authenticated,
)
def new_demand():
    """Open a demand: a signed-in customer in their name; a visitor without an account says who
    they are (name and email; phone and CPF optional) and gets the protocol at once."""
    guest = not current_user.is_authenticated
    user = None if guest else _customer_user()  # staff are turned away here, before any form
    categories = _active_categories()
    kind = request.args.get("kind")
    form = (GuestDemandForm if guest else DemandForm)(kind=kind if kind in KINDS else None)
    form.set_categories(categories, str(get_locale()))
    status = 200
    if form.validate_on_submit():
        demand = dict(
            kind=form.kind.data,
            subject=form.subject.data,
            description=form.description.data,
            remedy=form.remedy.data or "",
            category_id=form.category.data,
            attachments=request.files.getlist(form.attachments.name),
        )
        with attempt() as done:
            if guest:
                ticket, grant = open_guest_demand(
                    name=form.name.data,
                    email=form.email.data,
                    phone=form.phone.data or "",
                    document=form.document.data or "",
                    locale=str(get_locale()),
                    **demand,
                )
                who = "a visitor without an account"
            else:
                ticket = tickets.register_ticket(
                    actor=user, customer=_customer_record(user), channel="web", **demand
                )
                who = f"user {user.id}"
            protocol = ticket.protocol  # read before the commit expires it
        if done.error:
            show_domain_error(form, done.error)
            status = done.error.status
        else:
            if guest:
                remember_guest_grant(grant)
            log.info("web demand %s registered by %s", protocol, who)
            return redirect(url_for("portal.registered", protocol=protocol))
    elif request.method == "POST":
        status = 400
    if guest:
        form.stamp()  # shown (again): the fill time starts now
    return render_template(
        "portal/new_demand.html",
        form=form,
        categories=categories,
        kind_hints=KIND_HINTS,
        guest=guest,
    ), status


@bp.get("/portal/demands/<protocol>/registered")
def registered(protocol: str):
    ticket = load_ticket(protocol)
    if _is_owner(ticket) or is_staff(current_user):
        email = ticket.customer.primary_email if ticket.customer else None
    else:  # a visitor: the address they gave (the record may have others, not theirs to see)
        email = guest_grant_email(guest_grant_for(ticket.id))
    return render_template(
        "portal/registered.html",
        ticket=ticket,
        email=email,
        guest=not current_user.is_authenticated,
    )


# my demands -----------------------------------------------------------------------------------


@bp.get("/portal/demands")
@login_required
def my_demands():
    if is_staff(current_user):
        return redirect(url_for("console.queue"))
    customer = customer_record_for(current_user)
    items, next_url = [], None
    if customer is not None:
        cursor = request.args.get("cursor") or None
        page = ticket_page(  # a broken cursor: the domain error's translated 400 page
            TicketFilter(statuses=(), customer_id=customer.id),
            sort="newest",
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        items = page.items
        if page.next_cursor:
            next_url = url_for("portal.my_demands", cursor=page.next_cursor)
    return render_template(
        "portal/my_demands.html",
        tickets=items,
        merged=merged_protocols(items),
        next_url=next_url,
        paged=bool(request.args),
    )


# one demand -----------------------------------------------------------------------------------


def _verdict_awaits_answer(ticket: Ticket, messages, events) -> bool:
    """The customer said "not resolved" and we have not answered since: nothing to judge yet."""
    if ticket.customer_verdict != "not_resolved":
        return False
    said = max((e.created_at for e in events if e.action == "verdict"), default=None)
    since = [m.created_at for m in messages if m.author_kind == "agent"]
    since += [e.created_at for e in events if e.action == "status" and e.new_value == "resolved"]
    answered = max(since, default=None)
    return said is not None and (answered is None or answered <= said)


def _render_demand(
    ticket: Ticket, *, reply_form=None, verdict_form=None, escalate_form=None, status: int = 200
):
    ticket = ticket_with_thread(ticket.id)
    messages = [m for m in ticket.messages if not m.is_internal]
    events = [e for e in ticket.events if e.is_public]
    files = [a for a in ticket.attachments if a.message_id is None]
    can_act = ticket.status != "closed" and (
        not is_staff(current_user) or ticket.id in guest_ticket_ids()
    )
    can_verdict = (
        can_act
        and ticket.first_response_at is not None
        and not (ticket.status == "resolved" and ticket.customer_verdict == "resolved")
        and not _verdict_awaits_answer(ticket, messages, events)
    )
    with_ombudsman = (ticket.escalation_level or 0) >= OMBUDSMAN_LEVEL
    can_escalate = can_act and not with_ombudsman and customer_can_escalate(ticket)
    # the promise made to the customer: the resolution deadline while it runs
    deadline = next(
        (row for row, state in visible_slas(ticket, staff=False) if state != "met"), None
    )
    return render_template(
        "portal/demand.html",
        ticket=ticket,
        deadline=deadline,
        with_ombudsman=with_ombudsman,
        can_escalate=can_escalate,
        escalate_form=escalate_form or EscalateForm(formdata=None),
        messages=messages,
        events=events,
        files=files,
        is_owner=_is_owner(ticket),
        can_act=can_act,
        can_verdict=can_verdict,
        reply_form=reply_form or ReplyForm(formdata=None),
        verdict_form=verdict_form or VerdictForm(formdata=None),
        guest_grant=guest_grant_for(ticket.id),
        category_label=ticket.category.label(str(get_locale())) if ticket.category else None,
    ), status


@bp.get("/portal/demands/<protocol>")
def demand(protocol: str):
    ticket = load_ticket(protocol, follow=True)
    if ticket.protocol != protocols.parse(protocol):
        flash(
            _(
                "Demand %(old)s was merged into demand %(new)s, which carries on with the "
                "same matter.",
                old=protocols.parse(protocol),
                new=ticket.protocol,
            ),
            "success",
        )
        return redirect(url_for("portal.demand", protocol=ticket.protocol))
    return _render_demand(ticket)


@bp.post("/portal/demands/<protocol>/reply")
def reply(protocol: str):
    ticket = load_ticket(protocol, act=True, follow=True)
    form = ReplyForm()
    status = 400
    if form.validate_on_submit():
        with attempt() as done:
            tickets.add_message(
                ticket,
                _actor_for(ticket),
                form.body.data,
                channel="web",
                attachments=request.files.getlist(form.attachments.name),
                author_name=ticket.customer.name,
            )
        if done.error:
            show_domain_error(form, done.error)
            status = done.error.status
        else:
            flash(_("Your message was sent. We will answer here and by email."), "success")
            return redirect(url_for("portal.demand", protocol=ticket.protocol) + "#thread")
    return _render_demand(ticket, reply_form=form, status=status)


@bp.post("/portal/demands/<protocol>/verdict")
def verdict(protocol: str):
    ticket = load_ticket(protocol, act=True, follow=True)
    form = VerdictForm()
    status = 400
    if form.validate_on_submit():
        resolved = form.resolved.data == "yes"
        with attempt() as done:
            record_verdict(
                ticket,
                _actor_for(ticket),
                resolved=resolved,
                rating=form.rating.data,
                comment=form.comment.data or "",
            )
        if done.error:
            show_domain_error(form, done.error)
            status = done.error.status
        else:
            if resolved:
                flash(_("Thank you! We are glad your demand is resolved."), "success")
            elif (ticket.escalation_level or 0) >= OMBUDSMAN_LEVEL:
                # what the page says too (the ombudsman box): one account of what happens next
                flash(
                    _(
                        "We are sorry it is not resolved. Your demand is now with the ombudsman, "
                        "who will answer you here and by email."
                    ),
                    "warning",
                )
            else:
                flash(
                    _("We reopened your demand and will look at it again as a priority."),
                    "warning",
                )
            return redirect(url_for("portal.demand", protocol=ticket.protocol))
    return _render_demand(ticket, verdict_form=form, status=status)


@bp.post("/portal/demands/<protocol>/escalate")
def escalate(protocol: str):
    """The customer sends a demand whose deadline passed to the ombudsman."""
    ticket = load_ticket(protocol, act=True, follow=True)
    form = EscalateForm()
    status = 400
    if form.validate_on_submit():
        with attempt() as done:
            escalate_by_customer(
                ticket, _actor_for(ticket), reason="deadline_passed", note=form.note.data or ""
            )
        if done.error:
            show_domain_error(form, done.error)
            status = done.error.status
        else:
            flash(
                _("Your demand is now with the ombudsman, who will answer you here and by email."),
                "success",
            )
            return redirect(url_for("portal.demand", protocol=ticket.protocol))
    return _render_demand(ticket, escalate_form=form, status=status)


@bp.post("/portal/demands/<protocol>/guest-access/end")
def end_guest_access(protocol: str):
    """A guest closes the demand on this device; the signed-in owner ends every guest access
    to it (links not opened yet and browsers that opened one)."""
    ticket = load_ticket(protocol)
    form = EndGuestAccessForm()
    if not form.validate_on_submit():
        abort(400)
    grant_id = guest_grant_for(ticket.id)
    if _is_owner(ticket):
        revoke_guest_links(ticket.id)
        flash(_("Guest links to this demand no longer open it."), "success")
        return redirect(url_for("portal.demand", protocol=ticket.protocol))
    if grant_id is None:
        abort(403)
    revoke_guest_grant(grant_id)
    flash(
        _("This demand is closed on this device. Your protocol number still finds it."), "success"
    )
    return redirect(url_for("portal.home"))


@bp.get("/portal/demands/<protocol>/attachments/<int:attachment_id>")
def attachment(protocol: str, attachment_id: int):
    ticket = load_ticket(protocol)
    att = db.session.get(Attachment, attachment_id)
    if (
        att is None
        or att.ticket_id != ticket.id
        or (att.message is not None and att.message.is_internal)
        or not can_download_attachment(current_user, att, guest_ticket_ids())
    ):
        abort(404)
    path = path_of(att)
    if not path.is_file():
        log.error("attachment %s is missing from %s", att.id, current_app.config["UPLOAD_DIR"])
        abort(404)
    response = send_file(
        path,
        as_attachment=True,
        download_name=att.filename,
        mimetype=att.content_type,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
