"""Rule 6: records are kept at least the retention period after resolution (default 2 years,
`HELPDESK_RETENTION_DAYS`, never less than 2 years), then their personal data is anonymised. A legal
hold on the ticket or its customer stops it. Call recordings' references have their own, shorter
clock (`channels.calls.purge_recordings`, 90 days).

Set-based and in batches: a batch of ids is selected, anonymised with one UPDATE per registered
column and committed (`on_batch`), so a million-ticket database never holds a million ids.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..core.clock import now
from ..customers.models import Customer
from ..extensions import db
from ..tickets.models import Ticket
from .anonymise import anonymise_customer_ids, anonymise_ticket_ids

MIN_RETENTION_DAYS = 730
TERMINAL = ("resolved", "closed")


def retention_days() -> int:
    return max(
        MIN_RETENTION_DAYS, int(current_app.config.get("RETENTION_DAYS", MIN_RETENTION_DAYS))
    )


def cutoff():
    return now() - timedelta(days=retention_days())


def _ended():
    return sa.func.coalesce(Ticket.closed_at, Ticket.resolved_at)


def expired_tickets(limit: int | None = None, after: int = 0):
    """Tickets resolved before the cutoff, not held, not yet anonymised, customer not held."""
    query = (
        sa.select(Ticket.id)
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(
            Ticket.status.in_(TERMINAL),
            _ended() < cutoff(),
            Ticket.legal_hold.is_(False),
            Ticket.anonymised_at.is_(None),
            Customer.legal_hold.is_(False),
            Ticket.id > after,
        )
        .order_by(Ticket.id)
    )
    return query.limit(limit) if limit else query


def expired_customers(limit: int | None = None, after: int = 0):
    """Customers not held, not yet anonymised, created before the cutoff, with no ticket still
    inside its period (open, resolved recently, or held)."""
    live = sa.select(Ticket.id).where(
        Ticket.customer_id == Customer.id,
        sa.or_(
            Ticket.status.not_in(TERMINAL),
            _ended() >= cutoff(),
            _ended().is_(None),
            Ticket.legal_hold.is_(True),
        ),
    )
    query = (
        sa.select(Customer.id)
        .where(
            Customer.legal_hold.is_(False),
            Customer.anonymised_at.is_(None),
            Customer.created_at < cutoff(),
            ~sa.exists(live),
            Customer.id > after,
        )
        .order_by(Customer.id)
    )
    return query.limit(limit) if limit else query


def _count(query) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def run_retention(*, dry_run: bool = False, batch: int = 1000, on_batch=None) -> dict:
    """Anonymise what has passed its period; `dry_run` only counts. Returns the counts."""
    if dry_run:
        return {
            "tickets": _count(expired_tickets()),
            "customers": _count(expired_customers()),
            "dry_run": True,
        }
    totals = {"tickets": 0, "customers": 0, "attachments": 0, "dry_run": False}
    for key, expired, anonymise in (
        ("tickets", expired_tickets, anonymise_ticket_ids),
        ("customers", expired_customers, anonymise_customer_ids),
    ):
        last = 0  # keyset: each batch starts after the previous one (no rescan of what is done)
        while ids := list(db.session.scalars(expired(batch, after=last))):
            last = ids[-1]
            result = anonymise(ids)
            totals[key] += result[key]
            totals["attachments"] += result["attachments"]
            if on_batch:
                on_batch()
    return totals
