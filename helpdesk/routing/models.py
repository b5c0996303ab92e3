"""Routing rules: conditions (all optional, all must match) -> department, priority, agent."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Department, User
from ..core.models import TimestampMixin
from ..extensions import db
from ..tickets.models import Category


class RoutingRule(TimestampMixin, db.Model):
    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0, index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(default=True)
    # conditions; None / empty = any
    kind: Mapped[str | None] = mapped_column(sa.String(20))
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE")
    )
    channel: Mapped[str | None] = mapped_column(sa.String(20))
    keywords: Mapped[str] = mapped_column(
        sa.String(500), default=""
    )  # comma-separated, any matches
    segment: Mapped[str | None] = mapped_column(sa.String(30))
    key_account: Mapped[bool | None] = mapped_column()
    relationship_type: Mapped[str | None] = mapped_column(sa.String(30))
    lifecycle_stage: Mapped[str | None] = mapped_column(sa.String(20))
    value_tier: Mapped[str | None] = mapped_column(sa.String(10))
    # outcome
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id", ondelete="CASCADE"))
    priority: Mapped[int | None] = mapped_column()
    agent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    category: Mapped[Category | None] = relationship()
    department: Mapped[Department] = relationship()
    agent: Mapped[User | None] = relationship()

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in self.keywords.split(",") if k.strip()]
