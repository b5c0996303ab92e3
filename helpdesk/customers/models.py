"""Customer records, their emails and their phones (E.164)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..core.models import TimestampMixin
from ..extensions import db

SEGMENTS = ("individual", "business", "premium", "government")
SEGMENT_LABELS = {
    "individual": _l("Individual"),
    "business": _l("Business"),
    "premium": _l("Premium"),
    "government": _l("Government"),
}


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
