"""Connectors (chat, WhatsApp, Instagram, Facebook): POST /api/v1/conversations.

One call per incoming message: the first message of a conversation registers a demand (201), the
next ones are the customer's replies on it (200). Retries are safe with Idempotency-Key (same key
and body: the same answer with Idempotent-Replayed: true; another body: 409). Integration or admin
tokens. Agents' public replies go back to the connector through a webhook (ticket.public_reply).
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import jsonify, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..channels.conversations import receive_message
from ..channels.models import Conversation
from ..core.unit import commit
from ..extensions import db
from ..notifications.services import take_queued_ids
from ..tickets.models import IdempotencyKey, Ticket
from .auth import api_user
from .blueprint import bp
from .calls import require_integration
from .documented import IDEMPOTENCY_KEY, documented, ok
from .errors import IdempotencyConflict
from .parsing import canonical, json_object
from .schemas.channels import ConversationMessage, ConversationResult
from .serializers import iso
from .tickets import _idempotency_key
from .validation import parse_body


def conversation_json(conversation: Conversation, ticket: Ticket, message=None) -> dict:
    return {
        "conversation": {
            "id": conversation.id,
            "channel": conversation.channel,
            "conversation_id": conversation.external_id,
            "contact": conversation.contact_handle,
        },
        "customer": {"id": conversation.customer.id, "name": conversation.customer.name},
        "protocol": ticket.protocol,
        "status": ticket.status,
        "message_id": message.id if message is not None else None,
        "created_at": iso(ticket.created_at),
        "links": {"ticket": url_for("api.get_ticket", protocol=ticket.protocol)},
    }


@bp.post("/conversations")
@documented(
    "postConversationMessage",
    "channels",
    _l("Create or continue a conversation (chat, WhatsApp, social)"),
    description=_l(
        "One call per incoming message. A new conversation registers a demand "
        "(201) with the conversation's channel; a known one appends the customer's "
        "message to its demand (200), reopening a resolved one; after the demand is "
        "closed a new demand is opened. The same contact finds the same customer. "
        "Integration or admin tokens. A replay answers 200 with "
        "Idempotent-Replayed: true."
    ),
    parameters=(IDEMPOTENCY_KEY,),
    body=ConversationMessage,
    example={
        "channel": "whatsapp",
        "conversation_id": "wa-5511987654321-20250131",
        "contact": "+5511987654321",
        "name": "Maria Silva",
        "text": "Minha internet caiu de novo.",
    },
    responses={
        200: ok(ConversationResult, description=_l("Appended (or replayed).")),
        201: ok(ConversationResult, description=_l("A new demand was registered.")),
    },
    errors=(400, 401, 403, 409, 415, 422),
)
def conversation_message():
    user = api_user()
    require_integration(user)
    body = json_object()
    key = _idempotency_key()
    digest = hashlib.sha256(canonical(body).encode()).hexdigest() if key else None
    if key:
        replay = _replay(user, key, digest)
        if replay is not None:
            return replay
    given = parse_body(ConversationMessage, body)
    values = {
        "channel": given.channel or "",
        "external_id": given.conversation_id or "",
        "contact": given.contact or "",
        "text": given.text or "",
        "name": given.name,
        "email": given.email,
        "kind": given.kind or "request",
    }
    # the same conversation's first messages may race (two workers of the connector): the unique
    # keys decide, the loser rolls back and tries once more (then it continues the conversation)
    for attempt in (1, 2):
        try:
            conversation, ticket, message = receive_message(actor=user, **values)
            if key:
                db.session.add(
                    IdempotencyKey(
                        user_id=user.id, key=key, request_hash=digest, ticket_id=ticket.id
                    )
                )
            db.session.flush()
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
    payload = conversation_json(conversation, ticket, message)
    commit()
    return jsonify(payload), 200 if message is not None else 201


def _replay(user, key: str, digest: str | None):
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
    conversation = db.session.scalar(
        sa.select(Conversation).where(Conversation.ticket_id == ticket.id).limit(1)
    )
    if conversation is None:  # the key was used for a ticket, not a conversation
        raise IdempotencyConflict(field="Idempotency-Key")
    response = jsonify(conversation_json(conversation, ticket))
    response.headers["Idempotent-Replayed"] = "true"
    return response
