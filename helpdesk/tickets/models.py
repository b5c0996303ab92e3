"""Tickets, their messages, attachments and append-only events; categories; protocol counters."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Department, User
from ..core.clock import now
from ..core.models import TimestampMixin
from ..customers.models import Customer
from ..extensions import db

KINDS = ("complaint", "request", "suggestion")
KIND_LABELS = {
    "complaint": _l("Complaint"),
    "request": _l("Request"),
    "suggestion": _l("Suggestion"),
}

CHANNELS = (
    "phone",
    "email",
    "web",
    "chat",
    "whatsapp",
    "social",
    "instagram",
    "facebook",
    "in_person",
    "letter",
    "api",
)
CHANNEL_LABELS = {
    "phone": _l("Phone"),
    "email": _l("Email"),
    "web": _l("Web"),
    "chat": _l("Chat"),
    "whatsapp": _l("WhatsApp"),
    "instagram": _l("Instagram"),
    "facebook": _l("Facebook"),
    "social": _l("Social media"),
    "in_person": _l("In person"),
    "letter": _l("Letter"),
    "api": _l("API"),
}

STATUSES = ("new", "open", "pending_customer", "resolved", "closed", "reopened")
OPEN_STATUSES = ("new", "open", "pending_customer", "reopened")
STATUS_LABELS = {
    "new": _l("New"),
    "open": _l("Open"),
    "pending_customer": _l("Pending customer"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
}

# stored as integers so that "priority" sorts by index
PRIORITIES = {1: "low", 2: "normal", 3: "high", 4: "urgent"}
PRIORITY_VALUES = {v: k for k, v in PRIORITIES.items()}
PRIORITY_LABELS = {1: _l("Low"), 2: _l("Normal"), 3: _l("High"), 4: _l("Urgent")}


class Category(TimestampMixin, db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)  # English / default name
    name_pt_br: Mapped[str] = mapped_column(sa.String(120), default="")
    name_es: Mapped[str] = mapped_column(sa.String(120), default="")
    kinds: Mapped[list[str]] = mapped_column(sa.JSON, default=lambda: list(KINDS))
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    def label(self, locale: str | None = None) -> str:
        if locale == "pt_BR" and self.name_pt_br:
            return self.name_pt_br
        if locale == "es" and self.name_es:
            return self.name_es
        return self.name

    def __repr__(self) -> str:
        return f"<Category {self.name}>"


# tickets <-> tags; the reverse index answers "tickets with this tag" (filter, bulk, reports)
ticket_tags = sa.Table(
    "ticket_tags",
    db.metadata,
    sa.Column("ticket_id", sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_ticket_tags_tag", "tag_id", "ticket_id"),
)


class Tag(TimestampMixin, db.Model):
    """A label on tickets. `curated` tags are created by admins; agents may also create free ones
    (unless the admin setting forbids it). Names are stored lower-cased and compared as stored."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    color: Mapped[str] = mapped_column(sa.String(7), default="#64748b")  # #rrggbb
    curated: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    def __repr__(self) -> str:
        return f"<Tag {self.name}>"


