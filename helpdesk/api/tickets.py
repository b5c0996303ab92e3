"""Ticket endpoints: register (idempotent), list (scoped, filtered, keyset), read, change, thread.

Every change goes through the tickets services; the view parses, checks a named permission, calls
the service and commits once.
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.services import customer_record_for
from ..core.errors import DomainError, NotAllowed, ValidationError
from ..core.permissions import is_staff
from ..core.unit import commit
from ..customers.models import Customer, CustomerEmail, CustomerPhone
from ..customers.services import normalize_email, normalize_phone, resolve_customer
from ..extensions import db
from ..notifications.services import take_queued_ids
from ..tickets import queries
from ..tickets.models import (
    CHANNELS,
    PRIORITY_VALUES,
    STATUSES,
    IdempotencyKey,
    Ticket,
    TicketEvent,
)
from ..tickets.permissions import can_view_ticket, staff_department_ids
from ..tickets.services import (
    add_message,
    assign_ticket,
    change_priority,
    change_status,
    register_ticket,
    transfer_ticket,
)
from .auth import api_user, load_ticket, require_staff
from .blueprint import bp
from .errors import IdempotencyConflict, InvalidInput
from .lookups import category_by_ref, department_by_ref, user_by_ref
from .parsing import Fields, as_files, canonical, json_object, query_datetime, query_int
from .serializers import (
    event_json,
    message_json,
    ticket_json,
    visible_messages,
)

log = logging.getLogger(__name__)

MAX_PAGE = 100
DEFAULT_PAGE = 50
MAX_IDEMPOTENCY_KEY = 200
CUSTOMER_CHANNEL = "api"  # a customer's own token always registers through the API channel


# register ------------------------------------------------------------------------------------


@bp.post("/tickets")
def create_ticket():
    user = api_user()
    body = json_object()
    key = _idempotency_key()
    digest = hashlib.sha256(canonical(body).encode()).hexdigest() if key else None
    if key:
        replay = _replay(user, key, digest)
        if replay is not None:
            return replay

    f = Fields(body)
    kind = f.text("kind", "")
    subject = f.text("subject", "")
    description = f.text("description", "")
    remedy = f.text("remedy", "")
    channel = f.text("channel", "api")
    category_ref = f.ref("category")
    files = f.attachments()
    customer_data = None if not is_staff(user) else f.obj("customer")
    f.check()

    values = {
        "kind": kind,
        "channel": channel,
        "subject": subject,
        "description": description,
        "remedy": remedy,
        "category_ref": category_ref,
        "customer_data": customer_data,
        "files": files,
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


def _resolve_customer(data: dict | None) -> Customer:
    if not data:
        raise ValidationError(
            _l("Give the customer: at least an email, a phone number or a document."),
            field="customer",
        )
    f = Fields(data)
    values = {name: f.text(name) for name in ("name", "email", "phone", "document")}
    if f.errors:
        raise InvalidInput({f"customer.{k}": v for k, v in f.errors.items()})
    try:
        return resolve_customer(**values)
    except DomainError as exc:
        exc.field = f"customer.{exc.field}" if exc.field else "customer"
        raise


# list ----------------------------------------------------------------------------------------


@bp.get("/tickets")
def list_tickets():
    user = api_user()
    sort = request.args.get("sort", "newest")
    if sort not in queries.SORTS:
        raise ValidationError(
            _l("Unknown sort. Use one of: %(sorts)s."), field="sort", sorts=", ".join(queries.SORTS)
        )
    limit = query_int("limit", DEFAULT_PAGE, low=1, high=MAX_PAGE)
    flt = _scoped_filter(user)
    cursor = request.args.get("cursor") or None
    try:
        page = queries.ticket_page(flt, sort=sort, cursor=cursor, limit=limit)
    except ValidationError as exc:
        if exc.field == "cursor":
            raise ValidationError(_l("This cursor is not valid."), field="cursor") from None
        raise
    _load_contacts(page.items)
    response = jsonify(
        {"items": [ticket_json(t, user) for t in page.items], "next": page.next_cursor}
    )
    if page.next_cursor:
        args = request.args.to_dict()
        args["cursor"] = page.next_cursor
        response.headers["Link"] = f'<{url_for("api.list_tickets", **args)}>; rel="next"'
    return response


def _scoped_filter(user) -> queries.TicketFilter:
    flt = queries.TicketFilter(statuses=())
    statuses = [s.strip() for s in request.args.get("status", "").split(",") if s.strip()]
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        raise ValidationError(
            _l("Unknown status. Use one of: %(statuses)s."),
            field="status",
            statuses=", ".join(STATUSES),
        )
    flt.statuses = tuple(statuses)
    channel = request.args.get("channel", "").strip()
    if channel:
        if channel not in CHANNELS:
            raise ValidationError(
                _l("Unknown channel. Use one of: %(channels)s."),
                field="channel",
                channels=", ".join(CHANNELS),
            )
        flt.channel = channel
    department = request.args.get("department")
    if department:
        flt.department_ids = [department_by_ref(department).id]
    email = request.args.get("customer_email")
    if email:
        try:
            email = normalize_email(email)
        except ValidationError as exc:
            exc.field = "customer_email"
            raise
        flt.extra.append(
            Ticket.customer_id.in_(
                sa.select(CustomerEmail.customer_id).where(CustomerEmail.email == email)
            )
        )
    phone = request.args.get("customer_phone")
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValidationError as exc:
            exc.field = "customer_phone"
            raise
        flt.extra.append(
            Ticket.customer_id.in_(
                sa.select(CustomerPhone.customer_id).where(CustomerPhone.number == phone)
            )
        )
    flt.updated_since = query_datetime("updated_since")

    # scope: what this token's owner may see in the UI
    if not is_staff(user):
        record = customer_record_for(user)
        flt.customer_ids = [record.id] if record else []
    else:
        departments = staff_department_ids(user)
        if departments is not None:
            flt.extra.append(
                sa.or_(Ticket.department_id.in_(departments or [-1]), Ticket.assignee_id == user.id)
            )
    return flt


def _load_contacts(tickets: list[Ticket]) -> None:
    """Emails and phones of every customer on the page in two queries, whatever the page size."""
    ids = {t.customer_id for t in tickets}
    if ids:
        list(
            db.session.scalars(
                sa.select(Customer)
                .where(Customer.id.in_(ids))
                .options(selectinload(Customer.emails), selectinload(Customer.phones))
            )
        )


# one ticket ----------------------------------------------------------------------------------


@bp.get("/tickets/<protocol>")
def get_ticket(protocol: str):
    user = api_user()
    ticket = queries.ticket_with_thread(load_ticket(protocol, user).id)
    return jsonify(ticket_json(ticket, user, detail=True))


@bp.patch("/tickets/<protocol>")
def update_ticket(protocol: str):
    user = api_user()
    require_staff(user)
    ticket = load_ticket(protocol, user)
    body = json_object()
    f = Fields(body)
    status = f.text("status")
    priority = f.text("priority")
    outcome = f.text("outcome")
    department_ref = f.ref("department")
    reason = f.text("reason", "")
    assignee_ref = f.ref("assignee") if f.has("assignee") else None
    if priority is not None and priority not in PRIORITY_VALUES:
        f.errors["priority"] = _(
            "Unknown priority. Use one of: %(values)s.", values=", ".join(PRIORITY_VALUES)
        )
    f.check()

    # order matters: a transfer may unassign, and closing must come last
    if department_ref is not None:
        department = department_by_ref(department_ref)
        if department.id != ticket.department_id:
            transfer_ticket(ticket, user, department, reason)
    if f.has("assignee"):
        assignee = user_by_ref(assignee_ref, "assignee") if assignee_ref is not None else None
        assign_ticket(ticket, user, assignee)
    if priority is not None:
        change_priority(ticket, user, PRIORITY_VALUES[priority])
    if status is not None:
        change_status(ticket, user, status, outcome=outcome)
    db.session.flush()
    commit()
    return jsonify(ticket_json(ticket, user, detail=True))


# thread and history --------------------------------------------------------------------------


@bp.get("/tickets/<protocol>/messages")
def list_messages(protocol: str):
    user = api_user()
    ticket = queries.ticket_with_thread(load_ticket(protocol, user).id)
    items = [message_json(m, user) for m in visible_messages(ticket, user)]
    return jsonify({"items": items})


@bp.post("/tickets/<protocol>/messages")
def create_message(protocol: str):
    user = api_user()
    ticket = load_ticket(protocol, user)
    body = json_object()
    f = Fields(body)
    text = f.text("body", "")
    internal = f.boolean("internal", False)
    channel = f.text("channel", "api")
    files = f.attachments()
    f.check()
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
def list_events(protocol: str):
    user = api_user()
    ticket = load_ticket(protocol, user)
    events = db.session.scalars(
        sa.select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.id)
        .options(joinedload(TicketEvent.actor))
    )
    staff = is_staff(user)
    items = [event_json(e, user) for e in events if staff or e.is_public]
    return jsonify({"items": items})
