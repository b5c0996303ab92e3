"""Investigation records, their linked tickets, 5 whys, CAPA actions, history and notices.

A ticket belongs to at most one investigation at a time (unique ticket_id on the link). Every change
is an InvestigationEvent (append-only). A customer notice ("tell every affected customer") is a
NoticeBroadcast with one NoticeDelivery per ticket, unique per (broadcast, ticket): retrying a
broadcast never sends twice.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Department, User
from ..core.clock import now
from ..extensions import db
from ..tickets.models import Category, Ticket

STATUSES = ("open", "analysing", "acting", "verifying", "closed", "cancelled")
ACTIVE_STATUSES = ("open", "analysing", "acting", "verifying")
STATUS_LABELS = {
    "open": _l("Open"),
    "analysing": _l("Analysing"),
    "acting": _l("Acting"),
    "verifying": _l("Verifying"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}

# the 6 M's of the Ishikawa (fishbone) diagram: fixed; admins add sub-categories under them
ISHIKAWA = ("method", "machine", "material", "people", "measurement", "environment")
ISHIKAWA_LABELS = {
    "method": _l("Method"),
    "machine": _l("Machine"),
    "material": _l("Material"),
    "people": _l("Manpower (people)"),
    "measurement": _l("Measurement"),
    "environment": _l("Environment"),
}

LEVELS = {1: "low", 2: "medium", 3: "high"}
LEVEL_LABELS = {1: _l("Low"), 2: _l("Medium"), 3: _l("High")}

ACTION_KINDS = ("corrective", "preventive")
ACTION_KIND_LABELS = {"corrective": _l("Corrective"), "preventive": _l("Preventive")}
ACTION_STATUSES = ("proposed", "open", "done", "cancelled")
ACTION_OPEN_STATUSES = ("proposed", "open")
ACTION_STATUS_LABELS = {
    "proposed": _l("Proposed"),
    "open": _l("Open"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}

VERDICTS = ("effective", "not_effective")
VERDICT_LABELS = {"effective": _l("Effective"), "not_effective": _l("Not effective")}

# notice templates: one per language the customers speak
NOTICE_LANGUAGES = ("pt_BR", "es", "en")
NOTICE_LANGUAGE_LABELS = {"pt_BR": "Português (Brasil)", "es": "Español", "en": "English"}


def _ts(**kw):
    return mapped_column(sa.DateTime(timezone=True), **kw)


class IshikawaSubcategory(db.Model):
    __tablename__ = "ishikawa_subcategories"
    __table_args__ = (
        sa.UniqueConstraint("category", "name", name="uq_ishikawa_subcategories_category_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = _ts(default=now)


class Investigation(db.Model):
    __tablename__ = "investigations"
    __table_args__ = (sa.Index("ix_investigations_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    # problem statement: what, where, since when, how many customers, estimated cost
    statement: Mapped[str] = mapped_column(sa.Text, default="")
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    since: Mapped[date | None] = mapped_column(sa.Date)
    customers_affected: Mapped[int | None] = mapped_column()
    estimated_cost: Mapped[int | None] = mapped_column()  # whole currency units
    impact: Mapped[int] = mapped_column(default=2)
    urgency: Mapped[int] = mapped_column(default=2)
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    # matching new tickets: the ticket category and keywords (comma separated)
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    keywords: Mapped[str] = mapped_column(sa.String(500), default="")
    containment: Mapped[str] = mapped_column(sa.Text, default="")
    # analysis
    ishikawa: Mapped[str | None] = mapped_column(sa.String(20))
    subcategory_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ishikawa_subcategories.id", ondelete="SET NULL"), index=True
    )
    root_cause: Mapped[str] = mapped_column(sa.Text, default="")
    evidence: Mapped[str] = mapped_column(sa.Text, default="")
    # effectiveness check
    metric: Mapped[str] = mapped_column(sa.String(300), default="")
    baseline: Mapped[str] = mapped_column(sa.String(100), default="")
    target: Mapped[str] = mapped_column(sa.String(100), default="")
    check_on: Mapped[date | None] = mapped_column(sa.Date)
    result: Mapped[str] = mapped_column(sa.Text, default="")
    verdict: Mapped[str | None] = mapped_column(sa.String(20))
    # the public notice, one template per language ({protocol} and {name} are filled in)
    notice_pt_br: Mapped[str] = mapped_column(sa.Text, default="")
    notice_es: Mapped[str] = mapped_column(sa.Text, default="")
    notice_en: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    cancel_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _ts(default=now)
    updated_at: Mapped[datetime] = _ts(default=now)
    closed_at: Mapped[datetime | None] = _ts()
    reopened_count: Mapped[int] = mapped_column(default=0)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    department: Mapped[Department | None] = relationship()
    category: Mapped[Category | None] = relationship()
    subcategory: Mapped[IshikawaSubcategory | None] = relationship()
    links: Mapped[list[InvestigationTicket]] = relationship(
        back_populates="investigation",
        order_by="InvestigationTicket.id",
        cascade="all, delete-orphan",
    )
    whys: Mapped[list[InvestigationWhy]] = relationship(
        back_populates="investigation",
        order_by="(InvestigationWhy.position, InvestigationWhy.id)",
        cascade="all, delete-orphan",
    )
    actions: Mapped[list[CapaAction]] = relationship(
        back_populates="investigation", order_by="CapaAction.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[InvestigationEvent]] = relationship(
        back_populates="investigation",
        order_by="InvestigationEvent.id",
        cascade="all, delete-orphan",
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def notice_for(self, language: str) -> str:
        return {"pt_BR": self.notice_pt_br, "es": self.notice_es, "en": self.notice_en}.get(
            language, ""
        )

    def __repr__(self) -> str:
        return f"<Investigation {self.number}>"


class InvestigationTicket(db.Model):
    """The link; unique ticket_id: a ticket is in at most one investigation at a time."""

    __tablename__ = "investigation_tickets"
    __table_args__ = (sa.Index("ix_investigation_tickets_inv", "investigation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("investigations.id", ondelete="CASCADE")
    )
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )
    linked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = _ts(default=now)
    is_recurrence: Mapped[bool] = mapped_column(default=False)

    investigation: Mapped[Investigation] = relationship(back_populates="links")
    ticket: Mapped[Ticket] = relationship()
    linked_by: Mapped[User | None] = relationship()


class InvestigationWhy(db.Model):
    """One step of the 5 whys; agents propose (accepted False) and a supervisor accepts."""

    __tablename__ = "investigation_whys"
    __table_args__ = (sa.Index("ix_investigation_whys_inv", "investigation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("investigations.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(sa.Text)
    accepted: Mapped[bool] = mapped_column(default=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _ts(default=now)

    investigation: Mapped[Investigation] = relationship(back_populates="whys")
    author: Mapped[User | None] = relationship()


class CapaAction(db.Model):
    __tablename__ = "capa_actions"
    __table_args__ = (
        sa.Index("ix_capa_actions_inv", "investigation_id", "id"),
        sa.Index("ix_capa_actions_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("investigations.id", ondelete="CASCADE")
    )
    description: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(20), default="corrective")
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    done_at: Mapped[datetime | None] = _ts()
    evidence: Mapped[str] = mapped_column(sa.Text, default="")
    proposed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _ts(default=now)
    overdue_notified_at: Mapped[datetime | None] = _ts()

    investigation: Mapped[Investigation] = relationship(back_populates="actions")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])

    @property
    def is_open(self) -> bool:
        return self.status in ACTION_OPEN_STATUSES

    def is_overdue(self, today: date) -> bool:
        return self.status == "open" and self.due_on is not None and self.due_on < today


class InvestigationEvent(db.Model):
    """Append-only history: who, when, what, from -> to."""

    __tablename__ = "investigation_events"
    __table_args__ = (sa.Index("ix_investigation_events_inv", "investigation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("investigations.id", ondelete="CASCADE")
    )
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(40))
    field: Mapped[str | None] = mapped_column(sa.String(40))
    old_value: Mapped[str | None] = mapped_column(sa.String(255))
    new_value: Mapped[str | None] = mapped_column(sa.String(255))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = _ts(default=now)

    investigation: Mapped[Investigation] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class NoticeBroadcast(db.Model):
    """One "tell every affected customer" run, keyed so that a retried submit is the same run."""

    __tablename__ = "notice_broadcasts"
    __table_args__ = (
        sa.UniqueConstraint("investigation_id", "key", name="uq_notice_broadcasts_inv_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("investigations.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(sa.String(64))
    resolve: Mapped[bool] = mapped_column(default=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _ts(default=now)

    deliveries: Mapped[list[NoticeDelivery]] = relationship(
        back_populates="broadcast", order_by="NoticeDelivery.id", cascade="all, delete-orphan"
    )


class NoticeDelivery(db.Model):
    """This ticket was told (or skipped, e.g. closed) in this broadcast: never told twice."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("broadcast_id", "ticket_id", name="uq_notice_deliveries_ticket"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notice_broadcasts.id", ondelete="CASCADE")
    )
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="SET NULL")
    )
    language: Mapped[str] = mapped_column(sa.String(10))
    outcome: Mapped[str] = mapped_column(sa.String(20))  # sent | skipped_closed
    created_at: Mapped[datetime] = _ts(default=now)

    broadcast: Mapped[NoticeBroadcast] = relationship(back_populates="deliveries")
