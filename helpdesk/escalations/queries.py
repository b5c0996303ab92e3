"""Read-side queries of the supervision surface: the escalation queue (three tabs, filters, keyset
pages), a ticket's escalations, a user's notifications, the admin's list of escalation rules.

Every list is one indexed statement cut by a keyset cursor (never OFFSET) plus eager loads, so the
cost of a page does not grow with the table or with the rows shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..core.clock import as_utc
from ..core.cursors import DT, ID, Page, decode_cursor, encode_cursor
from ..core.errors import ValidationError
from ..extensions import db
from ..tickets.models import Ticket
from .models import Escalation, EscalationRule, Notification
from .services import visible_escalations_filter

# tab -> (condition, sort columns, descending)
TABS = ("open", "acknowledged", "closed")
COUNT_CAP = 99


@dataclass
class EscalationFilter:
    tab: str = "open"
    level: int | None = None
    department_id: int | None = None
    trigger: str | None = None
    protocol: str | None = None


def _tab_spec(tab: str):
    """The tab's condition and its order: undecided ones by acknowledgement deadline (oldest
    first, so the overdue ones lead), decided ones most recent first."""
    if tab == "open":
        return (
            sa.and_(Escalation.closed_at.is_(None), Escalation.acknowledged_at.is_(None)),
            [Escalation.ack_due_at, Escalation.id],
            False,
        )
    if tab == "acknowledged":
        return (
            sa.and_(Escalation.closed_at.is_(None), Escalation.acknowledged_at.is_not(None)),
            [Escalation.ack_due_at, Escalation.id],
            False,
        )
    if tab == "closed":
        return Escalation.closed_at.is_not(None), [Escalation.closed_at, Escalation.id], True
    raise ValidationError(_l("Unknown tab."), field="tab")


def _scope(stmt, user, flt: EscalationFilter):
    visible = visible_escalations_filter(user)
    if visible is not None:
        stmt = stmt.where(visible)
    if flt.level is not None:
        stmt = stmt.where(Escalation.level == flt.level)
    if flt.department_id is not None:
        stmt = stmt.where(Escalation.department_id == flt.department_id)
    if flt.trigger is not None:
        stmt = stmt.where(Escalation.trigger == flt.trigger)
    if flt.protocol is not None:
        stmt = stmt.where(
            Escalation.ticket_id.in_(sa.select(Ticket.id).where(Ticket.protocol == flt.protocol))
        )
    return stmt


def escalation_page(user, flt: EscalationFilter, *, cursor: str | None = None, limit: int = 50):
    """One page of a tab of the escalation queue, with the ticket, its department and assignee
    and the escalation's department loaded in the same statement."""
    condition, columns, desc = _tab_spec(flt.tab)
    stmt = _scope(sa.select(Escalation).where(condition), user, flt)
    if cursor:
        at, last_id = decode_cursor(cursor, (DT, ID))
        if desc:
            after = sa.or_(columns[0] < at, sa.and_(columns[0] == at, Escalation.id < last_id))
        else:
            after = sa.or_(columns[0] > at, sa.and_(columns[0] == at, Escalation.id > last_id))
        stmt = stmt.where(after)
    order = [c.desc() if desc else c.asc() for c in columns]
    stmt = (
        stmt.order_by(*order)
        .limit(limit + 1)
        .options(
            joinedload(Escalation.ticket).joinedload(Ticket.assignee),
            joinedload(Escalation.ticket).joinedload(Ticket.department),
            joinedload(Escalation.department),
        )
    )
    rows = list(db.session.scalars(stmt).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([as_utc(getattr(last, columns[0].key)), last.id])
    return Page(rows, next_cursor)


def tab_counts(user, flt: EscalationFilter) -> dict[str, str]:
    """Rows in each tab (with the same filters), counted up to COUNT_CAP, in one statement."""
    counts = []
    for tab in TABS:
        condition, _columns, _desc = _tab_spec(tab)
        inner = _scope(sa.select(Escalation.id).where(condition), user, flt).limit(COUNT_CAP + 1)
        counts.append(
            sa.select(sa.func.count()).select_from(inner.subquery()).scalar_subquery().label(tab)
        )
    row = db.session.execute(sa.select(*counts)).one()
    return {
        tab: f"{COUNT_CAP}+" if n > COUNT_CAP else str(n) for tab, n in zip(TABS, row, strict=True)
    }


def ticket_escalations(ticket) -> list[Escalation]:
    """A ticket's escalations, newest first, with the people named on them (one statement)."""
    return list(
        db.session.scalars(
            sa.select(Escalation)
            .where(Escalation.ticket_id == ticket.id)
            .order_by(Escalation.id.desc())
            .options(
                joinedload(Escalation.raised_by),
                joinedload(Escalation.acknowledged_by),
                joinedload(Escalation.decided_by),
                joinedload(Escalation.department),
            )
        ).unique()
    )


def load_escalation(escalation_id: int) -> Escalation | None:
    """One escalation with its ticket and what the detail page shows about it."""
    return db.session.scalar(
        sa.select(Escalation)
        .where(Escalation.id == escalation_id)
        .options(
            joinedload(Escalation.ticket).joinedload(Ticket.customer),
            joinedload(Escalation.ticket).joinedload(Ticket.department),
            joinedload(Escalation.ticket).joinedload(Ticket.assignee),
            joinedload(Escalation.department),
        )
    )


def notification_page(user, *, cursor: str | None = None, limit: int = 50) -> Page:
    """The user's notifications, newest first, with their ticket and escalation."""
    stmt = sa.select(Notification).where(Notification.user_id == user.id)
    if cursor:
        (last_id,) = decode_cursor(cursor, (ID,))
        stmt = stmt.where(Notification.id < last_id)
    stmt = (
        stmt.order_by(Notification.id.desc())
        .limit(limit + 1)
        .options(joinedload(Notification.ticket), joinedload(Notification.escalation))
    )
    rows = list(db.session.scalars(stmt).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].id])
    return Page(rows, next_cursor)


def rules_with_people() -> tuple[list[EscalationRule], dict[int, str]]:
    """The escalation rules in their order (with their departments and reassignee), and the names
    of the people they notify by id (one statement for all of them)."""
    rows = list(
        db.session.scalars(
            sa.select(EscalationRule)
            .options(
                selectinload(EscalationRule.department),
                selectinload(EscalationRule.reassign_department),
                selectinload(EscalationRule.reassign_user),
            )
            .order_by(EscalationRule.position, EscalationRule.id)
        )
    )
    wanted = {uid for rule in rows for uid in (rule.notify_user_ids or [])}
    people = (
        dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(wanted))).all())
        if wanted
        else {}
    )
    return rows, people
