"""Chat, WhatsApp and social conversations arriving through a connector.

A conversation is known by (channel, external id). Its first message registers a demand through the
one intake (the channel is the ticket's channel); later messages are the customer's replies on
that demand (a resolved demand reopens, as in every channel); once the demand is closed, the next
message opens a new demand for the same conversation. The contact handle finds the same person
again: a WhatsApp handle is a phone number (E.164, shared with calls and the customer record),
other handles are remembered per channel.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core.clock import now
from ..core.errors import ValidationError
from ..core.logs import who
from ..customers.models import Customer
from ..customers.services import create_customer, normalize_phone, resolve_customer
from ..extensions import db
from ..tickets.models import Message, Ticket
from ..tickets.services import MAX_TEXT, add_message, register_ticket
from .models import CONNECTOR_CHANNELS, ContactHandle, Conversation

log = logging.getLogger(__name__)

PHONE_CHANNELS = ("whatsapp",)
SUBJECT_LENGTH = 80


def normalize_handle(channel: str, handle: str) -> str:
    handle = (handle or "").strip()
    if not handle:
        raise ValidationError(_l("This field is required."), field="contact")
    if len(handle) > 200:
        raise ValidationError(_l("At most %(n)s characters."), field="contact", n=200)
    if channel in PHONE_CHANNELS:
        try:
            return normalize_phone(handle)
        except ValidationError as exc:
            exc.field = "contact"
            raise
    if channel in ("instagram", "facebook", "social"):
        return handle.lstrip("@").lower()
    return handle


def _subject(text: str) -> str:
    first = " ".join(text.split())
    if len(first) <= SUBJECT_LENGTH:
        return first
    return first[: SUBJECT_LENGTH - 1].rstrip() + "…"


def customer_for_handle(channel: str, handle: str, name: str | None, email: str | None) -> Customer:
    """The customer behind a handle: remembered, else found by phone/email, else created."""
    known = db.session.scalar(
        sa.select(ContactHandle).where(
            ContactHandle.channel == channel, ContactHandle.handle == handle
        )
    )
    if known is not None:
        return known.customer
    if channel in PHONE_CHANNELS or email:
        customer = resolve_customer(
            name=name or None,
            phone=handle if channel in PHONE_CHANNELS else None,
            email=email or None,
        )
    else:
        customer = create_customer(name=name or handle)
    with db.session.begin_nested():
        db.session.add(ContactHandle(channel=channel, handle=handle, customer_id=customer.id))
    return customer


def receive_message(
    *,
    actor: User,
    channel: str,
    external_id: str,
    contact: str,
    text: str,
    name: str | None = None,
    email: str | None = None,
    kind: str = "request",
) -> tuple[Conversation, Ticket, Message | None]:
    """Create or continue a conversation; returns (conversation, ticket, appended message or
    None when the message opened a new demand). Flushes, never commits."""
    if channel not in CONNECTOR_CHANNELS:
        raise ValidationError(
            _l("Unknown channel. Use one of: %(values)s."),
            field="channel",
            values=", ".join(CONNECTOR_CHANNELS),
        )
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > 200:
        raise ValidationError(
            _l("Give the conversation's id (1 to 200 characters)."), field="conversation_id"
        )
    text = (text or "").strip()
    if not text:
        raise ValidationError(_l("This field is required."), field="text")
    if len(text) > MAX_TEXT:
        raise ValidationError(
            _l("This text is too long (at most %(n)s characters)."), field="text", n=MAX_TEXT
        )
    handle = normalize_handle(channel, contact)
    conversation = db.session.scalar(
        sa.select(Conversation).where(
            Conversation.channel == channel, Conversation.external_id == external_id
        )
    )
    if conversation is None:
        customer = customer_for_handle(channel, handle, name, email)
        ticket = _open(actor, customer, channel, kind, text)
        conversation = Conversation(
            channel=channel,
            external_id=external_id,
            contact_handle=handle,
            customer_id=customer.id,
            customer=customer,
            ticket_id=ticket.id,
            ticket=ticket,
            created_at=now(),
            last_message_at=now(),
        )
        db.session.add(conversation)
        db.session.flush()
        log.info(
            "Conversation %s (%s) opened ticket %s by %s",
            conversation.id,
            channel,
            ticket.protocol,
            who(actor),
        )
        return conversation, ticket, None
    conversation.last_message_at = now()
    ticket = conversation.ticket
    if ticket is None or ticket.status == "closed":
        ticket = _open(actor, conversation.customer, channel, kind, text)
        conversation.ticket_id = ticket.id
        conversation.ticket = ticket
        db.session.flush()
        log.info(
            "Conversation %s (%s) reopened as ticket %s by %s",
            conversation.id,
            channel,
            ticket.protocol,
            who(actor),
        )
        return conversation, ticket, None
    message = add_message(
        ticket,
        None,  # the customer, written through the connector
        text,
        channel=channel,
        author_name=name or conversation.customer.name,
    )
    log.info(
        "Conversation %s (%s): message %s added to ticket %s",
        conversation.id,
        channel,
        message.id,
        ticket.protocol,
    )
    return conversation, ticket, message


def _open(actor: User, customer: Customer, channel: str, kind: str, text: str) -> Ticket:
    return register_ticket(
        actor=actor,
        customer=customer,
        channel=channel,
        kind=kind,
        subject=_subject(text),
        description=text,
    )
