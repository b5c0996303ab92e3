"""Ticket operations: the one intake service for every channel, answers, notes, status changes.

Every function takes plain arguments and an actor, flushes (never commits), appends a TicketEvent
for each change and queues notifications into the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..accounts.models import Department, User
from ..accounts.services import default_department
from ..core.clock import now
from ..core.errors import (
    InvalidProtocol,
    NotAllowed,
    ProtocolNotFound,
    TicketClosed,
    ValidationError,
)
from ..core.logs import who
from ..core.text import clean_text
from ..customers.models import Customer
from ..extensions import db
from ..notifications import services as notify
from ..routing.services import route_ticket
from ..sla import clocks
from ..webhooks.services import emit_event
from . import protocol as protocols
from .attachments import store_upload
from .events import record_event
from .models import (
    CHANNELS,
    KINDS,
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    Category,
    Message,
    Ticket,
)
from .permissions import can_assign_to

log = logging.getLogger(__name__)

MAX_SUBJECT = 200
MAX_TEXT = 20000
MAX_ATTACHMENTS = 10


def get_ticket_by_protocol(raw: str, *, field: str = "protocol") -> Ticket:
    """Raise InvalidProtocol for a wrong check digit and ProtocolNotFound for an unknown one."""
    try:
        value = protocols.parse(raw)
    except InvalidProtocol as exc:
        exc.field = field
        raise
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.protocol == value))
    if ticket is None:
        raise ProtocolNotFound(field=field)
    return ticket


def _category(category_id: int | None, kind: str) -> Category | None:
    if not category_id:
        return None
    category = db.session.get(Category, category_id)
    if category is None or not category.active:
        raise ValidationError(_l("Unknown category."), field="category")
    if kind not in (category.kinds or []):
        raise ValidationError(
            _l("This category does not apply to this kind of demand."), field="category"
        )
    return category


def _attach(ticket: Ticket, files: Iterable, message: Message | None = None) -> None:
    files = list(files)
    if any(f is not None and not hasattr(f, "stream") for f in files):
        # (name, bytes) pairs once slipped through here and were dropped without a word
        raise TypeError("attachments must be FileStorage objects (see api.parsing.as_files)")
    files = [f for f in files if f is not None and getattr(f, "filename", "")]
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError(
            _l("At most %(n)s files at once."), field="attachments", n=MAX_ATTACHMENTS
        )
    for file_storage in files:
        attachment = store_upload(
            file_storage, ticket_id=ticket.id, message_id=message.id if message else None
        )
        db.session.add(attachment)


def register_ticket(
    *,
    actor: User | None,
    customer: Customer,
    channel: str,
    kind: str,
    subject: str,
    description: str = "",
    category_id: int | None = None,
    remedy: str = "",
    attachments: Iterable = (),
    route: bool = True,
    assignee: User | None = None,
    priority: int | None = None,
    notify_customer: bool = True,
    fallback_department: Department | None = None,
) -> Ticket:
    """The one intake for every channel: validate, issue the protocol, route, acknowledge.

    `fallback_department`: where the ticket goes when no routing rule matches (e.g. the department
    a mailbox feeds); the default department otherwise."""
    if kind not in KINDS:
        raise ValidationError(_l("Unknown kind of demand."), field="kind")
    if channel not in CHANNELS:
        raise ValidationError(_l("Unknown channel."), field="channel")
    if priority is not None and priority not in PRIORITIES:
        raise ValidationError(_l("Unknown priority."), field="priority")
    subject = clean_text(subject, "subject", required=True, limit=MAX_SUBJECT)
    description = clean_text(description, "description", required=False, limit=MAX_TEXT)
    remedy = clean_text(remedy, "remedy", required=False, limit=5000)
    category = _category(category_id, kind)

    at = now()
    # One flush at the end (not one per event): the ticket, its events and its routing are inserted
    # together, so no UPDATE follows the INSERT. Nothing queried below depends on these rows.
    with db.session.no_autoflush:
        ticket = _new_ticket(
            actor=actor,
            customer=customer,
            channel=channel,
            kind=kind,
            subject=subject,
            description=description,
            remedy=remedy,
            category=category,
            at=at,
            attachments=attachments,
            route=route,
            assignee=assignee,
            priority=priority,
            fallback_department=fallback_department,
        )
    db.session.flush()
    if notify_customer:
        notify.notify_acknowledgement(ticket)
    emit_event(ticket, "ticket.created")
    log.info(
        "Ticket %s registered via %s by %s: customer %s, department %s, assignee %s",
        ticket.protocol,
        channel,
        who(actor, "customer"),
        ticket.customer_id,
        ticket.department_id,
        ticket.assignee_id,
    )
    return ticket


def _new_ticket(
    *,
    actor,
    customer,
    channel,
    kind,
    subject,
    description,
    remedy,
    category,
    at,
    attachments,
    route,
    assignee,
    priority,
    fallback_department=None,
) -> Ticket:
    ticket = Ticket(
        kind=kind,
        channel=channel,
        subject=subject,
        description=description,
        remedy=remedy,
        category_id=category.id if category else None,
        status="new",
        priority=priority or 2,
        customer_id=customer.id,
        customer=customer,
        created_by_id=actor.id if actor else None,
        created_at=at,
        updated_at=at,
        tags=[],  # known empty: reading them (the API's answer) needs no query
    )
    files = [f for f in attachments if f is not None and getattr(f, "filename", "")]
    if not files:
        ticket.attachments = []  # known empty too: the API's answer lists them without a query
    default = fallback_department or default_department()
    ticket.department = default
    db.session.add(ticket)
    record_event(ticket, actor, "created", new=channel, detail=kind, public=True)
    if files:  # stored files name the ticket id
        _take_protocol(ticket, at)
        db.session.flush()
        _attach(ticket, files)
    if route:
        route_ticket(ticket, actor, default=default)
    if assignee is not None:
        ticket.assignee_id = assignee.id
        record_event(
            ticket, actor, "assigned", field="assignee", new=assignee.name, detail="registered_by"
        )
    clocks.apply_sla(ticket, actor)  # due instants, inserted with the ticket (one policy lookup)
    _take_protocol(ticket, at)
    return ticket


def _take_protocol(ticket: Ticket, at) -> None:
    """The protocol number, taken as late as possible: taking it locks the day's counter row until
    the transaction ends (PostgreSQL), so the routing and SLA reads above happen before the lock
    and concurrent registrations wait on each other for less. Still in the request's transaction:
    a rolled-back registration gives its number back (numbers stay gap-free)."""
    if ticket.protocol is None:
        ticket.protocol = protocols.next_protocol(at, current_app.config["BABEL_DEFAULT_TIMEZONE"])


def update_details(
    ticket: Ticket,
    actor: User,
    *,
    kind: str,
    subject: str,
    description: str,
    remedy: str = "",
    category_id: int | None = None,
    reroute: bool = False,
) -> Ticket:
    """Complete or correct what was registered (e.g. during a phone call)."""
    ensure_open(ticket)
    if kind not in KINDS:
        raise ValidationError(_l("Unknown kind of demand."), field="kind")
    subject = clean_text(subject, "subject", required=True, limit=MAX_SUBJECT)
    description = clean_text(description, "description", required=False, limit=MAX_TEXT)
    remedy = clean_text(remedy, "remedy", required=False, limit=5000)
    category = _category(category_id, kind)
    before = (ticket.kind, ticket.category_id, ticket.department_id)
    changes = {
        "kind": kind,
        "subject": subject,
        "description": description,
        "remedy": remedy,
        "category_id": category.id if category else None,
    }
    for field, value in changes.items():
        old = getattr(ticket, field)
        if old != value:
            setattr(ticket, field, value)
            shown_old, shown_new = (
                (old, value) if field in ("kind", "category_id") else (None, None)
            )
            record_event(ticket, actor, "updated", field=field, old=shown_old, new=shown_new)
    if category is not None:
        ticket.category = category
    db.session.flush()
    if reroute:
        route_ticket(ticket, actor)
    if (ticket.kind, ticket.category_id, ticket.department_id) != before:
        clocks.recompute_sla(ticket, actor)
    log.info("Ticket %s details updated by %s", ticket.protocol, who(actor))
    return ticket


def complete_phone_registration(
    ticket: Ticket,
    actor: User,
    *,
    kind: str,
    subject: str,
    description: str = "",
    remedy: str = "",
    category_id: int | None = None,
    resolution: str | None = None,
) -> Ticket:
    """Finish a call registered with a provisional subject: record what the caller said, then
    either resolve it on the spot (the resolution is the public answer) or route it; the
    acknowledgement with the protocol is sent now that the demand has its real subject (one email:
    resolved on the spot, it says so and carries the answer given on the phone)."""
    update_details(
        ticket,
        actor,
        kind=kind,
        subject=subject,
        description=description,
        remedy=remedy,
        category_id=category_id,
        reroute=not resolution,
    )
    if resolution:
        add_message(
            ticket,
            actor,
            resolution,
            channel="phone",
            new_status="resolved",
            notify_customer=False,
        )
    notify.notify_acknowledgement(ticket)
    log.info("Ticket %s phone registration completed by %s", ticket.protocol, who(actor))
    return ticket


def ensure_open(ticket: Ticket) -> None:
    """A closed ticket takes no more changes (TicketClosed)."""
    if ticket.status == "closed":
        raise TicketClosed()


def add_message(
    ticket: Ticket,
    actor: User | None,
    body: str,
    *,
    internal: bool = False,
    channel: str = "web",
    attachments: Iterable = (),
    new_status: str | None = None,
    author_name: str | None = None,
    keep_status: bool = False,
    notify_customer: bool = True,
) -> Message:
    """A public reply or an internal note, by staff or by the customer (actor None = customer
    without a login, e.g. a guest link or an email)."""
    ensure_open(ticket)
    body = clean_text(body, "body", required=True, limit=MAX_TEXT)
    if channel not in CHANNELS:
        raise ValidationError(_l("Unknown channel."), field="channel")
    staff = actor is not None and actor.is_staff
    if internal and not staff:
        raise NotAllowed()
    message = Message(
        ticket=ticket,
        author_id=actor.id if actor else None,
        author_kind="agent" if staff else "customer",
        author_name=(actor.name if actor else author_name or ticket.customer.name)[:200],
        is_internal=internal,
        channel=channel,
        body=body,
        created_at=now(),
    )
    db.session.add(message)
    db.session.flush()
    _attach(ticket, attachments, message)
    if internal:
        record_event(ticket, actor, "note")
    elif staff:
        record_event(ticket, actor, "answered", public=True)
        if ticket.first_response_at is None:
            ticket.first_response_at = message.created_at
        clocks.mark_first_response(ticket, actor)
        target = new_status or ("pending_customer" if ticket.status in OPEN_STATUSES else None)
        if target and target != ticket.status:
            change_status(ticket, actor, target, notify_customer=False)
        if notify_customer:
            notify.notify_answer(ticket, message)
        emit_event(ticket, "ticket.public_reply", _reply_data(message))
    else:
        record_event(ticket, actor, "customer_replied", new=channel, public=True)
        clocks.start_next_response(ticket, message.created_at)
        if keep_status:
            pass
        elif ticket.status == "resolved":
            change_status(ticket, actor, "reopened")
        elif ticket.status in ("pending_customer", "new"):
            change_status(ticket, actor, "open")
    db.session.flush()
    log.info(
        "Ticket %s: %s %s added by %s",
        ticket.protocol,
        "note" if internal else "message",
        message.id,
        who(actor, "customer"),
    )
    return message


def _reply_data(message: Message) -> dict:
    """What a connector needs to relay an agent's answer to the chat."""
    return {
        "message": {
            "id": message.id,
            "body": message.body,
            "author_name": message.author_name,
            "channel": message.channel,
            "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
        }
    }


