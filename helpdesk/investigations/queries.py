"""Reading investigations: by number, a ticket's link, open and overdue actions, the Ishikawa
sub-categories, the detail page's loading and the console list with its per-row counts.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..core.errors import NotFound
from ..core.text import ascii_digits
from ..customers.models import Customer
from ..extensions import db
from ..tickets.models import Ticket
from .dates import today
from .models import (
    ACTIVE_STATUSES,
    CapaAction,
    Investigation,
    InvestigationEvent,
    InvestigationTicket,
    InvestigationWhy,
    IshikawaSubcategory,
)


def get_by_number(number: str) -> Investigation:
    value = (number or "").strip().upper()
    if ascii_digits(value):
        value = f"INV-{int(value):05d}"
    inv = db.session.scalar(sa.select(Investigation).where(Investigation.number == value))
    if inv is None:
        raise NotFound(_l("No investigation has this number."), field="number")
    return inv


def link_of(ticket: Ticket) -> InvestigationTicket | None:
    return db.session.scalar(
        sa.select(InvestigationTicket)
        .where(InvestigationTicket.ticket_id == ticket.id)
        .options(joinedload(InvestigationTicket.investigation))
    )


def recurrence_count(inv: Investigation) -> int:
    return sum(1 for link in inv.links if link.is_recurrence)


def overdue_actions_query(owner_id: int | None = None):
    stmt = (
        sa.select(CapaAction)
        .where(CapaAction.status == "open", CapaAction.due_on < today())
        .options(joinedload(CapaAction.investigation), joinedload(CapaAction.owner))
        .order_by(CapaAction.due_on, CapaAction.id)
    )
    if owner_id is not None:
        stmt = stmt.where(CapaAction.owner_id == owner_id)
    return stmt


def open_actions_of(user: User) -> list[CapaAction]:
    return list(
        db.session.scalars(
            sa.select(CapaAction)
            .where(CapaAction.status == "open", CapaAction.owner_id == user.id)
            .options(joinedload(CapaAction.investigation))
            .order_by(CapaAction.due_on, CapaAction.id)
        )
    )


def subcategories(active_only: bool = True) -> list[IshikawaSubcategory]:
    stmt = sa.select(IshikawaSubcategory).order_by(
        IshikawaSubcategory.category, IshikawaSubcategory.name
    )
    if active_only:
        stmt = stmt.where(IshikawaSubcategory.active.is_(True))
    return list(db.session.scalars(stmt))


def load_full(inv_id: int) -> Investigation:
    """The investigation with everything its page shows, in a fixed number of statements."""
    return db.session.scalars(
        sa.select(Investigation)
        .where(Investigation.id == inv_id)
        .options(
            joinedload(Investigation.owner),
            joinedload(Investigation.department),
            joinedload(Investigation.category),
            joinedload(Investigation.subcategory),
            selectinload(Investigation.links).options(
                joinedload(InvestigationTicket.ticket).options(
                    joinedload(Ticket.customer).joinedload(Customer.user),
                    joinedload(Ticket.department),
                ),
            ),
            selectinload(Investigation.whys).joinedload(InvestigationWhy.author),
            selectinload(Investigation.actions).options(
                joinedload(CapaAction.owner), joinedload(CapaAction.proposed_by)
            ),
            selectinload(Investigation.events).joinedload(InvestigationEvent.actor),
        )
    ).one()


# the console list -----------------------------------------------------------------------------


def investigation_page(
    *, show: str, owner_id: int | None = None, before_id: int | None = None, size: int = 30
) -> tuple[list[Investigation], bool]:
    """One page of the list, newest first: `show` is "active", "all" or a status; `owner_id` keeps
    one owner's; `before_id` is the cursor (ids below it). Returns (rows, whether more follow)."""
    stmt = (
        sa.select(Investigation)
        .options(joinedload(Investigation.owner))
        .order_by(Investigation.id.desc())
        .limit(size + 1)
    )
    if show == "active":
        stmt = stmt.where(Investigation.status.in_(ACTIVE_STATUSES))
    elif show != "all":
        stmt = stmt.where(Investigation.status == show)
    if owner_id is not None:
        stmt = stmt.where(Investigation.owner_id == owner_id)
    if before_id is not None:
        stmt = stmt.where(Investigation.id < before_id)
    rows = list(db.session.scalars(stmt))
    return rows[:size], len(rows) > size


def page_counts(ids: list[int]) -> dict[int, dict[str, int]]:
    """Per investigation of a page: linked tickets, recurrences, open and overdue actions (two
    statements whatever the page size); ids without any are absent."""
    stats: dict[int, dict[str, int]] = {}
    if not ids:
        return stats
    for inv_id, linked, recurrences in db.session.execute(
        sa.select(
            InvestigationTicket.investigation_id,
            sa.func.count(InvestigationTicket.id),
            sa.func.sum(sa.case((InvestigationTicket.is_recurrence, 1), else_=0)),
        )
        .where(InvestigationTicket.investigation_id.in_(ids))
        .group_by(InvestigationTicket.investigation_id)
    ):
        stats.setdefault(inv_id, {})
        stats[inv_id].update(linked=linked, recurrences=int(recurrences or 0))
    for inv_id, open_count, overdue in db.session.execute(
        sa.select(
            CapaAction.investigation_id,
            sa.func.count(CapaAction.id),
            sa.func.sum(sa.case((CapaAction.due_on < today(), 1), else_=0)),
        )
        .where(CapaAction.investigation_id.in_(ids), CapaAction.status == "open")
        .group_by(CapaAction.investigation_id)
    ):
        stats.setdefault(inv_id, {})
        stats[inv_id].update(open_actions=open_count, overdue=int(overdue or 0))
    return stats
