"""Everything the help desk holds about one customer, as plain data (the JSON export, and the
source of the history document): the record, the account, every demand with its messages, SLA
instants and verdicts, the calls and the data requests."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..channels.models import Call
from ..customers.models import Customer, CustomerEmail
from ..extensions import db
from ..sla.models import TicketSla
from ..tickets import trail
from ..tickets.models import Message, Ticket
from .models import DataRequest

FORMAT_VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def customer_by_email(email: str) -> Customer | None:
    email = (email or "").strip().lower()
    customer = db.session.scalar(
        sa.select(Customer)
        .join(CustomerEmail, CustomerEmail.customer_id == Customer.id)
        .where(sa.func.lower(CustomerEmail.email) == email)
    )
    if customer is None:
        customer = db.session.scalar(
            sa.select(Customer)
            .join(User, User.id == Customer.user_id)
            .where(sa.func.lower(User.email) == email)
        )
    return customer


def customer_tickets(customer: Customer) -> list[Ticket]:
    return list(
        db.session.scalars(
            sa.select(Ticket)
            .where(Ticket.customer_id == customer.id)
            .order_by(Ticket.created_at, Ticket.id)
            .options(selectinload(Ticket.category))
        )
    )


def export_customer(customer: Customer, *, include_internal: bool = False) -> dict:
    """The data subject's data. `include_internal`: staff notes too (the operator's CLI export)."""
    tickets = customer_tickets(customer)
    ids = [t.id for t in tickets]
    messages: dict[int, list[Message]] = {}
    slas: dict[int, list[TicketSla]] = {}
    if ids:
        query = sa.select(Message).where(Message.ticket_id.in_(ids)).order_by(Message.id)
        if not include_internal:
            query = query.where(Message.is_internal.is_(False))
        for message in db.session.scalars(query):
            messages.setdefault(message.ticket_id, []).append(message)
        for row in db.session.scalars(
            sa.select(TicketSla).where(TicketSla.ticket_id.in_(ids)).order_by(TicketSla.id)
        ):
            slas.setdefault(row.ticket_id, []).append(row)
    calls = db.session.scalars(
        sa.select(Call).where(Call.customer_id == customer.id).order_by(Call.started_at)
    )
    requests = db.session.scalars(
        sa.select(DataRequest)
        .where(DataRequest.customer_id == customer.id)
        .order_by(DataRequest.requested_at)
    )
    # each demand's last link of its event chain: a printed dossier can be checked against the
    # database later (`audit verify --ticket PROTOCOL --hash HASH`, docs/audit.md)
    if ids:
        db.session.flush()  # events of this transaction are part of the chain read below
    chain_hashes = trail.last_hashes(db.session.connection(), ids) if ids else {}
    user = customer.user
    return {
        "format": "helpdesk-customer-export",
        "version": FORMAT_VERSION,
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "document": customer.document,
            "segment": customer.segment,
            "locale": customer.locale,
            "emails": [e.email for e in customer.emails],
            "phones": [p.number for p in customer.phones],
            "created_at": _iso(customer.created_at),
            "legal_hold": customer.legal_hold,
            "anonymised_at": _iso(customer.anonymised_at),
        },
        "account": None
        if user is None
        else {
            "email": user.email,
            "name": user.name,
            "locale": user.locale,
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
        },
        "demands": [
            {
                "protocol": t.protocol,
                "kind": t.kind,
                "category": t.category.name if t.category else None,
                "channel": t.channel,
                "status": t.status,
                "subject": t.subject,
                "description": t.description,
                "remedy": t.remedy,
                "outcome": t.outcome,
                "created_at": _iso(t.created_at),
                "first_response_at": _iso(t.first_response_at),
                "resolved_at": _iso(t.resolved_at),
                "closed_at": _iso(t.closed_at),
                "customer_verdict": t.customer_verdict,
                "rating": t.rating,
                "chain_hash": chain_hashes.get(t.id),
                "deadlines": [
                    {
                        "target": row.target,
                        "started_at": _iso(row.started_at),
                        "due_at": _iso(row.due_at),
                        "met_at": _iso(row.met_at),
                        "breached_at": _iso(row.breached_at),
                    }
                    for row in slas.get(t.id, [])
                ],
                "messages": [
                    {
                        "at": _iso(m.created_at),
                        "author": m.author_kind,
                        "author_name": m.author_name,
                        "channel": m.channel,
                        "internal": m.is_internal,
                        "body": m.body,
                    }
                    for m in messages.get(t.id, [])
                ],
            }
            for t in tickets
        ],
        "calls": [
            {
                "started_at": _iso(c.started_at),
                "duration_seconds": c.duration_seconds,
                "caller_number": c.caller_number,
            }
            for c in calls
        ],
        "data_requests": [
            {
                "kind": r.kind,
                "channel": r.channel,
                "status": r.status,
                "requested_at": _iso(r.requested_at),
                "fulfilled_at": _iso(r.fulfilled_at),
            }
            for r in requests
        ],
    }
