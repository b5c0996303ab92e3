"""What staff do for a data subject: register a history request from an email or a call,
correct the record, set a legal hold, anonymise on request. Each leaves a `data_requests` row
(who, when, how; a refusal with its reason), never the personal data it replaced."""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l

from ..core.clock import now
from ..core.errors import ValidationError
from ..customers.models import Customer
from ..customers.services import normalize_document, update_customer
from ..extensions import db
from ..tickets.events import record_event
from ..tickets.models import Ticket
from ..tickets.services import update_details
from .anonymise import LegalHold, anonymise_customer
from .history import ensure_history_setup
from .models import DataRequest

log = logging.getLogger(__name__)


def mark_history_request(ticket: Ticket, actor) -> DataRequest:
    """An email (or any demand) that asks for the history becomes the tracked request: its
    category and 5-day deadline are set, and the request row links it."""
    existing = db.session.query(DataRequest).filter_by(ticket_id=ticket.id, kind="history").first()
    if existing is not None:
        return existing
    category = ensure_history_setup()
    update_details(
        ticket,
        actor,
        kind="request",
        subject=ticket.subject,
        description=ticket.description,
        remedy=ticket.remedy,
        category_id=category.id,
    )
    row = DataRequest(
        customer_id=ticket.customer_id,
        ticket_id=ticket.id,
        kind="history",
        channel=ticket.channel,
        status="open",
        requested_by_id=actor.id if actor is not None else None,
        requested_at=ticket.created_at,
    )
    db.session.add(row)
    db.session.flush()
    return row


def correct_customer(customer: Customer, actor, *, name: str, document: str) -> DataRequest | None:
    """The data subject's correction: name and CPF/CNPJ. Recorded by field name (not values)."""
    changed = []
    if name.strip() and name.strip() != customer.name:
        update_customer(customer, name=name)
        changed.append("name")
    document = document.strip()
    new_document = normalize_document(document) if document else None
    if new_document != customer.document:
        clash = db.session.query(Customer.id).filter(
            Customer.document == new_document, Customer.id != customer.id
        )
        if new_document and clash.first():
            raise ValidationError(_l("Another customer has this CPF or CNPJ."), field="document")
        customer.document = new_document
        changed.append("document")
    if not changed:
        return None
    row = DataRequest(
        customer_id=customer.id,
        kind="correction",
        channel="phone",
        status="fulfilled",
        requested_by_id=actor.id if actor is not None else None,
        fulfilled_at=now(),
        note=", ".join(changed),
    )
    db.session.add(row)
    db.session.flush()
    log.info("Customer %s corrected by user %s: %s", customer.id, actor.id, row.note)
    return row


def set_customer_hold(customer: Customer, actor, held: bool) -> None:
    customer.legal_hold = bool(held)
    db.session.flush()
    log.info("Customer %s legal hold %s by user %s", customer.id, held, actor.id)


def set_ticket_hold(ticket: Ticket, actor, held: bool) -> None:
    if ticket.legal_hold != bool(held):
        ticket.legal_hold = bool(held)
        record_event(ticket, actor, "legal_hold", field="legal_hold", new="on" if held else "off")
        db.session.flush()


def anonymise_on_request(customer: Customer, actor, *, channel: str = "phone") -> DataRequest:
    """Anonymise now; under a legal hold the request is recorded as refused, with the reason."""
    row = DataRequest(
        customer_id=customer.id,
        kind="anonymise",
        channel=channel,
        requested_by_id=actor.id if actor is not None else None,
    )
    try:
        anonymise_customer(customer)
    except LegalHold as exc:
        row.status, row.note = "refused", str(exc)
    else:
        row.status, row.fulfilled_at = "fulfilled", now()
    db.session.add(row)
    db.session.flush()
    return row