ALLOWED_TRANSITIONS = {
    "new": {"open", "pending_customer", "resolved", "closed", "reopened"},
    "open": {"pending_customer", "resolved", "closed", "reopened"},
    "pending_customer": {"open", "resolved", "closed", "reopened"},
    "reopened": {"open", "pending_customer", "resolved", "closed"},
    "resolved": {"reopened", "closed"},
    "closed": set(),
}


def change_status(
    ticket: Ticket,
    actor: User | None,
    status: str,
    *,
    notify_customer: bool = True,
    outcome: str | None = None,
) -> None:
    if status not in STATUSES:
        raise ValidationError(_l("Unknown status."), field="status")
    if status == ticket.status:
        return
    if status not in ALLOWED_TRANSITIONS[ticket.status]:
        if ticket.status == "closed":
            raise TicketClosed()
        raise ValidationError(_l("This status change is not possible."), field="status")
    old = ticket.status
    ticket.status = status
    at = now()
    if status == "resolved":
        ticket.resolved_at = at
        if outcome:
            ticket.outcome = clean_text(outcome, "outcome", required=False, limit=5000)
    elif status == "closed":
        ticket.closed_at = at
        ticket.resolved_at = ticket.resolved_at or at
    elif status == "reopened":
        ticket.resolved_at = None
        ticket.customer_verdict = None if old == "resolved" else ticket.customer_verdict
    record_event(ticket, actor, "status", field="status", old=old, new=status, public=True)
    emit_event(ticket, "ticket.status_changed", {"old": old, "new": status})
    log.info("Ticket %s status %s -> %s by %s", ticket.protocol, old, status, who(actor))
    if status in ("resolved", "closed", "reopened"):
        clocks.mark_resolved(ticket, actor)
    clocks.sync_pause(ticket, actor)
    if status == "resolved" and notify_customer:
        notify.notify_resolved(ticket)


