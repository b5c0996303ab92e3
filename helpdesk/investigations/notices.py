"""Telling the customers: one public message per linked ticket in its customer's language,
idempotent per broadcast (the same texts never reach a customer twice).
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core.clock import now
from ..core.errors import ValidationError
from ..core.logs import who
from ..extensions import db
from ..tickets import services as tickets
from ..tickets.events import record_event
from ..tickets.models import Ticket
from .fields import apply_values
from .history import record
from .models import (
    NOTICE_LANGUAGE_LABELS,
    NOTICE_LANGUAGES,
    Investigation,
    NoticeBroadcast,
    NoticeDelivery,
)
from .permissions import require_manager

log = logging.getLogger(__name__)

# what else is told when customers are notified (the knowledge base's known-problem followers):
# listeners registered by the packages that depend on investigations, never imported from here
_NOTIFIED_LISTENERS: list = []


def on_customers_notified(listener) -> None:
    """Call `listener(inv, by, resolve=...)` at the end of every notify_customers run."""
    if listener not in _NOTIFIED_LISTENERS:
        _NOTIFIED_LISTENERS.append(listener)


def customer_language(ticket: Ticket) -> str:
    customer = ticket.customer
    locale = customer.locale or (customer.user.locale if customer.user else None)
    locale = (locale or current_app.config["BABEL_DEFAULT_LOCALE"] or "en").replace("-", "_")
    if locale.lower().startswith("pt"):
        return "pt_BR"
    if locale.lower().startswith("es"):
        return "es"
    return "en"


def _fill(template: str, ticket: Ticket, inv: Investigation) -> str:
    return (
        template.replace("{protocol}", ticket.protocol)
        .replace("{name}", ticket.customer.name)
        .replace("{number}", inv.number or "")
    )


def broadcast_key(inv: Investigation) -> str:
    """The same texts are the same broadcast: re-running it only tells tickets not told yet."""
    text = "\x1f".join(inv.notice_for(lang) for lang in NOTICE_LANGUAGES)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def notify_customers(
    inv: Investigation,
    by: User | None,
    *,
    resolve: bool = False,
    templates: dict | None = None,
    key: str | None = None,
) -> dict:
    """One public message on every linked ticket, in its customer's language; optionally resolve.

    Idempotent: deliveries are recorded per (broadcast, ticket), and the broadcast is keyed by
    its texts (or `key`), so a retried or repeated run never tells a customer twice.
    """
    require_manager(by)
    # two runs at once (a double click on two workers) wait for each other here, so the second
    # sees the first one's deliveries (PostgreSQL row lock; SQLite serializes writers anyway)
    db.session.execute(
        sa.select(Investigation.id).where(Investigation.id == inv.id).with_for_update()
    )
    if templates:
        apply_values(inv, by, {f"notice_{k.lower()}": v for k, v in templates.items()})
    links = list(inv.links)
    if not links:
        raise ValidationError(_l("No demand is linked to this investigation."))
    key = key or broadcast_key(inv)
    broadcast = db.session.scalar(
        sa.select(NoticeBroadcast).where(
            NoticeBroadcast.investigation_id == inv.id, NoticeBroadcast.key == key
        )
    )
    if broadcast is None:
        broadcast = NoticeBroadcast(
            investigation_id=inv.id,
            key=key,
            resolve=resolve,
            actor_id=by.id if by is not None else None,
            created_at=now(),
        )
        db.session.add(broadcast)
        db.session.flush()
    told = {d.ticket_id for d in broadcast.deliveries}
    pending = [link.ticket for link in links if link.ticket_id not in told]
    missing: dict[str, int] = {}
    for ticket in pending:
        lang = customer_language(ticket)
        if ticket.status != "closed" and not inv.notice_for(lang).strip():
            missing[lang] = missing.get(lang, 0) + 1
    if missing:
        lang = next(iter(missing))
        raise ValidationError(
            _l("Write the message in %(languages)s: some customers speak it."),
            field=f"notice_{lang.lower()}",
            languages=", ".join(NOTICE_LANGUAGE_LABELS[k] for k in missing),
        )
    counts = {"sent": 0, "skipped": 0, "already": len(links) - len(pending)}
    for ticket in pending:
        lang = customer_language(ticket)
        message = None
        if ticket.status == "closed":
            outcome = "skipped_closed"
            counts["skipped"] += 1
        else:
            message = tickets.add_message(
                ticket,
                by,
                _fill(inv.notice_for(lang), ticket, inv),
                channel="web",
                new_status="resolved" if resolve else None,
            )
            record_event(ticket, by, "investigation_notice", new=inv.number)
            outcome = "sent"
            counts["sent"] += 1
        db.session.add(
            NoticeDelivery(
                broadcast=broadcast,
                ticket_id=ticket.id,
                message_id=message.id if message else None,
                language=lang,
                outcome=outcome,
                created_at=now(),
            )
        )
    record(
        inv,
        by,
        "customers_notified",
        new=counts["sent"],
        detail=f"sent={counts['sent']} skipped={counts['skipped']} already={counts['already']}"
        + (" resolve" if resolve else ""),
    )
    for listener in _NOTIFIED_LISTENERS:
        listener(inv, by, resolve=resolve)
    db.session.flush()
    log.info("Investigation %s: customers notified by %s: %s", inv.number, who(by), counts)
    return counts
