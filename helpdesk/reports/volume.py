"""Volume reports (demands registered in the period, by channel, kind, category, department, day
and hour) and the backlog by age. Each is one grouped statement."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..accounts.models import Department
from ..core.formatting import local_date
from ..extensions import db
from ..tickets.models import CHANNEL_LABELS, KIND_LABELS, KINDS, OPEN_STATUSES, Category, Ticket
from .params import Params
from .registry import Chart, Column, Report, register
from .sql import drill, local_hours, ticket_conditions, utc_hour

REGISTERED = _l("Demands registered in the period.")
COUNT = Column("count", _l("Demands"))
KIND_COLUMNS = tuple(Column(k, KIND_LABELS[k]) for k in KINDS)
TOTAL = Column("total", _l("Total"))


def _count_by(column, p: Params) -> list[tuple]:
    stmt = (
        sa.select(column, sa.func.count())
        .select_from(Ticket)
        .where(*ticket_conditions(p))
        .group_by(column)
    )
    return sorted(db.session.execute(stmt).all(), key=lambda r: (-r[1], str(r[0])))


def _by_channel(p: Params) -> list[dict]:
    return [
        {
            "key": ch,
            "label": str(CHANNEL_LABELS.get(ch, ch)),
            "count": n,
            "drill": drill(p, channel=ch),
        }
        for ch, n in _count_by(Ticket.channel, p)
    ]


def _by_kind(p: Params) -> list[dict]:
    return [
        {"key": k, "label": str(KIND_LABELS.get(k, k)), "count": n, "drill": drill(p, kind=k)}
        for k, n in _count_by(Ticket.kind, p)
    ]


def _by_category(p: Params) -> list[dict]:
    counts = _count_by(Ticket.category_id, p)
    ids = [c for c, _n in counts if c is not None]
    categories = (
        {c.id: c for c in db.session.scalars(sa.select(Category).where(Category.id.in_(ids)))}
        if ids
        else {}
    )
    locale = str(get_locale() or "")
    rows = []
    for category_id, n in counts:
        category = categories.get(category_id)
        rows.append(
            {
                "key": category_id,
                "label": category.label(locale) if category else str(_l("No category")),
                "count": n,
                "drill": drill(p, category=category_id) if category else None,
            }
        )
    return rows


def _by_department(p: Params) -> list[dict]:
    stmt = (
        sa.select(Ticket.department_id, Ticket.kind, sa.func.count())
        .where(*ticket_conditions(p))
        .group_by(Ticket.department_id, Ticket.kind)
    )
    found = db.session.execute(stmt).all()
    ids = {d for d, _k, _n in found}
    names = (
        dict(
            db.session.execute(
                sa.select(Department.id, Department.name).where(Department.id.in_(ids))
            ).all()
        )
        if ids
        else {}
    )
    rows: dict[int, dict] = {}
    for dept_id, kind, n in found:
        row = rows.setdefault(
            dept_id,
            {
                "key": dept_id,
                "label": names.get(dept_id, "?"),
                **dict.fromkeys(KINDS, 0),
                "total": 0,
                "drill": drill(p, department=dept_id),
            },
        )
        if kind in KINDS:
            row[kind] += n
        row["total"] += n
    return sorted(rows.values(), key=lambda r: (-r["total"], r["label"]))


def _hour_buckets(p: Params) -> list[tuple]:
    """(local start of the hour, kind, demands) of the period (at most 24 x 366 x 3 rows)."""
    hour = utc_hour(Ticket.created_at)
    stmt = (
        sa.select(hour, Ticket.kind, sa.func.count())
        .select_from(Ticket)
        .where(*ticket_conditions(p))
        .group_by(hour, Ticket.kind)
    )
    local = local_hours(p.zone)
    return [(local(h), kind, n) for h, kind, n in db.session.execute(stmt)]


def _by_day(p: Params) -> list[dict]:
    days = {}
    day = p.first
    while day <= p.last:
        days[day] = {
            "key": day.isoformat(),
            "label": local_date(day),
            **dict.fromkeys(KINDS, 0),
            "total": 0,
            "drill": drill(p, **{"from": day.isoformat(), "to": day.isoformat()}),
        }
        day += timedelta(days=1)
    for instant, kind, n in _hour_buckets(p):
        row = days.get(instant.date())
        if row is None:
            continue
        if kind in KINDS:
            row[kind] += n
        row["total"] += n
    return list(days.values())


def _by_hour(p: Params) -> list[dict]:
    hours = [
        {"key": h, "label": f"{h:02d}h", **dict.fromkeys(KINDS, 0), "total": 0, "drill": None}
        for h in range(24)
    ]
    for instant, kind, n in _hour_buckets(p):
        row = hours[instant.hour]
        if kind in KINDS:
            row[kind] += n
        row["total"] += n
    return hours


AGE_BUCKETS = (
    ("lt1d", _l("Less than 1 day"), timedelta(days=1)),
    ("1to3d", _l("1 to 3 days"), timedelta(days=3)),
    ("3to7d", _l("3 to 7 days"), timedelta(days=7)),
    ("7to30d", _l("7 to 30 days"), timedelta(days=30)),
    ("gt30d", _l("More than 30 days"), None),
)


def _backlog(p: Params) -> list[dict]:
    """Demands open at the end of the period (or now, if it ends later), by age and kind: open
    now, or resolved/closed after that instant; registered before it."""
    at = min(p.end, p.at)
    age_case = sa.case(
        *[
            (Ticket.created_at > at - limit, key)
            for key, _label, limit in AGE_BUCKETS
            if limit is not None
        ],
        else_=AGE_BUCKETS[-1][0],
    )
    done = sa.func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    conditions = [
        Ticket.created_at < at,
        sa.or_(Ticket.status.in_(OPEN_STATUSES), done >= at),
    ]
    ids = p.department_ids
    if ids is not None:
        conditions.append(Ticket.department_id.in_(ids or [-1]))
    if p.channel:
        conditions.append(Ticket.channel == p.channel)
    if p.kind:
        conditions.append(Ticket.kind == p.kind)
    stmt = (
        sa.select(age_case, Ticket.kind, sa.func.count())
        .select_from(Ticket)
        .where(*conditions)
        .group_by(age_case, Ticket.kind)
    )
    rows = {
        key: {"key": key, "label": str(label), **dict.fromkeys(KINDS, 0), "total": 0, "drill": None}
        for key, label, _limit in AGE_BUCKETS
    }
    for key, kind, n in db.session.execute(stmt):
        if kind in KINDS:
            rows[key][kind] += n
        rows[key]["total"] += n
    return list(rows.values())


register(
    Report(
        "volume_by_day",
        _l("Volume per day"),
        _l("Demands registered each day, in total and by kind."),
        "volume",
        (Column("label", _l("Day"), "text"), *KIND_COLUMNS, TOTAL),
        Chart("multiples", ("total", *KINDS)),
        _by_day,
        REGISTERED,
    )
)
register(
    Report(
        "volume_by_channel",
        _l("Volume by channel"),
        _l("Where the demands came from."),
        "volume",
        (Column("label", _l("Channel"), "text"), COUNT),
        Chart("bar", ("count",)),
        _by_channel,
        REGISTERED,
    )
)
register(
    Report(
        "volume_by_kind",
        _l("Volume by kind"),
        _l("Complaints, requests and suggestions."),
        "volume",
        (Column("label", _l("Kind"), "text"), COUNT),
        Chart("bar", ("count",)),
        _by_kind,
        REGISTERED,
    )
)
register(
    Report(
        "volume_by_category",
        _l("Volume by category"),
        _l("What the demands are about."),
        "volume",
        (Column("label", _l("Category"), "text"), COUNT),
        Chart("bar", ("count",)),
        _by_category,
        REGISTERED,
    )
)
register(
    Report(
        "volume_by_department",
        _l("Volume by department"),
        _l("Demands per department (where they are now), by kind."),
        "volume",
        (Column("label", _l("Department"), "text"), *KIND_COLUMNS, TOTAL),
        Chart("stacked", KINDS),
        _by_department,
        REGISTERED,
    )
)
register(
    Report(
        "volume_by_hour",
        _l("Volume by hour"),
        _l("The hour of the day demands arrive (your time zone): when to staff."),
        "volume",
        (Column("label", _l("Hour"), "text"), *KIND_COLUMNS, TOTAL),
        Chart("stacked", KINDS),
        _by_hour,
        REGISTERED,
    )
)
register(
    Report(
        "backlog",
        _l("Backlog by age"),
        _l("Demands still open at the end of the period (or now), by how long they have waited."),
        "volume",
        (Column("label", _l("Age"), "text"), *KIND_COLUMNS, TOTAL),
        Chart("stacked", KINDS),
        _backlog,
        _l("Demands open at the end of the period."),
    )
)
