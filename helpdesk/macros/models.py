"""A macro: a reply text per language with placeholders, and actions applied with it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Department, User
from ..core.clock import now
from ..core.models import TimestampMixin
from ..extensions import db

# global: every agent (admin-made); department: the department's members; personal: the owner
SCOPES = ("global", "department", "personal")
SCOPE_LABELS = {
    "global": _l("Everyone"),
    "department": _l("Department"),
    "personal": _l("Personal"),
}


class Macro(TimestampMixin, db.Model):
    __tablename__ = "macros"
    __table_args__ = (
        sa.Index("ix_macros_scope", "scope", "active", "usage_count"),
        sa.Index("ix_macros_department", "department_id"),
        sa.Index("ix_macros_owner", "owner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    scope: Mapped[str] = mapped_column(sa.String(20), default="personal")
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE")
    )
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # the reply, one text per language (empty: no reply in that language, the next one is used)
    body_pt_br: Mapped[str] = mapped_column(sa.Text, default="")
    body_es: Mapped[str] = mapped_column(sa.Text, default="")
    body_en: Mapped[str] = mapped_column(sa.Text, default="")
    # {"status": ..., "priority": ..., "assignee_id": ..., "department_id": ...,
    #  "transfer_reason": ..., "tags": [...], "note": ...}; absent keys change nothing
    actions: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    usage_count: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)

    department: Mapped[Department | None] = relationship()
    owner: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Macro {self.name}>"
