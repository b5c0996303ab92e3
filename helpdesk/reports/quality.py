"""How well demands are served: SLA compliance, reopen rate, CSAT and survey response rate (by
department, agent and category), the share resolved by the customer's own word, the share that
reached the ombudsman, and recurrence after an investigation's fix.

Demands registered in the period, except SLA compliance (targets due in the period) and recurrence
(investigations whose fix falls in the period). Each report is a fixed number of statements.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..accounts.models import Department, User
from ..core.clock import as_utc
from ..escalations.models import OMBUDSMAN_LEVEL, Escalation
from ..extensions import db
from ..investigations.models import CapaAction, Investigation
from ..sla.models import SLA_TARGETS, TicketSla
from ..tickets.models import Category, Ticket, TicketEvent
from .params import Params
from .registry import Chart, Column, Report, register
from .sql import drill, local_hours, ticket_conditions, utc_hour

REGISTERED = _l("Demands registered in the period.")
TARGET_LABELS = {
    "first_response": _l("First response"),
    "next_response": _l("Next response"),
    "resolution": _l("Resolution"),
}
RECURRENCE_WINDOW_DAYS = 90


def _share(part, whole) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _sum(condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _departments(ids) -> dict[int, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    stmt = sa.select(Department.id, Department.name).where(Department.id.in_(ids))
    return dict(db.session.execute(stmt).all())


# SLA compliance -----------------------------------------------------------------------------------


def _sla(p: Params) -> list[dict]:
    """Per department and target: targets due in the period met on time, met late, or breached
    (not met, and due before now)."""
    met = TicketSla.met_at.is_not(None)
    conditions = [TicketSla.due_at >= p.start, TicketSla.due_at < p.end]
    ids = p.department_ids
    if ids is not None:
        conditions.append(Ticket.department_id.in_(ids or [-1]))
    if p.channel:
        conditions.append(Ticket.channel == p.channel)
    if p.kind:
        conditions.append(Ticket.kind == p.kind)
    stmt = (
        sa.select(
            Ticket.department_id,
            TicketSla.target,
            _sum(sa.and_(met, TicketSla.met_at <= TicketSla.due_at)),
            _sum(sa.and_(met, TicketSla.met_at > TicketSla.due_at)),
            _sum(
                sa.and_(
                    TicketSla.met_at.is_(None),
                    sa.or_(
                        TicketSla.breached_at.is_not(None),
                        sa.and_(TicketSla.paused_at.is_(None), TicketSla.due_at <= p.at),
                    ),
                )
            ),
        )
        .select_from(TicketSla)
        .join(Ticket, Ticket.id == TicketSla.ticket_id)
        .where(*conditions)
        .group_by(Ticket.department_id, TicketSla.target)
    )
    found = db.session.execute(stmt).all()
    names = _departments(r[0] for r in found)
    rows = []
    for dept_id, target, on_time, late, breached in found:
        if target not in SLA_TARGETS or not (on_time or late or breached):
            continue
        rows.append(
            {
                "key": f"{dept_id}:{target}",
                "label": f"{names.get(dept_id, '?')} · {TARGET_LABELS[target]}",
                "on_time": int(on_time),
                "late": int(late),
                "breached": int(breached),
                "compliance": _share(int(on_time), int(on_time) + int(late) + int(breached)),
                "drill": None,
                "_order": (names.get(dept_id, ""), SLA_TARGETS.index(target)),
            }
        )
    rows.sort(key=lambda r: r.pop("_order"))
    return rows


# reopen rate --------------------------------------------------------------------------------------


def _reopen(p: Params) -> list[dict]:
    reopened_ids = sa.select(TicketEvent.ticket_id).where(
        TicketEvent.action == "status",
        TicketEvent.new_value == "reopened",
        TicketEvent.created_at >= p.start,
    )
    reopened = Ticket.id.in_(reopened_ids)
    stmt = (
        sa.select(
            Ticket.department_id,
            _sum(sa.or_(Ticket.resolved_at.is_not(None), reopened)),
            _sum(reopened),
        )
        .where(*ticket_conditions(p))
        .group_by(Ticket.department_id)
    )
    found = db.session.execute(stmt).all()
    names = _departments(r[0] for r in found)
    rows = [
        {
            "key": dept_id,
            "label": names.get(dept_id, "?"),
            "resolved": int(resolved),
            "reopened": int(again),
            "rate": _share(int(again), int(resolved)),
            "drill": drill(p, department=dept_id),
        }
        for dept_id, resolved, again in found
        if resolved
    ]
    return sorted(rows, key=lambda r: r["label"])


# CSAT and response rate ---------------------------------------------------------------------------


def _csat_rows(p: Params, key, labels, drill_key: str | None) -> list[dict]:
    rated = Ticket.rating.is_not(None)
    stmt = (
        sa.select(
            key,
            _sum(Ticket.resolved_at.is_not(None)),
            _sum(rated),
            _sum(sa.and_(rated, Ticket.rating >= 4)),
        )
        .where(*ticket_conditions(p))
        .group_by(key)
    )
    found = db.session.execute(stmt).all()
    names = labels([r[0] for r in found])
    rows = []
    for k, resolved, n_rated, satisfied in found:
        resolved, n_rated, satisfied = int(resolved), int(n_rated), int(satisfied)
        if not (resolved or n_rated):
            continue
        rows.append(
            {
                "key": k,
                "label": names.get(k)
                or str(_l("Nobody") if drill_key == "assignee" else _l("No category")),
                "resolved": resolved,
                "rated": n_rated,
                "satisfied": satisfied,
                "csat": _share(satisfied, n_rated),
                "response_rate": _share(n_rated, max(resolved, n_rated)),
                "drill": drill(p, **{drill_key: k})
                if drill_key and k is not None and drill_key != "assignee"
                else None,
            }
        )
    return sorted(rows, key=lambda r: (-(r["rated"]), r["label"]))


def _agents(ids) -> dict[int, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())


def _categories(ids) -> dict[int, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    locale = str(get_locale() or "")
    found = db.session.scalars(sa.select(Category).where(Category.id.in_(ids)))
    return {c.id: c.label(locale) for c in found}


def _csat_builder(key, labels, drill_key):
    return lambda p: _csat_rows(p, key, labels, drill_key)


CSAT_COLUMNS = (
    Column("resolved", _l("Resolved")),
    Column("rated", _l("Rated")),
    Column("satisfied", _l("Rated 4 or 5")),
    Column("csat", _l("CSAT"), "percent"),
    Column("response_rate", _l("Response rate"), "percent"),
)


# the customer's word, the ombudsman -----------------------------------------------------------------


def _verdicts(p: Params) -> list[dict]:
    stmt = (
        sa.select(
            Ticket.department_id,
            _sum(Ticket.customer_verdict.is_not(None)),
            _sum(Ticket.customer_verdict == "resolved"),
        )
        .where(*ticket_conditions(p))
        .group_by(Ticket.department_id)
    )
    found = db.session.execute(stmt).all()
    names = _departments(r[0] for r in found)
    rows = [
        {
            "key": dept_id,
            "label": names.get(dept_id, "?"),
            "answered": int(answered),
            "resolved": int(resolved),
            "not_resolved": int(answered) - int(resolved),
            "share": _share(int(resolved), int(answered)),
            "drill": drill(p, department=dept_id),
        }
        for dept_id, answered, resolved in found
        if answered
    ]
    return sorted(rows, key=lambda r: r["label"])


def _ombudsman(p: Params) -> list[dict]:
    reached_ids = sa.select(Escalation.ticket_id).where(Escalation.level >= OMBUDSMAN_LEVEL)
    stmt = (
        sa.select(Ticket.department_id, sa.func.count(), _sum(Ticket.id.in_(reached_ids)))
        .where(*ticket_conditions(p))
        .group_by(Ticket.department_id)
    )
    found = db.session.execute(stmt).all()
    names = _departments(r[0] for r in found)
    rows = [
        {
            "key": dept_id,
            "label": names.get(dept_id, "?"),
            "count": int(total),
            "ombudsman": int(reached),
            "share": _share(int(reached), int(total)),
            "drill": drill(p, department=dept_id),
        }
        for dept_id, total, reached in found
    ]
    return sorted(rows, key=lambda r: r["label"])


# recurrence after a fix ---------------------------------------------------------------------------


def fix_instant():
    """When an investigation's problem was fixed: its last corrective action done, else its
    closing (a correlated subquery, one per statement)."""
    done = (
        sa.select(sa.func.max(CapaAction.done_at))
        .where(
            CapaAction.investigation_id == Investigation.id,
            CapaAction.kind == "corrective",
            CapaAction.status == "done",
        )
        .scalar_subquery()
    )
    return sa.func.coalesce(done, Investigation.closed_at)


def _recurrence(p: Params) -> list[dict]:
    """Investigations fixed in the period: demands of their category registered in the
    `RECURRENCE_WINDOW_DAYS` days before the fix day and in as many days from it (fewer when the
    fix is recent: both windows are cut to the days since the fix)."""
    fixed = fix_instant().label("fixed")
    found = db.session.execute(
        sa.select(
            Investigation.id,
            Investigation.number,
            Investigation.title,
            Investigation.category_id,
            fixed,
        )
        .where(Investigation.category_id.is_not(None), fixed >= p.start, fixed < p.end)
        .order_by(fixed, Investigation.id)
        .limit(200)
    ).all()
    if not found:
        return []
    today = p.at.astimezone(p.zone).date()
    plans = []
    for inv_id, number, title, category_id, at in found:
        fix_day = as_utc(at).astimezone(p.zone).date()
        window = max(min(RECURRENCE_WINDOW_DAYS, (today - fix_day).days), 1)
        plans.append((inv_id, number, title, category_id, fix_day, window))
    lo = min(day - timedelta(days=w) for *_x, day, w in plans)
    hi = max(day + timedelta(days=w) for *_x, day, w in plans)
    scope = Params(lo, hi, p.zone, p.at, p.scope, p.department_id, p.channel, p.kind, p.locale)
    hour = utc_hour(Ticket.created_at)
    categories = {plan[3] for plan in plans}
    per_day: dict[tuple[int, object], int] = {}
    stmt = (
        sa.select(Ticket.category_id, hour, sa.func.count())
        .where(*ticket_conditions(scope), Ticket.category_id.in_(categories))
        .group_by(Ticket.category_id, hour)
    )
    local = local_hours(p.zone)
    for category_id, h, n in db.session.execute(stmt):
        day = local(h).date()
        per_day[(category_id, day)] = per_day.get((category_id, day), 0) + n
    names = _categories(categories)
    rows = []
    for inv_id, number, title, category_id, fix_day, window in plans:
        before = sum(
            n
            for (c, d), n in per_day.items()
            if c == category_id and fix_day - timedelta(days=window) <= d < fix_day
        )
        after = sum(
            n
            for (c, d), n in per_day.items()
            if c == category_id and fix_day <= d < fix_day + timedelta(days=window)
        )
        rows.append(
            {
                "key": number or str(inv_id),
                "label": f"{number or ''} {title}".strip(),
                "category": names.get(category_id, ""),
                "fixed_on": fix_day.isoformat(),
                "days": window,
                "before": before,
                "after": after,
                "change": None if not before else round(100.0 * (after - before) / before, 1),
                "drill": drill(
                    p,
                    category=category_id,
                    **{
                        "from": (fix_day - timedelta(days=window)).isoformat(),
                        "to": (fix_day + timedelta(days=window - 1)).isoformat(),
                    },
                ),
            }
        )
    return rows


# the registry -------------------------------------------------------------------------------------

register(
    Report(
        "sla_compliance",
        _l("SLA compliance"),
        _l("Deadlines met on time, met late, or breached, per department and target."),
        "quality",
        (
            Column("label", _l("Department and target"), "text"),
            Column("on_time", _l("Met on time")),
            Column("late", _l("Met late")),
            Column("breached", _l("Breached, not met")),
            Column("compliance", _l("Compliance"), "percent"),
        ),
        Chart("stacked", ("on_time", "late", "breached")),
        _sla,
        _l("Deadlines due in the period (not yet due: not counted)."),
    )
)
register(
    Report(
        "reopen_rate",
        _l("Reopen rate"),
        _l("Resolved demands that were reopened (by the customer or an agent)."),
        "quality",
        (
            Column("label", _l("Department"), "text"),
            Column("resolved", _l("Resolved")),
            Column("reopened", _l("Reopened")),
            Column("rate", _l("Reopen rate"), "percent"),
        ),
        Chart("bar", ("rate",), "percent"),
        _reopen,
        REGISTERED,
    )
)
for name, title, label, key, labels, drill_key in (
    (
        "csat_by_department",
        _l("CSAT by department"),
        _l("Department"),
        Ticket.department_id,
        _departments,
        "department",
    ),
    ("csat_by_agent", _l("CSAT by agent"), _l("Agent"), Ticket.assignee_id, _agents, "assignee"),
    (
        "csat_by_category",
        _l("CSAT by category"),
        _l("Category"),
        Ticket.category_id,
        _categories,
        "category",
    ),
):
    register(
        Report(
            name,
            title,
            _l(
                "Share of ratings of 4 or 5 among the ratings (CSAT), and rated demands among the resolved (response rate)."
            ),
            "quality",
            (Column("label", label, "text"), *CSAT_COLUMNS),
            Chart("bar", ("csat",), "percent"),
            _csat_builder(key, labels, drill_key),
            REGISTERED,
        )
    )
register(
    Report(
        "customer_verdict",
        _l("Resolved in the customer's own word"),
        _l(
            "Of the customers who answered whether their demand was resolved, the share who said yes."
        ),
        "quality",
        (
            Column("label", _l("Department"), "text"),
            Column("answered", _l("Answered")),
            Column("resolved", _l("Said resolved")),
            Column("not_resolved", _l("Said not resolved")),
            Column("share", _l("Resolved in their word"), "percent"),
        ),
        Chart("bar", ("share",), "percent"),
        _verdicts,
        REGISTERED,
    )
)
register(
    Report(
        "ombudsman",
        _l("Reached the ombudsman"),
        _l("Demands that went to the ombudsman (second instance)."),
        "quality",
        (
            Column("label", _l("Department"), "text"),
            Column("count", _l("Demands")),
            Column("ombudsman", _l("At the ombudsman")),
            Column("share", _l("Share"), "percent"),
        ),
        Chart("bar", ("share",), "percent"),
        _ombudsman,
        REGISTERED,
    )
)
register(
    Report(
        "recurrence",
        _l("Recurrence after a fix"),
        _l(
            "Demands of an investigation's category before and after its fix (last corrective action done, or closing), over the same number of days."
        ),
        "quality",
        (
            Column("label", _l("Investigation"), "text"),
            Column("category", _l("Category"), "text"),
            Column("fixed_on", _l("Fixed on"), "date"),
            Column("days", _l("Days compared")),
            Column("before", _l("Before the fix")),
            Column("after", _l("After the fix")),
            Column("change", _l("Change"), "percent"),
        ),
        Chart("grouped", ("before", "after")),
        _recurrence,
        _l("Investigations whose fix falls in the period."),
    )
)
