"""Webhook subscriptions and their delivery queue (one row per event and subscription)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import now
from ..extensions import db

EVENTS = (
    "ticket.created",
    "ticket.public_reply",
    "ticket.status_changed",
    "ticket.escalated",
    "ticket.survey",
)
EVENT_LABELS = {
    "ticket.created": _l("Ticket created"),
    "ticket.public_reply": _l("Public reply by an agent"),
    "ticket.status_changed": _l("Status changed"),
    "ticket.escalated": _l("Ticket escalated"),
    "ticket.survey": _l("Satisfaction survey for a chat customer without email"),
}
DELIVERY_STATUS_LABELS = {
    "pending": _l("Pending"),
    "sending": _l("Sending"),
    "delivered": _l("Delivered"),
    "dead": _l("Dead"),
}


class WebhookSubscription(db.Model):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    secret: Mapped[str] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)


class WebhookDelivery(db.Model):
    """One event for one subscription: queued in the business transaction, sent by the scheduler.

    The body is frozen when queued, so every retry sends the same bytes and the same event id.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    event: Mapped[str] = mapped_column(sa.String(40))
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    subscription: Mapped[WebhookSubscription] = relationship()
