"""Writing the admin audit log: every change to the help desk's setup made by an administrator.

No view has to remember it: a surface declares who is acting (`acting(session, actor, source)`:
the admin blueprint for every console request, the API's admin check, the CLI), and a flush hook
records each created, changed or deleted routing rule, SLA policy, calendar (with its hours and
holidays), escalation rule, user (and role), department, category, mailbox, webhook and tag, with
its fields before and after, in the same transaction as the change. Changes made outside an
administrator's action (a customer editing their profile, the demo loader) are not admin changes
and are not logged. Secrets (passwords, webhook secrets, TOTP) are logged as changed, never by value.

Entries form one hash chain (`chain_hash`, in id order; core/hashchain.py): on PostgreSQL a
transaction-scoped advisory lock serialises writers, so two admins saving at once never fork it.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..accounts.models import Department, User
from ..core import hashchain
from ..escalations.models import EscalationRule
from ..mail.models import Mailbox
from ..routing.models import RoutingRule
from ..sla.models import BusinessCalendar, CalendarHoliday, CalendarInterval, SlaPolicy
from ..tickets.models import Category, Tag
from ..webhooks.models import WebhookSubscription
from .models import AdminAuditEntry

log = logging.getLogger(__name__)

ENTRIES = AdminAuditEntry.__table__
_ACTOR = "helpdesk_audit_actor"  # session.info: (actor id, label, source)
_LOCK_KEY = 0x4155444954  # pg_advisory_xact_lock key of the admin chain ("AUDIT")

# model -> entity type; children of a calendar are logged as changes of their calendar
KINDS: dict[type, str] = {
    RoutingRule: "routing_rule",
    SlaPolicy: "sla_policy",
    BusinessCalendar: "calendar",
    EscalationRule: "escalation_rule",
    User: "user",
    Department: "department",
    Category: "category",
    Mailbox: "mailbox",
    WebhookSubscription: "webhook",
    Tag: "tag",
}
CHILDREN = {
    CalendarInterval: ("calendar", "calendar_id"),
    CalendarHoliday: ("calendar", "calendar_id"),
}
# operational columns, not settings
SKIPPED = {
    "created_at",
    "updated_at",
    "last_login_at",
    "last_fetch_at",
    "last_error",
    "totp_last_step",
    "usage_count",
    "last_used_at",
}
SECRET_WORDS = ("password", "secret", "token")
MASK = "••••••"
MAX_VALUE = 500


def acting(session: Session, actor: User | None, source: str) -> None:
    """From now on, audited changes flushed by this session are `actor`'s (None: the command
    line without a user), made through `source` ("console", "api" or "cli")."""
    label = actor.email if actor is not None else ""
    session.info[_ACTOR] = (actor.id if actor is not None else None, label, source)


def _plain(value):
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "__mapper__"):
        return _label(value)
    text = str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


def _label(obj) -> str:
    if isinstance(obj, User):
        return obj.email
    for name in ("name", "email", "url", "protocol"):
        value = getattr(obj, name, None)
        if value:
            return str(value)[:255]
    return f"#{getattr(obj, 'id', '')}"


def _secret(name: str) -> bool:
    return any(word in name for word in SECRET_WORDS)


def _changes(obj, *, created: bool = False, deleted: bool = False) -> dict:
    """field -> [before, after] of the object's columns and many-to-many collections."""
    state = sa.inspect(obj)
    out: dict = {}
    for attr in state.mapper.column_attrs:
        name = attr.key
        if name in SKIPPED or name == "id":
            continue
        history = state.attrs[name].history
        if created or deleted:
            value = state.attrs[name].loaded_value
            if value is sa.orm.base.NO_VALUE or value is None or value == "":
                continue
            before, after = (value, None) if deleted else (None, value)
        elif history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before == after:
                continue
        else:
            continue
        if _secret(name):
            before, after = (MASK if before else None), (MASK if after else None)
        out[name] = [_plain(before), _plain(after)]
    if not created and not deleted:
        for rel in state.mapper.relationships:
            if rel.secondary is None:
                continue
            history = state.attrs[rel.key].history
            if history.added or history.deleted:
                kept = [_label(o) for o in history.unchanged]
                out[rel.key] = [
                    sorted(kept + [_label(o) for o in history.deleted]),
                    sorted(kept + [_label(o) for o in history.added]),
                ]
    return out


