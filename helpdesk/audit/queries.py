"""Reading the admin audit log: one page of entries with the screen's filters, and who appears."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from .models import AdminAuditEntry


def entry_page(
    *,
    actor_id: int | None = None,
    entity_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    size: int = 50,
) -> list[AdminAuditEntry]:
    """Newest first, keyset-paged on the id (`before_id`: the last id of the previous page)."""
    stmt = sa.select(AdminAuditEntry)
    if actor_id is not None:
        stmt = stmt.where(AdminAuditEntry.actor_id == actor_id)
    if entity_type:
        stmt = stmt.where(AdminAuditEntry.entity_type == entity_type)
    if since is not None:
        stmt = stmt.where(AdminAuditEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AdminAuditEntry.created_at < until)
    if before_id is not None:
        stmt = stmt.where(AdminAuditEntry.id < before_id)
    return list(db.session.scalars(stmt.order_by(AdminAuditEntry.id.desc()).limit(size)))


def actors() -> list[tuple[int, str]]:
    """(id, name at the time) of everyone with an entry, for the filter (one row per id)."""
    rows = db.session.execute(
        sa.select(AdminAuditEntry.actor_id, sa.func.max(AdminAuditEntry.actor_label))
        .where(AdminAuditEntry.actor_id.is_not(None))
        .group_by(AdminAuditEntry.actor_id)
    ).all()
    return sorted(((r[0], r[1] or f"#{r[0]}") for r in rows), key=lambda r: r[1].lower())


def changes_of(entry: AdminAuditEntry) -> list[tuple[str, str, str]]:
    """(field, before, after) as text, fields in order."""
    try:
        data = json.loads(entry.changes or "{}")
    except ValueError:
        return []
    out = []
    for field in sorted(data):
        pair = data[field]
        before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        out.append((field, _text(before), _text(after)))
    return out


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
