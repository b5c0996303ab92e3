"""SLA reports for supervisors: what is about to breach (the board) and compliance per department.

Both are set-based: counts come from GROUP BY in SQL (never a loop over tickets), lists are cut by
LIMIT, so the cost follows the rows that matter, not the size of the tables.

"Running" means a target not met and not paused. A target is *breached* when it has a breach
written by the sweep, or when it is running and its due instant has passed (the same rule as
`services.sla_state`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..extensions import db
from ..tickets.models import OPEN_STATUSES, Ticket
from .models import SLA_TARGETS, TicketSla

BOARD_LIST_LIMIT = 200


@dataclass
class BoardCount:
    key: int | None  # department id or assignee id (None: unassigned)
    name: str
    breached: int
    soon: int


@dataclass
class Board:
    at: datetime
    until: datetime
    departments: list[BoardCount]
    agents: list[BoardCount]
    rows: list[TicketSla]
    total: int  # targets on the board (the list shows at most BOARD_LIST_LIMIT)


def _board_condition(at: datetime, until: datetime, department_ids):
    cond = [
        TicketSla.met_at.is_(None),
        TicketSla.paused_at.is_(None),
        TicketSla.due_at <= until,
        Ticket.status.in_(OPEN_STATUSES),
    ]
    if department_ids is not None:
        cond.append(Ticket.department_id.in_(list(department_ids) or [-1]))
    return cond


def about_to_breach(at: datetime, hours: int, department_ids=None) -> Board:
    """Running targets due within `hours` of `at`, and those already breached, limited to
    `department_ids` (None: every department). Counts are of tickets per department and per
    assignee (a ticket with two targets on the board counts once in each column it is in)."""
    from ..accounts.models import Department

    until = at + timedelta(hours=hours)
    cond = _board_condition(at, until, department_ids)
    breached = sa.func.count(sa.distinct(sa.case((TicketSla.due_at <= at, TicketSla.ticket_id))))
    soon = sa.func.count(sa.distinct(sa.case((TicketSla.due_at > at, TicketSla.ticket_id))))
    base = sa.select().select_from(TicketSla).join(Ticket, Ticket.id == TicketSla.ticket_id)

    per_department = db.session.execute(
        base.add_columns(Department.id, Department.name, breached, soon)
        .join(Department, Department.id == Ticket.department_id)
        .where(*cond)
        .group_by(Department.id, Department.name)
        .order_by(Department.name)
    ).all()
    per_agent = db.session.execute(
        base.add_columns(User.id, User.name, breached, soon)
        .outerjoin(User, User.id == Ticket.assignee_id)
        .where(*cond)
        .group_by(User.id, User.name)
        .order_by(User.name)
    ).all()
    total = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(TicketSla)
        .join(Ticket, Ticket.id == TicketSla.ticket_id)
        .where(*cond)
    )
    rows = list(
        db.session.scalars(
            sa.select(TicketSla)
            .join(Ticket, Ticket.id == TicketSla.ticket_id)
            .where(*cond)
            .order_by(TicketSla.due_at, TicketSla.id)
            .limit(BOARD_LIST_LIMIT)
            .options(
                joinedload(TicketSla.ticket).joinedload(Ticket.department),
                joinedload(TicketSla.ticket).joinedload(Ticket.assignee),
            )
        ).unique()
    )
    agents = [BoardCount(uid, name or "", b, s) for uid, name, b, s in per_agent]
    agents.sort(key=lambda c: (c.key is None, -(c.breached + c.soon), c.name))
    return Board(
        at=at,
        until=until,
        departments=[BoardCount(d, name, b, s) for d, name, b, s in per_department],
        agents=agents,
        rows=rows,
        total=total or 0,
    )


# compliance ---------------------------------------------------------------------------------------


@dataclass
class Compliance:
    """Outcome of the targets of one department and one target kind in a period."""

    on_time: int = 0
    late: int = 0
    breached_open: int = 0

    @property
    def counted(self) -> int:
        return self.on_time + self.late + self.breached_open

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.on_time / self.counted, 1) if self.counted else None


@dataclass
class DepartmentCompliance:
    department_id: int
    name: str
    targets: dict[str, Compliance] = field(default_factory=dict)


def compliance(
    start: datetime, end: datetime, at: datetime, department_ids=None
) -> dict[int, dict[str, Compliance]]:
    """Per department (the ticket's current one) and target: targets due in [start, end) that
    were met on time, met late, or breached and still open at `at`. Targets still running and not
    due yet are not counted. One statement, grouped in SQL."""
    on_time = sa.func.sum(
        sa.case(
            (sa.and_(TicketSla.met_at.is_not(None), TicketSla.met_at <= TicketSla.due_at), 1),
            else_=0,
        )
    )
    late = sa.func.sum(
        sa.case(
            (sa.and_(TicketSla.met_at.is_not(None), TicketSla.met_at > TicketSla.due_at), 1),
            else_=0,
        )
    )
    breached_open = sa.func.sum(
        sa.case(
            (
                sa.and_(
                    TicketSla.met_at.is_(None),
                    sa.or_(
                        TicketSla.breached_at.is_not(None),
                        sa.and_(TicketSla.paused_at.is_(None), TicketSla.due_at <= at),
                    ),
                ),
                1,
            ),
            else_=0,
        )
    )
    stmt = (
        sa.select(Ticket.department_id, TicketSla.target, on_time, late, breached_open)
        .select_from(TicketSla)
        .join(Ticket, Ticket.id == TicketSla.ticket_id)
        .where(TicketSla.due_at >= start, TicketSla.due_at < end)
        .group_by(Ticket.department_id, TicketSla.target)
    )
    if department_ids is not None:
        stmt = stmt.where(Ticket.department_id.in_(list(department_ids) or [-1]))
    result: dict[int, dict[str, Compliance]] = {}
    for department_id, target, ok, lt, br in db.session.execute(stmt):
        if target not in SLA_TARGETS:
            continue
        result.setdefault(department_id, {})[target] = Compliance(
            int(ok or 0), int(lt or 0), int(br or 0)
        )
    return result
