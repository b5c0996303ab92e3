"""Customer records, their emails and their phones (E.164)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..core.clock import now
from ..core.models import TimestampMixin
from ..extensions import db

SEGMENTS = ("individual", "business", "premium", "government")
SEGMENT_LABELS = {
    "individual": _l("Individual"),
    "business": _l("Business"),
    "premium": _l("Premium"),
    "government": _l("Government"),
}


RELATIONSHIP_TYPES = (
    "transactional",
    "long_term",
    "personal_assistance",
    "dedicated_assistance",
    "self_service",
    "automated",
    "community",
)
RELATIONSHIP_LABELS = {
    "transactional": _l("Transactional"),
    "long_term": _l("Long-term"),
    "personal_assistance": _l("Personal assistance"),
    "dedicated_assistance": _l("Dedicated assistance (key account)"),
    "self_service": _l("Self-service"),
    "automated": _l("Automated"),
    "community": _l("Community"),
}
LIFECYCLE_STAGES = ("exploration", "awareness", "expansion", "commitment", "dissolution")
LIFECYCLE_LABELS = {
    "exploration": _l("Exploration"),
    "awareness": _l("Awareness"),
    "expansion": _l("Expansion"),
    "commitment": _l("Commitment"),
    "dissolution": _l("Dissolution"),
}
VALUE_TIERS = ("low", "medium", "high")
VALUE_TIER_LABELS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}


class Customer(TimestampMixin, db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    document: Mapped[str | None] = mapped_column(sa.String(14), unique=True)  # CPF/CNPJ digits
    segment: Mapped[str] = mapped_column(sa.String(30), default="individual")
    is_key_account: Mapped[bool] = mapped_column(default=False)
    key_account_agent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    # retention (helpdesk/compliance): a legal hold stops anonymisation; when it happened
    legal_hold: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    anonymised_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    relationship_type: Mapped[str | None] = mapped_column(sa.String(30))
    lifecycle_stage: Mapped[str | None] = mapped_column(sa.String(20))
    value_tier: Mapped[str | None] = mapped_column(sa.String(10))
    preferred_channel: Mapped[str | None] = mapped_column(sa.String(20))
    # personal data written by agents: anonymised with the customer
    customer_notes: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    customer_important_dates: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    at_risk_since: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    surveys_opted_out_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    emails: Mapped[list[CustomerEmail]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerEmail.id"
    )
    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerPhone.id"
    )
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    key_account_agent: Mapped[User | None] = relationship(foreign_keys=[key_account_agent_id])

    @property
    def primary_email(self) -> str | None:
        return self.emails[0].email if self.emails else None

    @property
    def primary_phone(self) -> str | None:
        return self.phones[0].number if self.phones else None

    @property
    def document_kind(self) -> str | None:
        if not self.document:
            return None
        return "cpf" if len(self.document) == 11 else "cnpj"

    def __repr__(self) -> str:
        return f"<Customer {self.name}>"


class CustomerEmail(db.Model):
    __tablename__ = "customer_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)

    customer: Mapped[Customer] = relationship(back_populates="emails")


class CustomerPhone(db.Model):
    __tablename__ = "customer_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)  # E.164

    customer: Mapped[Customer] = relationship(back_populates="phones")


class CustomerEvent(db.Model):
    """The audit of a customer record: who changed what from what to what (its timeline)."""

    __tablename__ = "customer_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(30))  # changed | merged | at_risk
    field: Mapped[str | None] = mapped_column(sa.String(40))
    old_value: Mapped[str | None] = mapped_column(sa.Text)  # may hold personal data (notes)
    new_value: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    actor: Mapped[User | None] = relationship()
