"""Webhooks: subscribe, emit events into the queue (in the caller's transaction), deliver.

emit_event(ticket, event, data) only writes rows; nothing leaves inside a web request. The
scheduler's job calls deliver_webhooks(): one conditional UPDATE claims a batch (so two schedulers
never send the same row), each POST is signed, a failure is retried with exponential back-off,
and after WEBHOOK_MAX_ATTEMPTS the delivery is dead until an admin retries it.

Signature: header X-Webhook-Signature is "sha256=" + hex HMAC-SHA256 with the subscription's
secret over "<X-Webhook-Timestamp>.<raw body>" (timestamp in Unix seconds, new at each attempt).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..channels.models import CONNECTOR_CHANNELS
from ..channels.queries import conversation_of
from ..core.clock import iso, now
from ..core.errors import Conflict, ValidationError
from ..core.logs import who
from ..extensions import db
from ..tickets.models import PRIORITIES
from . import transport
from .guard import UnsafeUrl, parse_url, resolve
from .models import EVENTS, WebhookDelivery, WebhookSubscription

log = logging.getLogger(__name__)

USER_AGENT = "SAC-Helpdesk-Webhooks/1.0"


# subscriptions -----------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _clean(url: str, events, description: str, active: bool) -> tuple[str, list[str], str]:
    url = (url or "").strip()
    if active:
        resolve(url)  # refused now if it points inside (and again at every delivery)
    else:  # an inactive one sends nothing: it can be switched off even if its host is gone
        parse_url(url)
    events = [e for e in EVENTS if e in set(events or ())]
    if not events:
        raise ValidationError(_l("Choose at least one event."), field="events")
    description = " ".join((description or "").split())
    if len(description) > 200:
        raise ValidationError(_l("At most %(n)s characters."), field="description", n=200)
    return url, events, description


def create_subscription(
    actor: User | None, *, url: str, events, description: str = "", active: bool = True
) -> WebhookSubscription:
    url, events, description = _clean(url, events, description, active)
    sub = WebhookSubscription(
        url=url,
        events=events,
        description=description,
        active=active,
        secret=new_secret(),
        created_by_id=actor.id if actor else None,
        created_at=now(),
        updated_at=now(),
    )
    db.session.add(sub)
    db.session.flush()
    log.info("Webhook subscription %s created by %s: %s", sub.id, who(actor), ", ".join(events))
    return sub


def update_subscription(
    sub: WebhookSubscription, *, url: str, events, description: str, active: bool
) -> WebhookSubscription:
    url, events, description = _clean(url, events, description, active)
    sub.url, sub.events, sub.description, sub.active = url, events, description, active
    sub.updated_at = now()
    db.session.flush()
    log.info("Webhook subscription %s updated (%s)", sub.id, "active" if active else "inactive")
    return sub


def rotate_secret(sub: WebhookSubscription) -> str:
    sub.secret = new_secret()
    sub.updated_at = now()
    db.session.flush()
    log.info("Webhook subscription %s: secret rotated", sub.id)
    return sub.secret


def retry_delivery(delivery: WebhookDelivery) -> None:
    """A dead (or waiting) delivery goes back to the queue with a fresh set of attempts."""
    if delivery.status == "delivered":
        raise ValidationError(_l("This delivery already succeeded."))
    if delivery.status == "sending":  # a worker holds it now: queueing it again sends it twice
        raise Conflict(_l("This delivery is being sent right now; try again in a moment."))
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now()
    db.session.flush()
    log.info("Webhook delivery %s queued again", delivery.id)


# events ------------------------------------------------------------------------------------


def ticket_payload(ticket) -> dict:
    base = current_app.config["BASE_URL"].rstrip("/")
    return {
        "protocol": ticket.protocol,
        "subject": ticket.subject,
        "kind": ticket.kind,
        "channel": ticket.channel,
        "status": ticket.status,
        "priority": PRIORITIES.get(ticket.priority, "normal"),
        "department": ticket.department.name if ticket.department else None,
        "customer": {"id": ticket.customer.id, "name": ticket.customer.name},
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "links": {
            "api": f"{base}/api/v1/tickets/{ticket.protocol}",
            "console": f"{base}/console/tickets/{ticket.protocol}",
        },
    }


def _conversation(ticket) -> dict | None:
    if ticket.channel not in CONNECTOR_CHANNELS:
        return None
    conversation = conversation_of(ticket)
    if conversation is None:
        return None
    return {
        "channel": conversation.channel,
        "conversation_id": conversation.external_id,
        "contact": conversation.contact_handle,
    }


def emit_event(ticket, event: str, data: dict | None = None) -> list[WebhookDelivery]:
    """Queue `event` about `ticket` for every active subscription to it (in this transaction)."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    subs = [
        s
        for s in db.session.scalars(
            sa.select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
        )
        if event in (s.events or [])
    ]
    if not subs:
        return []
    at = now()
    payload = {
        "event": event,
        "created_at": iso(at),
        "ticket": ticket_payload(ticket),
        "data": data or {},
    }
    conversation = _conversation(ticket)
    if conversation is not None:
        payload["conversation"] = conversation
    rows = []
    for sub in subs:
        event_id = str(uuid.uuid4())
        body = json.dumps({"id": event_id, **payload}, ensure_ascii=False, separators=(",", ":"))
        row = WebhookDelivery(
            subscription_id=sub.id,
            event_id=event_id,
            event=event,
            ticket_id=ticket.id,
            body=body,
            status="pending",
            next_attempt_at=at,
            created_at=at,
        )
        db.session.add(row)
        rows.append(row)
    log.info(
        "Ticket %s: webhook event %s queued for %s subscription(s)",
        ticket.protocol,
        event,
        len(rows),
    )
    return rows


