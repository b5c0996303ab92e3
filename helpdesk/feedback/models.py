"""Feedback topics (the product/feedback list) and the suggestions forwarded to them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..core.clock import now
from ..extensions import db
from ..tickets.models import Ticket


class FeedbackTopic(db.Model):
    """One idea or request for the product, with the number of distinct customers asking
    (`customer_count`, recomputed when a suggestion is added: the list sorts on it)."""

    __tablename__ = "feedback_topics"
    __table_args__ = (sa.Index("ix_feedback_topics_count", "customer_count", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    # the title lower-cased with single spaces: "new or existing, by title"
    title_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    customer_count: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    last_added_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    created_by: Mapped[User | None] = relationship()


class FeedbackItem(db.Model):
    """A suggestion (ticket) forwarded to a topic: at most once per demand."""

    __tablename__ = "feedback_items"
    __table_args__ = (sa.Index("ix_feedback_items_topic_customer", "topic_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_topics.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    topic: Mapped[FeedbackTopic] = relationship()
    ticket: Mapped[Ticket] = relationship()
    added_by: Mapped[User | None] = relationship()
