"""How long demands wait: first response and resolution, median and 90th percentile, in calendar
time (grouped in SQL) and in working time (each demand's SLA calendar, computed here).

Demands registered in the period, per department (where they are now), with one row for all of
them first. Working time counts, for each demand, the working hours of the calendar its SLA
target runs on (a demand without a target, or a 24x7 target, counts calendar time).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..accounts.models import Department
from ..core.clock import as_utc
from ..extensions import db
from ..sla.business_calendars import load_calendar
from ..sla.calendars import WorkingCalendar, working_time_between
from ..sla.models import TicketSla
from ..tickets.models import Ticket
from .params import Params
from .registry import Chart, Column, Report, register
from .sql import drill, grouped_percentiles, percentile, seconds_between, ticket_conditions

ALL = _l("All departments")
MEASURES = {
    "first_response": (Ticket.first_response_at, _l("Answered")),
    "resolution": (Ticket.resolved_at, _l("Resolved")),
}


def _department_names(ids) -> dict[int, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Department.id, Department.name).where(Department.id.in_(ids))
        ).all()
    )


def _rows(p: Params, per_key: dict, total: dict) -> list[dict]:
    names = _department_names(per_key)
    rows = []
    for key, label, values in [(None, str(ALL), total.get(None))] + sorted(
        ((k, names.get(k, "?"), v) for k, v in per_key.items()), key=lambda r: r[1]
    ):
        if values is None:
            continue
        count, (median, p90) = values
        rows.append(
            {
                "key": key,
                "label": label,
                "count": count,
                "median": median,
                "p90": p90,
                "drill": drill(p, department=key),
            }
        )
    return rows


def _calendar_time(measure: str):
    column = MEASURES[measure][0]

    def build(p: Params) -> list[dict]:
        seconds = seconds_between(Ticket.created_at, column)
        conditions = ticket_conditions(p)
        per_department, total = grouped_percentiles(Ticket.department_id, seconds, conditions)
        return _rows(p, per_department, total)

    return build


def _working_time(measure: str):
    column = MEASURES[measure][0]

    def build(p: Params) -> list[dict]:
        """Two reads: the demands whose target has no calendar (their seconds, computed in SQL)
        and those with one (their instants, counted on the calendar here)."""
        joined = (
            sa.select()
            .select_from(Ticket)
            .outerjoin(
                TicketSla,
                sa.and_(TicketSla.ticket_id == Ticket.id, TicketSla.target == measure),
            )
            .where(*ticket_conditions(p), column.is_not(None))
        )
        minutes: dict[int, list[float]] = {}
        plain = joined.add_columns(
            Ticket.department_id, seconds_between(Ticket.created_at, column)
        ).where(TicketSla.calendar_id.is_(None))
        for department_id, seconds in db.session.execute(plain):
            minutes.setdefault(department_id, []).append(max(float(seconds), 0.0) / 60)
        timed = joined.add_columns(
            Ticket.department_id, Ticket.created_at, column, TicketSla.calendar_id
        ).where(TicketSla.calendar_id.is_not(None))
        years = range(p.first.year - 1, max(p.last.year, p.at.year) + 2)
        calendars: dict[int, WorkingCalendar] = {}
        for department_id, start, end, calendar_id in db.session.execute(timed):
            if calendar_id not in calendars:
                calendars[calendar_id] = load_calendar(calendar_id, years)
            spent = working_time_between(calendars[calendar_id], as_utc(start), as_utc(end))
            minutes.setdefault(department_id, []).append(spent.total_seconds() / 60)
        everything = [m for values in minutes.values() for m in values]
        per_department = {
            k: (len(v), [percentile(v, 0.5), percentile(v, 0.9)]) for k, v in minutes.items()
        }
        total = (
            {None: (len(everything), [percentile(everything, 0.5), percentile(everything, 0.9)])}
            if everything
            else {}
        )
        return _rows(p, per_department, total)

    return build


def _columns(measure: str) -> tuple[Column, ...]:
    return (
        Column("label", _l("Department"), "text"),
        Column("count", MEASURES[measure][1]),
        Column("median", _l("Median"), "minutes"),
        Column("p90", _l("90th percentile"), "minutes"),
    )


for name, measure, title, description in (
    (
        "first_response_time",
        "first_response",
        _l("First response time"),
        _l("From registration to the first public answer, in calendar time."),
    ),
    (
        "resolution_time",
        "resolution",
        _l("Resolution time"),
        _l("From registration to resolution, in calendar time."),
    ),
):
    register(
        Report(
            name,
            title,
            description,
            "time",
            _columns(measure),
            Chart("grouped", ("median", "p90"), "minutes"),
            _calendar_time(measure),
            _l("Demands registered in the period that were answered (resolved)."),
        )
    )

for name, measure, title, description in (
    (
        "first_response_working_time",
        "first_response",
        _l("First response time (working hours)"),
        _l(
            "From registration to the first public answer, counting the working hours of the demand's SLA calendar."
        ),
    ),
    (
        "resolution_working_time",
        "resolution",
        _l("Resolution time (working hours)"),
        _l(
            "From registration to resolution, counting the working hours of the demand's SLA calendar."
        ),
    ),
):
    register(
        Report(
            name,
            title,
            description,
            "time",
            _columns(measure),
            Chart("grouped", ("median", "p90"), "minutes"),
            _working_time(measure),
            _l("Demands registered in the period that were answered (resolved)."),
        )
    )
