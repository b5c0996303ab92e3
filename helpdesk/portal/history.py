"""The customer's history (rule 4) and personal data (LGPD) in the portal: ask for the history,
follow the request and its deadline, download the document; download the personal data as JSON.
The emailed signed link downloads the PDF without signing in until it expires."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm

from ..compliance.export import export_customer
from ..compliance.history import DEADLINE_DAYS, request_for_token, request_history
from ..compliance.models import REQUEST_STATUS_LABELS, DataRequest
from ..core.unit import attempt
from ..extensions import db, limiter
from ..sla.models import TicketSla
from .views import _customer_record, _customer_user, bp


class HistoryRequestForm(FlaskForm):
    """Only the CSRF token: asking needs no other input."""


def _requests(customer) -> list[tuple[DataRequest, object]]:
    rows = list(
        db.session.scalars(
            sa.select(DataRequest)
            .where(DataRequest.customer_id == customer.id)
            .order_by(DataRequest.requested_at.desc(), DataRequest.id.desc())
        )
    )
    ticket_ids = [r.ticket_id for r in rows if r.ticket_id]
    due = {}
    if ticket_ids:
        due = dict(
            db.session.execute(
                sa.select(TicketSla.ticket_id, TicketSla.due_at).where(
                    TicketSla.ticket_id.in_(ticket_ids), TicketSla.target == "resolution"
                )
            ).all()
        )
    return [(r, due.get(r.ticket_id)) for r in rows]


@bp.route("/portal/history", methods=["GET", "POST"])
@login_required
@limiter.limit("5/hour", methods=["POST"])
def my_history():
    user = _customer_user()
    customer = _customer_record(user)
    form = HistoryRequestForm()
    if form.validate_on_submit():
        with attempt() as done:
            request_history(customer, actor=user, channel="web")
        if done:
            flash(
                _("We received your request. Your history will be ready within %(days)s days.")
                % {"days": DEADLINE_DAYS},
                "success",
            )
            return redirect(url_for("portal.my_history"))
        flash(str(done.error), "error")
    return render_template(
        "portal/history.html",
        form=form,
        requests=_requests(customer),
        status_labels=REQUEST_STATUS_LABELS,
        days=DEADLINE_DAYS,
    )


def _own_request(request_id: int) -> DataRequest:
    customer = _customer_record(_customer_user())
    row = db.session.get(DataRequest, request_id)
    if row is None or row.customer_id != customer.id or row.document_pdf is None:
        abort(404)
    return row


def _pdf(row: DataRequest):
    return send_file(
        io.BytesIO(row.document_pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"history-{row.requested_at:%Y%m%d}-{row.id}.pdf",
    )


@bp.get("/portal/history/<int:request_id>.pdf")
@login_required
def history_pdf(request_id: int):
    return _pdf(_own_request(request_id))


@bp.get("/portal/history/<int:request_id>.html")
@login_required
def history_html(request_id: int):
    row = _own_request(request_id)
    return row.document_html, 200, {"Content-Type": "text/html; charset=utf-8"}


@bp.get("/portal/history/<token>")
@limiter.limit("30/hour")
def history_link(token: str):
    """The emailed link: the signature and its age are the credential."""
    with attempt() as done:
        row = request_for_token(token)
    if not done:
        return render_template("portal/history_link.html", error=str(done.error)), 404
    return _pdf(row)


@bp.get("/portal/my-data.json")
@login_required
def my_data():
    """LGPD: everything held about the signed-in customer, machine-readable."""
    customer = _customer_record(_customer_user())
    body = json.dumps(export_customer(customer), ensure_ascii=False, indent=2)
    return send_file(
        io.BytesIO(body.encode("utf-8")),
        mimetype="application/json",
        as_attachment=True,
        download_name="my-data.json",
    )
