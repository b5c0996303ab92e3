"""Calls from the phone system (CTI), chat/social conversations and contact handles."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..accounts.models import User
from ..core.clock import now
from ..customers.models import Customer
from ..extensions import db
from ..tickets.models import Ticket

CALL_EVENTS = ("ringing", "answered", "hung_up")
# the channels whose conversations arrive through a connector (chat, WhatsApp, social)
CONNECTOR_CHANNELS = ("whatsapp", "chat", "instagram", "facebook", "social")


class Call(db.Model):
    """One phone call, built from the PBX's events in whatever order they arrive.

    The state is derived from the instants: ended once hung up, else answered, else ringing.
    """

    __tablename__ = "calls"
    __table_args__ = (
        sa.UniqueConstraint("provider", "call_id", name="uq_calls_provider_call_id"),
        sa.Index("ix_calls_agent_active", "agent_id", "ended_at", "started_at"),
        sa.Index("ix_calls_recording", "recording_purged_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(40), default="pbx")
    call_id: Mapped[str] = mapped_column(sa.String(120))
    caller_number: Mapped[str] = mapped_column(sa.String(40), default="")  # as the PBX sent it
    caller_e164: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    called_number: Mapped[str] = mapped_column(sa.String(40), default="")
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    answered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    duration_seconds: Mapped[int | None] = mapped_column()
    recording_ref: Mapped[str | None] = mapped_column(sa.String(500))
    recording_purged_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    customer: Mapped[Customer | None] = relationship()
    agent: Mapped[User | None] = relationship()
    ticket: Mapped[Ticket | None] = relationship(
        backref=backref("calls", order_by="Call.started_at", lazy="select")
    )

    @property
    def state(self) -> str:
        if self.ended_at is not None:
            return "ended"
        if self.answered_at is not None:
            return "answered"
        return "ringing"

    @property
    def missed(self) -> bool:
        return self.ended_at is not None and self.answered_at is None


class ContactHandle(db.Model):
    """Who a handle on a channel belongs to (an Instagram user, a chat visitor id...)."""

    __tablename__ = "contact_handles"
    __table_args__ = (
        sa.UniqueConstraint("channel", "handle", name="uq_contact_handles_channel_handle"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(20))
    handle: Mapped[str] = mapped_column(sa.String(200))
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    customer: Mapped[Customer] = relationship()


class Conversation(db.Model):
    """A connector's conversation (external id per channel) and the ticket it currently feeds."""

    __tablename__ = "conversations"
    __table_args__ = (
        sa.UniqueConstraint("channel", "external_id", name="uq_conversations_channel_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(20))
    external_id: Mapped[str] = mapped_column(sa.String(200))
    contact_handle: Mapped[str] = mapped_column(sa.String(200))
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    last_message_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    customer: Mapped[Customer] = relationship()
    ticket: Mapped[Ticket | None] = relationship()