def change_priority(ticket: Ticket, actor: User, priority: int) -> None:
    ensure_open(ticket)
    if priority not in PRIORITIES:
        raise ValidationError(_l("Unknown priority."), field="priority")
    if priority != ticket.priority:
        record_event(
            ticket,
            actor,
            "priority",
            field="priority",
            old=PRIORITIES[ticket.priority],
            new=PRIORITIES[priority],
        )
        ticket.priority = priority
        clocks.recompute_sla(ticket, actor)
        log.info("Ticket %s priority set to %s by %s", ticket.protocol, priority, who(actor))


def assign_ticket(ticket: Ticket, actor: User, assignee: User | None) -> None:
    ensure_open(ticket)
    if assignee is not None and not can_assign_to(actor, ticket, assignee):
        raise ValidationError(
            _l("This person cannot take tickets of this department."), field="assignee"
        )
    if (assignee.id if assignee else None) == ticket.assignee_id:
        return
    old = ticket.assignee.name if ticket.assignee else None
    ticket.assignee_id = assignee.id if assignee else None
    ticket.assignee = assignee
    record_event(
        ticket,
        actor,
        "assigned",
        field="assignee",
        old=old,
        new=assignee.name if assignee else None,
    )
    log.info(
        "Ticket %s assigned to %s by %s",
        ticket.protocol,
        who(assignee) if assignee else "nobody",
        who(actor),
    )


