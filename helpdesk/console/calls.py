"""The call pop: what the phone system says is ringing for this agent, polled by app.js.

GET /console/calls/active returns an HTML fragment (the caller's record and open demands) for the
signed-in agent's ringing or answered calls only. From it, one click registers a new demand (the
phone registration flow, protocol issued at once, call linked) or continues an open one (the call
is attached to that demand).
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from ..channels.calls import active_calls_for, link_call, open_demands
from ..channels.models import Call
from ..core.permissions import can_take_call
from ..core.unit import attempt
from ..customers.services import create_customer, format_phone
from ..extensions import db
from ..tickets.permissions import can_work_ticket
from .blueprint import back_to_ticket, bp, load_workable_ticket
from .phone import _start


class CallRegisterForm(FlaskForm):
    name = StringField(_l("Caller's name"), validators=[Optional(), Length(max=200)])


class CallAttachForm(FlaskForm):
    protocol = StringField(_l("Protocol"), validators=[Length(min=1, max=40)])


def _load_call(call_id: int) -> Call:
    """Load-or-404, then check-or-403: only the agent the call was put through to."""
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    if not can_take_call(current_user, call):
        abort(403)
    return call


@bp.get("/calls/active")
def active_calls():
    calls = active_calls_for(current_user)
    pops = [(c, open_demands(c.customer)) for c in calls]
    workable = {t.id for _c, demands in pops for t in demands if can_work_ticket(current_user, t)}
    response = make_response(
        render_template(
            "console/_call_pop.html",
            pops=pops,
            workable=workable,
            format_phone=format_phone,
            register_form=CallRegisterForm(),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/calls/<int:call_id>/register")
def call_register(call_id: int):
    call = _load_call(call_id)
    form = CallRegisterForm()
    if not form.validate_on_submit():
        abort(400)
    with attempt() as done:
        customer = call.customer
        if customer is None:
            name = (form.name.data or "").strip()
            if not name:
                flash(_("Give the caller's name to register the demand."), "error")
                return redirect(url_for("console.queue"))
            customer = create_customer(name=name, phone=call.caller_e164)
            call.customer = customer
        ticket = _start(customer)
        link_call(call, ticket, current_user)
    if done.error:
        flash(str(done.error), "error")
        return redirect(url_for("console.queue"))
    return back_to_ticket(ticket, endpoint="console.phone_call")


@bp.post("/calls/<int:call_id>/attach")
def call_attach(call_id: int):
    call = _load_call(call_id)
    form = CallAttachForm()
    if not form.validate_on_submit():
        abort(400)
    ticket = load_workable_ticket(form.protocol.data.strip())
    with attempt() as done:
        link_call(call, ticket, current_user)
    if done.error:
        flash(str(done.error), "error")
        return redirect(url_for("console.queue"))
    flash(_("The call was added to demand %(protocol)s.", protocol=ticket.protocol), "success")
    return back_to_ticket(ticket)
