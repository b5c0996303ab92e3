"""The few SQL expressions that differ between SQLite and PostgreSQL, and the shared conditions.

Hours are grouped in UTC in SQL (so no database needs the user's time zone) and moved to the
user's zone in Python, bucket by bucket, which is exact across daylight-saving changes. Medians
and 90th percentiles are `percentile_cont` on PostgreSQL; SQLite has none, so its durations are
read (one column) and interpolated the same way here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from ..extensions import db
from ..tickets.models import Ticket
from .params import Params


def dialect() -> str:
    return db.session.get_bind().dialect.name


def utc_hour(column):
    """The hour an instant falls in, as whole hours since 1970-01-01 UTC (an integer)."""
    if dialect() == "postgresql":
        return sa.cast(sa.func.floor(sa.func.extract("epoch", column) / 3600), sa.BigInteger)
    return sa.cast(sa.func.strftime("%s", column), sa.Integer) // 3600


def local_hours(zone) -> Callable[[int], datetime]:
    """hour number -> the local instant it starts at, cached (a year has 8,784 hours at most)."""
    cache: dict[int, datetime] = {}

    def convert(hour: int) -> datetime:
        found = cache.get(hour)
        if found is None:
            found = cache[hour] = datetime.fromtimestamp(int(hour) * 3600, UTC).astimezone(zone)
        return found

    return convert


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
    """The console queue's filters for the demands registered in the period (plus `extra`):
    every status, the reader's departments."""
    args = {
        "queue": "department",
        "status": "any",
        "from": p.first.isoformat(),
        "to": p.last.isoformat(),
        "department": p.department_id,
        "channel": p.channel,
        "kind": p.kind,
    }
    args.update(extra)
    return {k: str(v) for k, v in args.items() if v not in (None, "")}


def grouped_percentiles(key, seconds, conditions, fractions=(0.5, 0.9)) -> tuple[dict, dict]:
    """({group key: (count, [minutes at each fraction])}, {None: the same for every group}) of
    `seconds` where not null. One statement: GROUP BY ROLLUP on PostgreSQL (`key` is never null),
    one read of the values on SQLite."""
    where = [*conditions, seconds.is_not(None)]
    per_key: dict = {}
    total: dict = {}
    if dialect() == "postgresql":
        cols = [
            sa.func.percentile_cont(f).within_group(seconds.asc()).label(f"p{i}")
            for i, f in enumerate(fractions)
        ]
        stmt = (
            sa.select(key, sa.func.count(), *cols)
            .select_from(Ticket)
            .where(*where)
            .group_by(sa.func.rollup(key))
        )
        for row in db.session.execute(stmt):
            if not row[1]:
                continue
            value = (row[1], [None if v is None else float(v) / 60 for v in row[2:]])
            if row[0] is None:
                total[None] = value
            else:
                per_key[row[0]] = value
        return per_key, total
    values: dict = {}
    for k, s in db.session.execute(sa.select(key, seconds).select_from(Ticket).where(*where)):
        values.setdefault(k, []).append(max(float(s), 0.0))
    for k, vs in values.items():
        per_key[k] = (len(vs), [percentile(vs, f) / 60 for f in fractions])
    everything = [v for vs in values.values() for v in vs]
    if everything:
        total[None] = (len(everything), [percentile(everything, f) / 60 for f in fractions])
    return per_key, total