def transfer_ticket(ticket: Ticket, actor: User, department: Department, reason: str) -> None:
    """Move to another department with a reason; the ticket waits there unassigned."""
    ensure_open(ticket)
    reason = clean_text(reason, "reason", required=True, limit=1000)
    if not department.active:
        raise ValidationError(_l("This department is not active."), field="department")
    if department.id == ticket.department_id:
        raise ValidationError(_l("The ticket is already in this department."), field="department")
    old, old_id = ticket.department.name, ticket.department_id
    ticket.department_id = department.id
    ticket.department = department
    record_event(
        ticket,
        actor,
        "transferred",
        field="department",
        old=old,
        new=department.name,
        detail=reason,
    )
    log.info(
        "Ticket %s transferred from department %s to %s by %s",
        ticket.protocol,
        old_id,
        department.id,
        who(actor),
    )
    clocks.recompute_sla(ticket, actor)
    if ticket.assignee is not None and not can_assign_to(actor, ticket, ticket.assignee):
        assign_ticket(ticket, actor, None)


def record_ticket_verdict(
    ticket: Ticket,
    actor: User | None,
    *,
    resolved: bool,
    rating: int | None = None,
    comment: str = "",
) -> None:
    """The ticket's part of the customer's word after an answer: resolved closes the loop, not
    resolved reopens. Surfaces call `escalations.verdicts.record_verdict`, which also sends a
    demand the customer says is not resolved to the ombudsman."""
    ensure_open(ticket)
    if ticket.first_response_at is None:
        raise ValidationError(_l("You can give your verdict once the demand has been answered."))
    if rating is not None and rating not in (1, 2, 3, 4, 5):
        raise ValidationError(_l("The rating goes from 1 to 5."), field="rating")
    comment = clean_text(comment, "comment", required=False, limit=2000)
    at = now()
    ticket.customer_verdict = "resolved" if resolved else "not_resolved"
    record_event(ticket, actor, "verdict", new=ticket.customer_verdict, detail=comment, public=True)
    if rating is not None:
        ticket.rating = rating
        ticket.rated_at = at
        record_event(ticket, actor, "rated", field="rating", new=rating, public=True)
    if comment:
        add_message(ticket, actor, comment, channel="web", keep_status=True)
    if resolved:
        if ticket.status != "resolved":
            change_status(ticket, actor, "resolved", notify_customer=False)
    else:
        if ticket.status in ("resolved", "pending_customer", "new", "open"):
            change_status(ticket, actor, "reopened")
    ticket.customer_verdict = "resolved" if resolved else "not_resolved"
    db.session.flush()
    log.info(
        "Ticket %s verdict %s (rating %s) by %s",
        ticket.protocol,
        ticket.customer_verdict,
        rating,
        who(actor, "customer"),
    )