def _entries_of(session: Session) -> list[dict]:
    found: list[dict] = []

    def add(kind, entity_id, label, action, changes):
        found.append(
            {
                "entity_type": kind,
                "entity_id": entity_id,
                "entity_label": (label or "")[:255],
                "action": action,
                "changes": changes,
            }
        )

    for bucket, action in (
        (session.new, "created"),
        (session.dirty, "updated"),
        (session.deleted, "deleted"),
    ):
        for obj in list(bucket):
            kind = KINDS.get(type(obj))
            if kind is not None:
                changes = _changes(obj, created=action == "created", deleted=action == "deleted")
                if action == "updated" and not changes:
                    continue
                if kind == "user" and "role" in changes:  # a role change is its own entry
                    add("role", obj.id, _label(obj), "updated", {"role": changes.pop("role")})
                    if not changes:
                        continue
                if action == "updated" and list(changes) == ["active"]:
                    action_here = "activated" if changes["active"][1] else "deactivated"
                else:
                    action_here = action
                add(kind, obj.id, _label(obj), action_here, changes)
                continue
            child = CHILDREN.get(type(obj))
            if child is not None:
                kind, parent_key = child
                changes = _changes(obj, created=action == "created", deleted=action == "deleted")
                if not changes:
                    continue
                parent_id = getattr(obj, parent_key)
                parent = session.get(BusinessCalendar, parent_id) if parent_id else None
                what = type(obj).__tablename__.removeprefix("calendar_")
                add(
                    kind,
                    parent_id,
                    _label(parent) if parent is not None else "",
                    "updated",
                    {f"{what}.{action}": changes},
                )
    return found


def entry_fields(row) -> dict:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name, None)
    digest = get("text_digest") or hashchain.text_digest(
        get("actor_label"), get("entity_label"), get("changes")
    )
    return {
        "actor": get("actor_id"),
        "entity": get("entity_type"),
        "entity_id": get("entity_id"),
        "action": get("action"),
        "source": get("source"),
        "at": hashchain.instant(get("created_at")),
        "text": digest,
    }


def entry_hash(row, prev: str | None) -> str:
    return hashchain.link(entry_fields(row), prev)


def write_entries(connection, rows: list[dict]) -> None:
    """Chain and insert audit entries (`actor_id`, `actor_label`, `source`, `entity_type`,
    `entity_id`, `entity_label`, `action`, `changes` as a dict, `created_at`)."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
    prev = connection.execute(
        sa.select(ENTRIES.c.chain_hash).order_by(ENTRIES.c.id.desc()).limit(1)
    ).scalar()
    for row in rows:
        row["changes"] = json.dumps(row["changes"], ensure_ascii=False, sort_keys=True)
        row["chain_hash"] = prev = entry_hash(row, prev)
    connection.execute(sa.insert(ENTRIES), rows)


@sa.event.listens_for(Session, "after_flush")
def _record_admin_changes(session: Session, flush_context) -> None:
    actor = session.info.get(_ACTOR)
    if actor is None:
        return
    found = _entries_of(session)
    if not found:
        return
    from ..core.clock import now

    at = now()
    actor_id, label, source = actor
    for row in found:
        row.update(actor_id=actor_id, actor_label=label, source=source, created_at=at)
    write_entries(session.connection(), found)


def verify_entries(connection) -> tuple[int, AdminAuditEntry | None, str | None]:
    """Check the admin chain; returns (entries checked, id of the first broken entry, reason)."""
    checked, prev, after = 0, None, 0
    while True:
        rows = connection.execute(
            sa.select(ENTRIES).where(ENTRIES.c.id > after).order_by(ENTRIES.c.id).limit(5000)
        ).all()
        for row in rows:
            checked += 1
            if row.chain_hash is None:
                return checked, row.id, "unsealed"
            if entry_hash(row._mapping, prev) != row.chain_hash:
                return checked, row.id, "altered"
            prev = row.chain_hash
        if len(rows) < 5000:
            return checked, None, None
        after = rows[-1].id


def forget_users(session: Session, user_ids: list[int]) -> int:
    """The anonymiser's part in the admin log: entries about these users (customer logins an
    admin created or changed) lose the names, addresses and values they hold; each entry's text
    digest is stored first, so the chain still verifies. Returns how many entries."""
    if not user_ids:
        return 0
    rows = session.execute(
        sa.select(ENTRIES.c.id, ENTRIES.c.actor_label, ENTRIES.c.entity_label, ENTRIES.c.changes)
        .where(ENTRIES.c.entity_type.in_(("user", "role")), ENTRIES.c.entity_id.in_(user_ids))
        .order_by(ENTRIES.c.id)
    ).all()
    if not rows:
        return 0
    values = []
    for row in rows:
        try:
            fields = sorted(json.loads(row.changes or "{}"))
        except ValueError:
            fields = []
        values.append(
            {
                "b_id": row.id,
                "b_label": "Anonymised",
                "b_changes": json.dumps(
                    {f: ["[anonymised]", "[anonymised]"] for f in fields}, sort_keys=True
                ),
                "b_digest": hashchain.text_digest(row.actor_label, row.entity_label, row.changes),
            }
        )
    session.execute(
        sa.update(ENTRIES)
        .where(ENTRIES.c.id == sa.bindparam("b_id"))
        .values(
            entity_label=sa.bindparam("b_label"),
            changes=sa.bindparam("b_changes"),
            text_digest=sa.func.coalesce(ENTRIES.c.text_digest, sa.bindparam("b_digest")),
        ),
        values,
    )
    return len(rows)
