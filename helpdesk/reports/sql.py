"""The few SQL expressions that differ between SQLite and PostgreSQL, and the shared conditions.

Hours are grouped in UTC in SQL (so no database needs the user's time zone) and moved to the
user's zone in Python, bucket by bucket, which is exact across daylight-saving changes. Medians
and 90th percentiles are `percentile_cont` on PostgreSQL; SQLite has none, so its durations are
read (one column) and interpolated the same way here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from ..extensions import db
from ..tickets.models import Ticket
from .params import Params


def dialect() -> str:
    return db.session.get_bind().dialect.name


def utc_hour(column):
    """The UTC hour an instant falls in, as text "YYYY-MM-DD HH"."""
    if dialect() == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return sa.func.strftime("%Y-%m-%d %H", column)


def parse_utc_hour(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)


def seconds_between(start, end):
    """`end - start` in seconds (a float)."""
    if dialect() == "postgresql":
        return sa.func.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ticket_conditions(p: Params, column=Ticket.created_at) -> list:
    """Demands whose `column` falls in the period, within the reader's departments and filters."""
    conditions = [column >= p.start, column < p.end]
    ids = p.department_ids
    if ids is not None:
        conditions.append(Ticket.department_id.in_(ids or [-1]))
    if p.channel:
        conditions.append(Ticket.channel == p.channel)
    if p.kind:
        conditions.append(Ticket.kind == p.kind)
    return conditions


def drill(p: Params, **extra) -> dict:
    """The console search's filters for the demands registered in the period (plus `extra`)."""
    args = {
        "from": p.first.isoformat(),
        "to": p.last.isoformat(),
        "department": p.department_id,
        "channel": p.channel,
        "kind": p.kind,
    }
    args.update(extra)
    return {k: str(v) for k, v in args.items() if v not in (None, "")}


def grouped_percentiles(key, seconds, conditions, fractions=(0.5, 0.9)) -> dict:
    """{group key: (count, [minutes at each fraction])} of `seconds` where not null; `key`
    None: one group for everything, under the key None."""
    where = [*conditions, seconds.is_not(None)]
    keys = [] if key is None else [key]
    result: dict = {}
    if dialect() == "postgresql":
        cols = [
            sa.func.percentile_cont(f).within_group(seconds.asc()).label(f"p{i}")
            for i, f in enumerate(fractions)
        ]
        stmt = sa.select(*keys, sa.func.count(), *cols).select_from(Ticket).where(*where)
        if keys:
            stmt = stmt.group_by(key)
        for row in db.session.execute(stmt):
            row = (None, *row) if key is None else tuple(row)
            if row[1]:
                result[row[0]] = (row[1], [None if v is None else float(v) / 60 for v in row[2:]])
        return result
    values: dict = {}
    stmt = sa.select(*keys, seconds).select_from(Ticket).where(*where)
    for row in db.session.execute(stmt):
        k, s = (None, row[0]) if key is None else (row[0], row[1])
        values.setdefault(k, []).append(max(float(s), 0.0))
    for k, vs in values.items():
        result[k] = (len(vs), [percentile(vs, f) / 60 for f in fractions])
    return result
