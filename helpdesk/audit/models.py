"""One row per change an administrator made to the help desk's setup, hash-chained (one chain)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..core.clock import now
from ..extensions import db

# the kinds of setting the log covers, with their labels for the screen's filter
ENTITY_LABELS = {
    "routing_rule": _l("Routing rule"),
    "sla_policy": _l("SLA policy"),
    "calendar": _l("Business calendar"),
    "escalation_rule": _l("Escalation rule"),
    "user": _l("User"),
    "role": _l("Role"),
    "department": _l("Department"),
    "category": _l("Category"),
    "mailbox": _l("Mailbox"),
    "webhook": _l("Webhook"),
    "tag": _l("Tag"),
}
ACTION_LABELS = {
    "created": _l("created"),
    "updated": _l("changed"),
    "deleted": _l("deleted"),
    "deactivated": _l("deactivated"),
    "activated": _l("reactivated"),
}
SOURCE_LABELS = {"console": _l("Administration"), "api": _l("API"), "cli": _l("Command line")}


class AdminAuditEntry(db.Model):
    """Who (actor, kept by name too: a deleted user's entries stay readable), what (entity kind,
    id and name at the time), how (action, source), when, and `changes`: a JSON object of
    field → [before, after]. `chain_hash` links it to the previous entry (audit/services.py)."""

    __tablename__ = "admin_audit_entries"
    __table_args__ = (
        sa.Index("ix_admin_audit_entries_entity", "entity_type", "entity_id"),
        sa.Index("ix_admin_audit_entries_actor", "actor_id", "id"),
        sa.Index("ix_admin_audit_entries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(sa.String(254), default="")
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int | None] = mapped_column()
    entity_label: Mapped[str] = mapped_column(sa.String(255), default="")
    action: Mapped[str] = mapped_column(sa.String(20))
    source: Mapped[str] = mapped_column(sa.String(10), default="console")
    changes: Mapped[str] = mapped_column(sa.Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    chain_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # set only when the anonymiser replaced actor_label / entity_label / changes (their digest)
    text_digest: Mapped[str | None] = mapped_column(sa.String(64))

    actor: Mapped[User | None] = relationship()
