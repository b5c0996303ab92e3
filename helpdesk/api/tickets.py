"""Ticket endpoints: register (idempotent), read, change, thread (the list: ticket_list.py).

Every change goes through the tickets services; the view parses, checks a named permission, calls
the service and commits once.
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from flask import jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..accounts.services import customer_record_for
from ..core.errors import DomainError, NotAllowed, ValidationError
from ..core.permissions import is_staff
from ..core.unit import commit
from ..customers.models import Customer
from ..customers.services import resolve_customer
from ..extensions import db
from ..notifications.services import take_queued_ids
from ..tickets import queries
from ..tickets.merge import merge_tickets
from ..tickets.models import (
    PRIORITY_VALUES,
    IdempotencyKey,
    Ticket,
    TicketEvent,
)
from ..tickets.permissions import can_view_ticket
from ..tickets.services import (
    add_message,
    assign_ticket,
    change_priority,
    change_status,
    register_ticket,
    transfer_ticket,
)
from ..tickets.tags import add_tags, remove_tags, set_tags
from .auth import api_user, load_ticket, require_staff
from .blueprint import bp
from .documented import CONTENT_LOCATION, IDEMPOTENCY_KEY, LOCATION, PROTOCOL, documented, ok
from .errors import IdempotencyConflict
from .lookups import category_by_ref, department_by_ref, user_by_ref
from .parsing import as_files, canonical, json_object
from .schemas.tickets import (
    CustomerInput,
    EventList,
    MergeInput,
    MessageInput,
    MessageList,
    TicketChange,
    TicketCreated,
    TicketInput,
)
from .schemas.tickets import Message as MessageSchema
from .schemas.tickets import Ticket as TicketSchema
from .serializers import (
    event_json,
    message_json,
    ticket_json,
    visible_messages,
)
from .validation import parse_body

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY = 200
CUSTOMER_CHANNEL = "api"  # a customer's own token always registers through the API channel


# register ------------------------------------------------------------------------------------


@bp.post("/tickets")
@documented(
    "createTicket",
    "tickets",
    _l("Register a ticket"),
    description=_l(
        "The same intake as every channel: issues the protocol, routes and "
        "acknowledges by email. Staff tokens give the customer; a customer's token "
        "registers for themself. Fields such as status, assignee or protocol are "
        "ignored."
    ),
    parameters=(IDEMPOTENCY_KEY,),
    body=TicketInput,
    example={
        "kind": "complaint",
        "channel": "chat",
        "subject": "Cobrança em duplicidade",
        "description": "Fui cobrado duas vezes na fatura de março.",
        "customer": {
            "name": "Maria Silva",
            "email": "maria@example.com",
            "phone": "+5511987654321",
        },
    },
    responses={
        201: ok(
            TicketSchema,
            TicketCreated,
            description=_l("Registered (or replayed)."),
            headers=LOCATION,
        )
    },
    errors=(400, 401, 403, 409, 413, 415, 422),
)
def create_ticket():
    user = api_user()
    body = json_object()
    key = _idempotency_key()
    digest = hashlib.sha256(canonical(body).encode()).hexdigest() if key else None
    if key:
        replay = _replay(user, key, digest)
        if replay is not None:
            return replay

    if not is_staff(user):  # a customer registers for themself: `customer` is not read
        body = {name: value for name, value in body.items() if name != "customer"}
    given = parse_body(TicketInput, body)
    values = {
        "kind": given.kind or "",
        "channel": given.channel or "api",
        "subject": given.subject or "",
        "description": given.description or "",
        "remedy": given.remedy or "",
        "category_ref": given.category,
        "customer_data": given.customer,
        "files": [a.decoded() for a in given.attachments or ()],
    }
    # Two requests may race on the same new customer or the same Idempotency-Key: the unique
    # constraints decide; the loser rolls back, then replays the winner or tries once more.
    for attempt in (1, 2):
        try:
            ticket = _register(user, values, key, digest)
            break
        except IntegrityError:
            db.session.rollback()
            take_queued_ids()
            if key:
                replay = _replay(user, key, digest)
                if replay is not None:
                    return replay
            if attempt == 2:
                raise
    # built before the commit, from the flushed rows: the commit would expire them and the body
    # would reload the ticket, its customer, department and assignee (eight statements)
    response = _created(ticket, user)
    commit()
    return response


def _register(user, values: dict, key: str | None, digest: str | None) -> Ticket:
    if is_staff(user):
        customer = _resolve_customer(values["customer_data"])
        channel = values["channel"]
    else:  # a customer registers for themself: `customer` (and any owner field) is ignored
        customer = customer_record_for(user)
        if customer is None:
            raise NotAllowed(_l("Your account has no customer record yet."))
        channel = CUSTOMER_CHANNEL
    ref = values["category_ref"]
    ticket = register_ticket(
        actor=user,
        customer=customer,
        channel=channel,
        kind=values["kind"],
        subject=values["subject"],
        description=values["description"],
        category_id=category_by_ref(ref).id if ref is not None else None,
        remedy=values["remedy"],
        attachments=as_files(values["files"]),
    )
    if key:
        db.session.add(
            IdempotencyKey(user_id=user.id, key=key, request_hash=digest, ticket_id=ticket.id)
        )
    db.session.flush()
    return ticket


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise ValidationError(
            _l("The Idempotency-Key header must have 1 to %(n)s printable characters."),
            field="Idempotency-Key",
            n=MAX_IDEMPOTENCY_KEY,
        )
    return key


def _replay(user, key: str, digest: str):
    row = db.session.scalar(
        sa.select(IdempotencyKey).where(
            IdempotencyKey.user_id == user.id, IdempotencyKey.key == key
        )
    )
    if row is None:
        return None
    if row.request_hash != digest:
        raise IdempotencyConflict(field="Idempotency-Key")
    ticket = db.session.get(Ticket, row.ticket_id)
    response = _created(ticket, user)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _created(ticket: Ticket, user):
    if can_view_ticket(user, ticket):
        body = ticket_json(ticket, user, detail=True)
    else:  # moved out of the creator's scope since: only the number
        body = {"protocol": ticket.protocol}
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_ticket", protocol=ticket.protocol)
    return response


def _resolve_customer(data: CustomerInput | None) -> Customer:
    if data is None or not data.model_fields_set:
        raise ValidationError(
            _l("Give the customer: at least an email, a phone number or a document."),
            field="customer",
        )
    try:
        return resolve_customer(**data.model_dump())
    except DomainError as exc:
        exc.field = f"customer.{exc.field}" if exc.field else "customer"
        raise


# one ticket ----------------------------------------------------------------------------------


@bp.get("/tickets/<protocol>")
@documented(
    "getTicket",
    "tickets",
    _l("Read one ticket"),
    parameters=(PROTOCOL,),
    description=_l(
        "A protocol that was merged into another demand keeps answering: the body is the "
        "surviving ticket, whose URL is in the Content-Location header (the same for changes "
        "and messages sent to the merged protocol)."
    ),
    responses={200: ok(TicketSchema, headers=CONTENT_LOCATION)},
    errors=(400, 401, 404),
)
def get_ticket(protocol: str):
    user = api_user()
    ticket = queries.ticket_with_thread(load_ticket(protocol, user).id)
    return _answer(jsonify(ticket_json(ticket, user, detail=True)), protocol, ticket)


def _answer(response, asked: str, ticket: Ticket):
    """Name the surviving ticket when the protocol asked for was merged into it."""
    if ticket.protocol != asked:
        response.headers["Content-Location"] = url_for("api.get_ticket", protocol=ticket.protocol)
    return response


@bp.patch("/tickets/<protocol>")
@documented(
    "updateTicket",
    "tickets",
    _l("Change status, priority, assignee, department or tags"),
    description=_l(
        "Staff only. A transfer to another department needs a reason. `tags` replaces the "
        "ticket's tags; `add_tags` and `remove_tags` change some (one event per tag)."
    ),
    parameters=(PROTOCOL,),
    body=TicketChange,
    example={"status": "open", "priority": "high", "assignee": None},
    responses={200: ok(TicketSchema)},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def update_ticket(protocol: str):
    user = api_user()
    require_staff(user)
    ticket = load_ticket(protocol, user)
    change = parse_body(TicketChange, json_object())
    status, priority, outcome = change.status, change.priority, change.outcome
    department_ref, assignee_ref, reason = change.department, change.assignee, change.reason or ""

    # order matters: a transfer may unassign, and closing must come last
    if department_ref is not None:
        department = department_by_ref(department_ref)
        if department.id != ticket.department_id:
            transfer_ticket(ticket, user, department, reason)
    if "assignee" in change.model_fields_set:
        assignee = user_by_ref(assignee_ref, "assignee") if assignee_ref is not None else None
        assign_ticket(ticket, user, assignee)
    if priority is not None:
        change_priority(ticket, user, PRIORITY_VALUES[priority])
    if change.tags is not None:
        set_tags(ticket, user, change.tags)
    if change.add_tags:
        add_tags(ticket, user, change.add_tags)
    if change.remove_tags:
        remove_tags(ticket, user, change.remove_tags)
    if status is not None:
        change_status(ticket, user, status, outcome=outcome)
    db.session.flush()
    commit()
    return _answer(jsonify(ticket_json(ticket, user, detail=True)), protocol, ticket)


@bp.post("/tickets/<protocol>/merge")
@documented(
    "mergeTicket",
    "tickets",
    _l("Merge a duplicate into another demand"),
    description=_l(
        "Staff only. The demand in the path (the duplicate) is closed with a message naming "
        "the survivor given in `into`; the survivor gets an internal note summarising the "
        "duplicate; both histories record the merge. Only the same customer's demands, not "
        "closed ones. Afterwards the duplicate's protocol answers for the survivor (API, "
        "portal, guest links and email replies). Answers with the survivor."
    ),
    parameters=(PROTOCOL,),
    body=MergeInput,
    example={"into": "202501310000017", "reason": "Same complaint by phone and email."},
    responses={200: ok(TicketSchema)},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def merge_ticket(protocol: str):
    user = api_user()
    require_staff(user)
    source = load_ticket(protocol, user, follow=False)
    given = parse_body(MergeInput, json_object())
    if not given.into:
        raise ValidationError(_l("Give the protocol to merge into."), field="into")
    target = load_ticket(given.into, user, follow=False, field="into")
    survivor = merge_tickets(source, target, user, db.session, reason=given.reason or "")
    body = ticket_json(survivor, user, detail=True)
    commit()
    return jsonify(body)


# thread and history --------------------------------------------------------------------------


@bp.get("/tickets/<protocol>/messages")
@documented(
    "listMessages",
    "tickets",
    _l("Read the thread"),
    description=_l("Internal notes only for staff."),
    parameters=(PROTOCOL,),
    responses={200: ok(MessageList)},
    errors=(400, 401, 404),
)
def list_messages(protocol: str):
    user = api_user()
    ticket = queries.ticket_with_thread(load_ticket(protocol, user).id)
    items = [message_json(m, user) for m in visible_messages(ticket, user)]
    return jsonify({"items": items})


@bp.post("/tickets/<protocol>/messages")
@documented(
    "createMessage",
    "tickets",
    _l("Add a message"),
    description=_l(
        "A staff reply (emailed to the customer), an internal note (staff, "
        "internal: true) or the customer's reply. Files in `attachments` are "
        "stored with the message and listed in the answer and in the thread, with "
        "the same limits as when registering a ticket (accepted types, size, at most "
        "10); a file that breaks them refuses the whole message."
    ),
    parameters=(PROTOCOL,),
    body=MessageInput,
    example={"body": "Obrigado, aguardo retorno."},
    responses={201: ok(MessageSchema)},
    errors=(400, 401, 403, 404, 409, 415, 422),
)
def create_message(protocol: str):
    user = api_user()
    ticket = load_ticket(protocol, user)
    given = parse_body(MessageInput, json_object())
    text, internal, channel = given.body or "", bool(given.internal), given.channel or "api"
    files = [a.decoded() for a in given.attachments or ()]
    if not is_staff(user):
        if internal:
            raise NotAllowed(_l("Only staff can write internal notes."))
        channel = CUSTOMER_CHANNEL
    message = add_message(
        ticket, user, text, internal=internal, channel=channel, attachments=as_files(files)
    )
    body = message_json(message, user)  # before the commit expires the message and its files
    commit()
    return jsonify(body), 201


@bp.get("/tickets/<protocol>/events")
@documented(
    "listEvents",
    "tickets",
    _l("Read the history"),
    description=_l(
        "Internal events only for staff. The history of exactly this protocol: a merged "
        "demand's ends with its merge (action merged, new_value the survivor)."
    ),
    parameters=(PROTOCOL,),
    responses={200: ok(EventList)},
    errors=(400, 401, 404),
)
def list_events(protocol: str):
    user = api_user()
    ticket = load_ticket(protocol, user, follow=False)  # this protocol's own history
    events = db.session.scalars(
        sa.select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.id)
        .options(joinedload(TicketEvent.actor))
    )
    staff = is_staff(user)
    items = [event_json(e, user) for e in events if staff or e.is_public]
    return jsonify({"items": items})