# delivery ----------------------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(delivery: WebhookDelivery, secret: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(now().timestamp()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Id": delivery.event_id,
        "X-Webhook-Event": delivery.event,
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": signature(secret, timestamp, body),
    }


def _send(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(status code or None, error text or ""); never raises."""
    sub = delivery.subscription
    body = delivery.body.encode()
    try:
        target = resolve(sub.url)  # again now: the DNS answer may have changed (rebinding)
    except UnsafeUrl as exc:
        return None, str(exc)
    try:
        status, text = transport.post(
            target,
            body,
            signed_headers(delivery, sub.secret, body),
            timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"],
        )
    except (OSError, ValueError) as exc:  # refused, timeout, TLS, protocol errors
        return None, f"{type(exc).__name__}: {exc}"[:2000]
    if 200 <= status < 300:
        return status, ""
    if 300 <= status < 400:
        return status, f"HTTP {status}: redirect not followed. {text}"[:2000]
    return status, f"HTTP {status}: {text}"[:2000]


def deliver_webhooks(limit: int = 50, ids: list[int] | None = None) -> dict:
    """Send due deliveries; each outcome is committed as soon as it is known."""
    pending = WebhookDelivery.status == "pending"
    wanted = sa.select(WebhookDelivery.id).where(pending)
    if ids is None:
        wanted = wanted.where(WebhookDelivery.next_attempt_at <= now())
    else:
        wanted = wanted.where(WebhookDelivery.id.in_(ids))
    claimed = list(
        db.session.scalars(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(wanted.order_by(WebhookDelivery.id).limit(limit)), pending
            )
            .values(status="sending", attempts=WebhookDelivery.attempts + 1, claimed_at=now())
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    result = {"delivered": 0, "failed": 0, "dead": 0}
    if not claimed:
        return result
    cfg = current_app.config
    rows = db.session.scalars(
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.id.in_(claimed))
        .order_by(WebhookDelivery.id)
        .options(sa.orm.joinedload(WebhookDelivery.subscription))
    )
    for row in rows:
        if not row.subscription.active:
            status, error = None, "subscription disabled"
            row.attempts = cfg["WEBHOOK_MAX_ATTEMPTS"]
        else:
            status, error = _send(row)
        row.last_status_code = status
        if not error:
            row.status = "delivered"
            row.delivered_at = now()
            row.last_error = ""
            result["delivered"] += 1
            log.info("Webhook delivery %s (%s) delivered", row.id, row.event)
        else:
            row.last_error = error
            if row.attempts >= cfg["WEBHOOK_MAX_ATTEMPTS"]:
                row.status = "dead"
                result["dead"] += 1
            else:
                row.status = "pending"
                delay = cfg["WEBHOOK_BACKOFF_SECONDS"] * 2 ** (row.attempts - 1)
                row.next_attempt_at = now() + timedelta(seconds=delay)
                result["failed"] += 1
            log.warning("webhook delivery %s failed: %s", row.id, error)
        db.session.commit()
    return result


def release_stale_webhook_claims(older_than_minutes: int = 15) -> int:
    result = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.status == "sending",
            WebhookDelivery.claimed_at < now() - timedelta(minutes=older_than_minutes),
        )
        .values(status="pending")
    )
    if result.rowcount:
        log.info("Webhooks: %s stale claim(s) released", result.rowcount)
    return result.rowcount or 0


__all__ = [
    "create_subscription",
    "deliver_webhooks",
    "emit_event",
    "parse_url",
    "retry_delivery",
    "rotate_secret",
    "update_subscription",
]
