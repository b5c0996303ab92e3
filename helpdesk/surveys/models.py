"""Surveys (one per ticket at most) and follow-up tasks ("call the customer back")."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Department, User
from ..core.clock import now
from ..extensions import db
from ..tickets.models import Ticket

SURVEY_STATUSES = ("pending", "sending", "sent", "answered", "skipped")


class Survey(db.Model):
    __tablename__ = "surveys"
    __table_args__ = (sa.Index("ix_surveys_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"),
        unique=True,  # never twice for a demand
    )
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(sa.String(20), default="email")  # email | sms | portal
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    # pending (due at due_at) | sending (claimed) | sent | answered | skipped (no address/opt-out)
    # the link's token is HMAC(SECRET_KEY, id.salt): only its sha256 is stored (lookup), and the
    # reminder can carry the same link again without the raw token ever being kept
    token_salt: Mapped[str] = mapped_column(sa.String(32), default="")
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    due_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    rating: Mapped[int | None] = mapped_column()  # CSAT 1-5
    nps: Mapped[int | None] = mapped_column()  # 0-10, optional
    # personal data (free text written by the customer): anonymised with the customer
    customer_comment: Mapped[str] = mapped_column(sa.Text, default="")
    opted_out_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    ticket: Mapped[Ticket] = relationship()


class FollowUp(db.Model):
    """A task for the department's supervisor after a bad rating: call the customer back."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    survey_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="SET NULL"), unique=True
    )
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(sa.String(40), default="low_rating")
    due_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    ticket: Mapped[Ticket] = relationship()
    department: Mapped[Department] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    @property
    def overdue(self) -> bool:
        return self.done_at is None and self.due_at is not None and _aware(self.due_at) < now()


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
