"""Records and the data subject in the console: register a history request (phone, email,
letter…), mark an email as one, fulfil it, download the document; correct the customer's data;
legal hold; anonymise on request (supervisors)."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import abort, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..compliance.history import fulfil_history, request_history
from ..compliance.models import REQUEST_KIND_LABELS, REQUEST_STATUS_LABELS, DataRequest
from ..compliance.services import (
    anonymise_on_request,
    correct_customer,
    mark_history_request,
    set_customer_hold,
    set_ticket_hold,
)
from ..core.permissions import is_supervisor
from ..core.unit import attempt
from ..customers.models import Customer
from ..extensions import db
from ..tickets.models import CHANNEL_LABELS
from ..tickets.permissions import can_work_ticket
from .blueprint import bp, load_workable_ticket
from .supervision import require_supervisor

REQUEST_CHANNELS = ("phone", "email", "letter", "in_person", "web")


class HistoryRequestForm(FlaskForm):
    channel = SelectField(
        _l("Where did the customer ask?"),
        choices=[SelectChoice(c, CHANNEL_LABELS[c]) for c in REQUEST_CHANNELS],
        default="phone",
    )


class CorrectionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    document = StringField(_l("CPF or CNPJ (optional)"), validators=[Length(max=20)])


class HoldForm(FlaskForm):
    held = BooleanField(_l("Legal hold: keep every record as it is (no anonymisation)"))


class AnonymiseForm(FlaskForm):
    confirm = BooleanField(
        _l("I confirm: the customer asked for it, and it cannot be undone."),
        validators=[DataRequired(message=_l("Please confirm first."))],
    )


def _customer(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    return customer


def _back(customer_id: int):
    return redirect(url_for("console.customer", customer_id=customer_id) + "#records")


def _flash_outcome(done, message: str) -> None:
    if done:
        flash(message, "success")
    else:
        flash(str(done.error), "error")


@bp.post("/customers/<int:customer_id>/history-requests")
def register_history_request(customer_id: int):
    customer = _customer(customer_id)
    form = HistoryRequestForm()
    if not form.validate_on_submit():
        flash(_("Please choose the channel."), "error")
        return _back(customer.id)
    with attempt() as done:
        row = request_history(customer, actor=current_user, channel=form.channel.data)
        protocol = row.ticket.protocol
    _flash_outcome(
        done, _("History request registered: protocol %(p)s.", p=protocol) if done else ""
    )
    return _back(customer.id)


@bp.post("/tickets/<protocol>/history-request")
def mark_ticket_history_request(protocol: str):
    ticket = load_workable_ticket(protocol)
    form = FlaskForm()
    if form.validate_on_submit():
        with attempt() as done:
            mark_history_request(ticket, current_user)
        _flash_outcome(done, _("This demand is now a history request (5 calendar days)."))
    return redirect(url_for("console.ticket", protocol=ticket.protocol))


@bp.post("/tickets/<protocol>/legal-hold")
def ticket_legal_hold(protocol: str):
    require_supervisor()
    ticket = load_workable_ticket(protocol)
    form = HoldForm()
    if form.validate_on_submit():
        with attempt() as done:
            set_ticket_hold(ticket, current_user, form.held.data)
        _flash_outcome(done, _("Legal hold saved."))
    return redirect(url_for("console.ticket", protocol=ticket.protocol))


@bp.post("/history-requests/<int:request_id>/fulfil")
def fulfil_history_request(request_id: int):
    row = db.session.get(DataRequest, request_id)
    if row is None or row.kind != "history":
        abort(404)
    if FlaskForm().validate_on_submit():
        with attempt() as done:
            fulfil_history(row, actor=current_user)
        _flash_outcome(done, _("History sent to the customer by email."))
    return _back(row.customer_id)


@bp.get("/history-requests/<int:request_id>.pdf")
def history_request_pdf(request_id: int):
    row = db.session.get(DataRequest, request_id)
    if row is None or row.document_pdf is None:
        abort(404)
    # every demand of the customer, other departments' too: supervisors, or whoever may work
    # the request itself (an agent of another department gets the same 404 as an unknown id)
    if not is_supervisor(current_user) and (
        row.ticket is None or not can_work_ticket(current_user, row.ticket)
    ):
        abort(404)
    return send_file(
        io.BytesIO(row.document_pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"history-{row.customer_id}-{row.id}.pdf",
    )


@bp.post("/customers/<int:customer_id>/correct")
def correct_customer_data(customer_id: int):
    customer = _customer(customer_id)
    form = CorrectionForm()
    if not form.validate_on_submit():
        flash(_("Please give the name."), "error")
        return _back(customer.id)
    with attempt() as done:
        correct_customer(
            customer, current_user, name=form.name.data, document=form.document.data or ""
        )
    _flash_outcome(done, _("Customer data corrected."))
    return _back(customer.id)


@bp.post("/customers/<int:customer_id>/legal-hold")
def customer_legal_hold(customer_id: int):
    require_supervisor()
    customer = _customer(customer_id)
    form = HoldForm()
    if form.validate_on_submit():
        with attempt() as done:
            set_customer_hold(customer, current_user, form.held.data)
        _flash_outcome(done, _("Legal hold saved."))
    return _back(customer.id)


@bp.post("/customers/<int:customer_id>/anonymise")
def anonymise_customer_now(customer_id: int):
    require_supervisor()
    customer = _customer(customer_id)
    form = AnonymiseForm()
    if not form.validate_on_submit():
        flash(_("Please confirm first."), "error")
        return _back(customer.id)
    with attempt() as done:
        row = anonymise_on_request(customer, current_user)
        refused, reason = row.status == "refused", row.note
    if done and refused:
        flash(_("Anonymisation refused: %(reason)s", reason=reason), "error")
    else:
        _flash_outcome(done, _("The customer's personal data was anonymised."))
    return _back(customer.id)


def records_context(customer: Customer) -> dict:
    """What the customer page's "Records and data" card shows."""
    requests = list(
        db.session.scalars(
            sa.select(DataRequest)
            .where(DataRequest.customer_id == customer.id)
            .order_by(DataRequest.requested_at.desc(), DataRequest.id.desc())
            .limit(20)
        )
    )
    return {
        "data_requests": requests,
        "request_kind_labels": REQUEST_KIND_LABELS,
        "request_status_labels": REQUEST_STATUS_LABELS,
        "can_supervise": is_supervisor(current_user),
        "history_form": HistoryRequestForm(formdata=None),
        "correction_form": CorrectionForm(
            formdata=None, name=customer.name, document=customer.document or ""
        ),
        "hold_form": HoldForm(formdata=None, held=customer.legal_hold),
        "anonymise_form": AnonymiseForm(formdata=None),
        "empty_form": FlaskForm(formdata=None),
    }
