"""Merge two customer records found to be the same person (customer 360).

Everything that points at the duplicate moves to the kept record in the caller's transaction:
demands, emails, phones, calls, contact handles, conversations, surveys, the record's events,
history requests, records merged into it before. The rows are found from the schema (every
foreign key to `customers.id`), so a table added later moves too without touching this module.
One UPDATE per referencing table, one event per moved demand (`customer_merged`, written in one
statement through `tickets.events.record_events`), the search rows of the moved demands rebuilt.

The duplicate is kept, marked merged (`merged_into_id`, `merged_at`), with a `merged_into`
event; the kept record gets a `merged` event (who, which record). Its own values win; what it
lacks (document, login, language, relationship fields, notes, dates) is taken from the
duplicate; key account and at-risk carry over.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core.clock import now
from ..core.errors import Conflict, ValidationError
from ..extensions import db
from ..feedback.services import recount_topics_of
from ..search.indexer import index_tickets
from ..tickets.events import event_row, record_events
from ..tickets.models import Ticket
from .models import Customer, CustomerEvent

log = logging.getLogger(__name__)

# taken from the duplicate when the kept record has none
_FILLED = (
    "relationship_type",
    "lifecycle_stage",
    "value_tier",
    "preferred_channel",
    "locale",
    "key_account_agent_id",
)
_APPENDED = ("customer_notes", "customer_important_dates")


def _referencing_columns() -> list[sa.Column]:
    """Every column of the schema with a foreign key to customers.id."""
    target = Customer.__table__.c.id
    return [
        fk.parent
        for table in db.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column is target
    ]


def merge_customers(kept: Customer, duplicate: Customer, actor: User) -> dict:
    """Move the duplicate's history onto `kept` and mark it merged. Returns what moved (rows per
    table). Raises ValidationError / Conflict when the two cannot be merged."""
    if kept.id == duplicate.id:
        raise ValidationError(_l("Choose another record: a record cannot be merged into itself."))
    # both rows locked (in id order: no deadlock) and read again, so two supervisors merging the
    # same pair at once (or A into B and B into A) see each other's result. SQLite has no row
    # locks and reads outside a transaction until the first write: a no-op write takes its one
    # writer lock first, so the reads below see the other merge once it committed.
    pair = (kept.id, duplicate.id)
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            sa.update(Customer).where(Customer.id.in_(pair)).values(id=Customer.id),
            execution_options={"synchronize_session": False},
        )
    db.session.scalars(
        sa.select(Customer)
        .where(Customer.id.in_(pair))
        .order_by(Customer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    if duplicate.merged_into_id is not None or kept.merged_into_id is not None:
        raise Conflict(_l("This record was already merged into another one."))
    if kept.anonymised_at is not None or duplicate.anonymised_at is not None:
        raise Conflict(_l("An anonymised record cannot be merged."))
    if kept.user_id and duplicate.user_id:
        raise Conflict(
            _l("Both records have a portal login: a person keeps one login, so merge them by hand.")
        )
    if kept.legal_hold != duplicate.legal_hold:
        kept.legal_hold = True  # a hold is never lost by merging
    at = now()
    ticket_ids = list(
        db.session.scalars(sa.select(Ticket.id).where(Ticket.customer_id == duplicate.id))
    )
    login, document = duplicate.user_id, duplicate.document
    duplicate.user_id = None
    duplicate.document = None
    db.session.flush()  # the unique login and document are free before the kept record takes them
    moved: dict[str, int] = {}
    for column in _referencing_columns():
        if column.table is Customer.__table__:
            stmt = sa.update(column.table).where(
                column == duplicate.id, column.table.c.id != kept.id
            )
        else:
            stmt = sa.update(column.table).where(column == duplicate.id)
        count = db.session.execute(
            stmt.values({column.name: kept.id}), execution_options={"synchronize_session": False}
        ).rowcount
        if count:
            moved[column.table.name] = count
    if kept.user_id is None and login:
        kept.user_id = login
    if not kept.document and document:
        kept.document = document
    for field in _FILLED:
        if getattr(kept, field) is None and getattr(duplicate, field) is not None:
            setattr(kept, field, getattr(duplicate, field))
    for field in _APPENDED:
        extra = getattr(duplicate, field)
        if extra and extra not in getattr(kept, field):
            setattr(kept, field, "\n".join(v for v in (getattr(kept, field), extra) if v))
    kept.is_key_account = kept.is_key_account or duplicate.is_key_account
    risks = [d for d in (kept.at_risk_since, duplicate.at_risk_since) if d is not None]
    kept.at_risk_since = min(risks) if risks else None
    duplicate.merged_into_id = kept.id
    duplicate.merged_at = at
    db.session.add_all(
        [
            CustomerEvent(
                customer_id=kept.id,
                actor_id=actor.id,
                action="merged",
                field="customer",
                old_value=duplicate.name,
                new_value=str(duplicate.id),
                created_at=at,
            ),
            CustomerEvent(
                customer_id=duplicate.id,
                actor_id=actor.id,
                action="merged_into",
                field="customer",
                old_value=duplicate.name,
                new_value=str(kept.id),
                created_at=at,
            ),
        ]
    )
    record_events(
        event_row(
            ticket_id,
            "customer_merged",
            at,
            field="customer",
            old=duplicate.name,
            new=kept.name,
            actor_id=actor.id,
        )
        for ticket_id in ticket_ids
    )
    if ticket_ids:
        db.session.execute(
            sa.update(Ticket).where(Ticket.id.in_(ticket_ids)).values(updated_at=at),
            execution_options={"synchronize_session": False},
        )
    db.session.flush()
    if moved.get("feedback_items"):
        recount_topics_of(kept.id)
    index_tickets(db.session.connection(), ticket_ids)
    # what the session holds of the moved rows is stale now
    db.session.expire_all()
    log.info(
        "Customer %s merged into %s by user %s: %s",
        duplicate.id,
        kept.id,
        actor.id,
        ", ".join(f"{name} {count}" for name, count in sorted(moved.items())) or "nothing moved",
    )
    return moved


def merge_candidates(kept: Customer, query: str, limit: int = 10) -> list[Customer]:
    """Records a supervisor may merge into `kept`, found by email or CPF/CNPJ (exact, normalised:
    a wrong value raises ValidationError on `q`)."""
    from .documents import digits
    from .services import find_customers

    query = (query or "").strip()
    if not query:
        return []
    try:
        if "@" in query:
            found = find_customers(email=query, limit=limit)
        elif digits(query):
            found = find_customers(document=query, limit=limit)
        else:
            raise ValidationError(_l("Give an email address or a CPF/CNPJ."), field="q")
    except ValidationError as exc:
        exc.field = "q"
        raise
    return [c for c in found if c.id != kept.id and c.merged_into_id is None]