class SavedView(TimestampMixin, db.Model):
    """A named queue filter + sort, personal (owner) or shared with a department's members."""

    __tablename__ = "saved_views"
    __table_args__ = (
        sa.Index("ix_saved_views_owner", "owner_id", "position"),
        sa.Index("ix_saved_views_department", "department_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # set: shared with the department's members; None: personal
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE")
    )
    # the queue's query arguments (status, department, kind, channel, assignee, tag, q, dates...)
    filters: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    sort: Mapped[str] = mapped_column(sa.String(20), default="due")
    position: Mapped[int] = mapped_column(default=0)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    department: Mapped[Department | None] = relationship()


class ProtocolCounter(db.Model):
    """One row per day; incremented inside the registering transaction (row lock = uniqueness)."""

    __tablename__ = "protocol_counters"

    day: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        sa.Index("ix_tickets_queue_department", "department_id", "status", "created_at", "id"),
        sa.Index("ix_tickets_queue_assignee", "assignee_id", "status", "created_at", "id"),
        sa.Index(
            "ix_tickets_queue_priority", "department_id", "status", "priority", "created_at", "id"
        ),
        sa.Index("ix_tickets_customer", "customer_id", "created_at", "id"),
        sa.Index("ix_tickets_updated", "updated_at", "id"),
        sa.Index("ix_tickets_status_created", "status", "created_at", "id"),
        sa.Index("ix_tickets_queue_due", "department_id", "status", "sla_due_at", "id"),
        # the API's and the console's channel= filter, newest or oldest first
        sa.Index("ix_tickets_channel_created", "channel", "created_at", "id"),
        # the reports: demands registered in a period, per department (helpdesk/reports)
        sa.Index("ix_tickets_created_department", "created_at", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol: Mapped[str] = mapped_column(sa.String(20), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(20))
    subject: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    remedy: Mapped[str] = mapped_column(sa.Text, default="")
    outcome: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="new")
    priority: Mapped[int] = mapped_column(default=2)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    first_response_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # the customer's word (consumidor.gov.br style)
    customer_verdict: Mapped[str | None] = mapped_column(sa.String(20))  # resolved | not_resolved
    rating: Mapped[int | None] = mapped_column()
    rated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # the soonest due instant of the targets still running (None: nothing running), kept by the
    # SLA services so that queues show and sort by it without a join
    sla_due_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    escalation_level: Mapped[int] = mapped_column(
        sa.SmallInteger, default=0, server_default=sa.text("0")
    )
    # a bit per escalation level that a deadline rule has fired on this ticket (each fires once)
    sla_levels_fired: Mapped[int] = mapped_column(
        sa.SmallInteger, default=0, server_default=sa.text("0")
    )
    # retention (helpdesk/compliance): a legal hold stops anonymisation; when it happened
    legal_hold: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    anonymised_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # a duplicate merged into another demand: its protocol keeps answering for the survivor
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )

    category: Mapped[Category | None] = relationship()
    department: Mapped[Department] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    customer: Mapped[Customer] = relationship()
    merged_into: Mapped[Ticket | None] = relationship(remote_side="Ticket.id")
    tags: Mapped[list[Tag]] = relationship(secondary=ticket_tags, order_by="Tag.name")
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="ticket", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def priority_name(self) -> str:
        return PRIORITIES.get(self.priority, "normal")

    @property
    def has_public_answer(self) -> bool:
        return self.first_response_at is not None

    def __repr__(self) -> str:
        return f"<Ticket {self.protocol}>"


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (sa.Index("ix_messages_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    author_kind: Mapped[str] = mapped_column(sa.String(20))  # customer | agent | system
    author_name: Mapped[str] = mapped_column(sa.String(200), default="")
    is_internal: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id"
    )


class Attachment(db.Model):
    """A file kept outside static under a random name; served only as a download."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255))
    storage_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(120))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")
    message: Mapped[Message | None] = relationship(back_populates="attachments")


class TicketEvent(db.Model):
    """Append-only history: who, when, what, from -> to. Never updated, never deleted."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        sa.Index("ix_ticket_events_ticket", "ticket_id", "id"),
        # the reports' reopen rate: status changes to "reopened" since a date
        sa.Index("ix_ticket_events_action", "action", "new_value", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(40))
    field: Mapped[str | None] = mapped_column(sa.String(40))
    old_value: Mapped[str | None] = mapped_column(sa.String(255))
    new_value: Mapped[str | None] = mapped_column(sa.String(255))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    is_public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    # the tamper-evident trail (tickets/trail.py): this row's link in its ticket's hash chain,
    # written once at insert by tickets/events.py; text_digest is set only when the anonymiser
    # replaced the free text (the digest of the original, which the link covers)
    chain_hash: Mapped[str | None] = mapped_column(sa.String(64))
    text_digest: Mapped[str | None] = mapped_column(sa.String(64))

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class IdempotencyKey(db.Model):
    """API creations keyed by (user, Idempotency-Key): a retried POST returns the same ticket."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(200))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)


class TicketPresence(db.Model):
    """Who has a ticket open in the workspace right now, and who is typing a reply (collision).

    One row per (ticket, user), refreshed by the workspace's poll; a row older than the presence
    window counts as gone. Kept in the database so that every application server sees it."""

    __tablename__ = "ticket_presence"
    __table_args__ = (sa.Index("ix_ticket_presence_seen", "ticket_id", "seen_at"),)

    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    typing_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship()
