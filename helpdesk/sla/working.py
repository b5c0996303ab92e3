"""The pure `WorkingCalendar` of stored calendar rows: what SLA clocks and escalation levels count on.

Below the SLA services and the escalation engine (it imports models, core and the pure arithmetic
only), so both read a target's calendar without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

from ..core.clock import as_utc, now
from ..extensions import db
from .calendars import MIDNIGHT, WorkingCalendar, holidays_for
from .models import BusinessCalendar, TicketSla

# The database cannot store 24:00: an interval running to midnight is stored as 23:59:59.999999.
END_OF_DAY = time.max


def working_calendar(
    calendar: BusinessCalendar, years: Iterable[int] | None = None
) -> WorkingCalendar:
    """The pure calendar of a loaded row: intervals, public holidays of `years`, company dates.

    Public holidays are expanded for `years` (default: last year to two years ahead, which covers
    any SLA deadline); the `holidays` package result is cached per (country, state, years).
    A 24x7 calendar ignores holidays: calendar-day deadlines count every day.
    """
    if calendar.is_24x7:
        return WorkingCalendar.always(calendar.timezone)
    if years is None:
        this_year = now().year
        years = range(this_year - 1, this_year + 3)
    intervals: dict[int, list[tuple[time, time]]] = {}
    for item in calendar.intervals:
        end = MIDNIGHT if item.end_time == END_OF_DAY else item.end_time
        intervals.setdefault(item.weekday, []).append((item.start_time, end))
    days = holidays_for(
        calendar.country,
        calendar.subdivision,
        years=years,
        extra={h.date: h.name for h in calendar.holidays},
    )
    return WorkingCalendar(calendar.timezone, intervals, days)


# Loaded calendars per (id, created_at, revision, year), for the whole process: the policy lookup
# joins the calendar rows, so a registration reads no interval or holiday once a calendar is known
# here; any change of intervals or holidays bumps `revision` (in every process's key). Few entries.
_CALENDARS: dict[tuple, WorkingCalendar] = {}
_CALENDARS_MAX = 64


def policy_calendar(calendar: BusinessCalendar | None) -> WorkingCalendar:
    """The pure calendar of a policy target; 24x7 (or no calendar) needs no loading."""
    if calendar is None or calendar.is_24x7:
        return WorkingCalendar.always(calendar.timezone if calendar else "UTC")
    key = (calendar.id, as_utc(calendar.created_at), calendar.revision, now().year)
    found = _CALENDARS.get(key)
    if found is None:
        if len(_CALENDARS) >= _CALENDARS_MAX:
            _CALENDARS.clear()
        found = _CALENDARS[key] = working_calendar(calendar)
    return found


def row_calendar(row: TicketSla) -> WorkingCalendar:
    """The pure calendar a target counts on (none: calendar time)."""
    if row.calendar_id is None:
        return WorkingCalendar.always("UTC")
    return policy_calendar(db.session.get(BusinessCalendar, row.calendar_id))
