"""History requests and the personal-data export of a customer: staff, or the customer's own
token for their own record."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Response, jsonify, request, url_for
from flask_babel import lazy_gettext as _l

from ..accounts.services import customer_record_for
from ..compliance.export import export_customer
from ..compliance.history import fulfil_history, request_history
from ..compliance.models import DataRequest
from ..core.errors import NotFound, ValidationError
from ..core.permissions import is_staff
from ..core.unit import commit
from ..customers.models import Customer
from ..extensions import db
from ..sla.models import TicketSla
from ..tickets.models import CHANNELS
from .auth import api_user, require_staff
from .blueprint import bp
from .documented import documented, ok, path_parameter
from .parsing import json_object
from .schemas.compliance import DataRequestList, DataRequestOut, HistoryRequestInput
from .schemas.escalations import NoBody
from .serializers import iso
from .validation import parse_body

CUSTOMER_ID = path_parameter("customer_id", schema={"type": "integer"})
REQUEST_ID = path_parameter("request_id", schema={"type": "integer"})


def _customer(customer_id: int, user) -> Customer:
    """Staff see every customer; a customer only their own record (anyone else: 404)."""
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound()
    if not is_staff(user):
        own = customer_record_for(user)
        if own is None or own.id != customer.id:
            raise NotFound()
    return customer


def _json(row: DataRequest) -> dict:
    due = None
    if row.ticket_id:
        due = db.session.scalar(
            sa.select(TicketSla.due_at).where(
                TicketSla.ticket_id == row.ticket_id, TicketSla.target == "resolution"
            )
        )
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "channel": row.channel,
        "protocol": row.ticket.protocol if row.ticket else None,
        "requested_at": iso(row.requested_at),
        "due_at": iso(due),
        "fulfilled_at": iso(row.fulfilled_at),
        "document": url_for("portal.history_pdf", request_id=row.id)
        if row.status == "fulfilled"
        else None,
    }


@bp.post("/customers/<int:customer_id>/history-requests")
@documented(
    "requestHistory",
    "customers",
    _l("Ask for a customer's history"),
    description=_l(
        "Registers a tracked demand answered within 5 calendar days with the full history (PDF, "
        "by email and in the portal). Staff for any customer; a customer for themselves."
    ),
    parameters=(CUSTOMER_ID,),
    body=HistoryRequestInput,
    body_required=False,
    example={"channel": "phone"},
    responses={201: ok(DataRequestOut)},
    errors=(400, 401, 404, 415, 422),
)
def create_history_request(customer_id: int):
    user = api_user()
    customer = _customer(customer_id, user)
    empty = not request.get_data(cache=True)  # no body at all: nothing to say but "I ask"
    given = parse_body(HistoryRequestInput, {} if empty else json_object())
    channel = given.channel or "api"
    if channel not in CHANNELS:
        raise ValidationError(_l("Unknown channel."), field="channel")
    if not is_staff(user):
        channel = "api"
    row = request_history(customer, actor=user, channel=channel)
    data = _json(row)
    commit()
    return jsonify(data), 201


@bp.get("/customers/<int:customer_id>/history-requests")
@documented(
    "listHistoryRequests",
    "customers",
    _l("A customer's history and data requests"),
    parameters=(CUSTOMER_ID,),
    responses={200: ok(DataRequestList)},
    errors=(401, 404),
)
def list_history_requests(customer_id: int):
    customer = _customer(customer_id, api_user())
    rows = db.session.scalars(
        sa.select(DataRequest)
        .where(DataRequest.customer_id == customer.id)
        .order_by(DataRequest.requested_at.desc(), DataRequest.id.desc())
    )
    return jsonify({"items": [_json(r) for r in rows]})


@bp.post("/history-requests/<int:request_id>/fulfil")
@documented(
    "fulfilHistoryRequest",
    "customers",
    _l("Fulfil a history request now"),
    description=_l("Staff only. Renders the document, resolves the demand and emails the link."),
    parameters=(REQUEST_ID,),
    body=NoBody,
    example={},
    body_required=False,
    responses={200: ok(DataRequestOut)},
    errors=(401, 403, 404),
)
def fulfil_history_request(request_id: int):
    user = api_user()
    require_staff(user)
    row = db.session.get(DataRequest, request_id)
    if row is None or row.kind != "history":
        raise NotFound()
    fulfil_history(row, actor=user)
    data = _json(row)
    commit()
    return jsonify(data)


@bp.get("/customers/<int:customer_id>/export")
@documented(
    "exportCustomer",
    "customers",
    _l("Export a customer's personal data (LGPD)"),
    description=_l(
        "Everything held about the customer, machine-readable: the record, the account, every "
        "demand with its public messages, deadlines and verdicts, calls, requests."
    ),
    parameters=(CUSTOMER_ID,),
    responses={200: ok(content={"application/json": {"schema": {"type": "object"}}})},
    errors=(401, 404),
)
def export_customer_data(customer_id: int):
    customer = _customer(customer_id, api_user())
    return Response(
        json.dumps(export_customer(customer), ensure_ascii=False),
        mimetype="application/json",
    )
