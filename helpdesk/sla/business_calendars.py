"""Business calendars (admin): create and edit a calendar, its working intervals and company
holidays, and load one as the pure `WorkingCalendar` (arithmetic in `sla/calendars.py`, the cached
calendar of a policy in `sla/working.py`).

Services validate and flush; the surface commits. Errors are `ValidationError` with the offending
`field` (name, timezone, country, subdivision, intervals, date).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..core.errors import NotFound, ValidationError
from ..extensions import db
from .calendars import (
    MIDNIGHT,
    WorkingCalendar,
)
from .models import (
    BusinessCalendar,
    CalendarHoliday,
    CalendarInterval,
    SlaPolicy,
)
from .working import END_OF_DAY, working_calendar

log = logging.getLogger(__name__)

IntervalSpec = tuple[int, time, time]


def clean_name(name: str | None) -> str:
    return " ".join((name or "").split())


def _check_timezone(timezone: str) -> str:
    timezone = (timezone or "").strip()
    try:
        if not timezone or len(timezone) > 64:
            raise ValueError(timezone)
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_l("Please choose a valid time zone."), field="timezone") from exc
    return timezone


def _check_region(country: str, subdivision: str | None) -> tuple[str, str | None]:
    country = (country or "").strip().upper()
    supported = holidays_package.list_supported_countries()
    if country not in supported:
        raise ValidationError(_l("Please choose a supported country."), field="country")
    subdivision = (subdivision or "").strip().upper() or None
    if subdivision is not None and subdivision not in supported[country]:
        raise ValidationError(
            _l("Please choose a state or region of the chosen country."), field="subdivision"
        )
    return country, subdivision


def _check_intervals(intervals: Iterable[IntervalSpec], is_24x7: bool) -> list[IntervalSpec]:
    """Weekday 0-6, start before end (end 00:00 = midnight), no overlap within a weekday."""
    result: list[IntervalSpec] = []
    for item in intervals:
        try:
            weekday, start, end = item
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                _l("Each interval needs a weekday, a start and an end."), field="intervals"
            ) from exc
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationError(_l("The weekday must be Monday to Sunday."), field="intervals")
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValidationError(
                _l("Each interval needs a start and an end time."), field="intervals"
            )
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        stored_end = END_OF_DAY if end == MIDNIGHT else end
        if start >= stored_end:
            raise ValidationError(_l("Each interval must start before it ends."), field="intervals")
        result.append((weekday, start, stored_end))
    result.sort()
    for (wd_a, _, end_a), (wd_b, start_b, _) in zip(result, result[1:], strict=False):
        if wd_a == wd_b and start_b < end_a:
            raise ValidationError(_l("The intervals of a day must not overlap."), field="intervals")
    if is_24x7 and result:
        raise ValidationError(
            _l("A 24×7 calendar counts every minute; it has no working intervals."),
            field="intervals",
        )
    if not is_24x7 and not result:
        raise ValidationError(_l("Please give at least one working interval."), field="intervals")
    return result


def create_calendar(
    *,
    name: str,
    timezone: str = "America/Sao_Paulo",
    country: str = "BR",
    subdivision: str | None = None,
    is_24x7: bool = False,
    intervals: Iterable[IntervalSpec] = (),
    active: bool = True,
) -> BusinessCalendar:
    """A new calendar; `intervals` are (weekday 0=Monday, start, end) with end 00:00 = midnight."""
    name = clean_name(name)
    if not name or len(name) > 120:
        raise ValidationError(_l("Please give a name of at most 120 characters."), field="name")
    if db.session.scalar(sa.select(BusinessCalendar.id).where(BusinessCalendar.name == name)):
        raise ValidationError(_l("A calendar with this name already exists."), field="name")
    timezone = _check_timezone(timezone)
    country, subdivision = _check_region(country, subdivision)
    spec = _check_intervals(intervals, is_24x7)
    calendar = BusinessCalendar(
        name=name,
        timezone=timezone,
        country=country,
        subdivision=subdivision,
        is_24x7=is_24x7,
        active=active,
        intervals=[CalendarInterval(weekday=wd, start_time=s, end_time=e) for wd, s, e in spec],
    )
    db.session.add(calendar)
    db.session.flush()
    log.info("Business calendar %s created", calendar.id)
    return calendar


def set_intervals(
    calendar: BusinessCalendar, intervals: Iterable[IntervalSpec]
) -> BusinessCalendar:
    """Replace the calendar's weekly intervals."""
    spec = _check_intervals(intervals, calendar.is_24x7)
    calendar.intervals = [
        CalendarInterval(weekday=wd, start_time=s, end_time=e) for wd, s, e in spec
    ]
    calendar.revision = (calendar.revision or 0) + 1
    db.session.flush()
    log.info("Business calendar %s: working intervals replaced", calendar.id)
    return calendar


def add_holiday(calendar: BusinessCalendar, *, day: date, name: str = "") -> CalendarHoliday:
    """A company date off; one per calendar and date."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError(_l("Please give a valid date."), field="date")
    name = clean_name(name)
    if len(name) > 120:
        raise ValidationError(_l("Please give a name of at most 120 characters."), field="name")
    exists = db.session.scalar(
        sa.select(CalendarHoliday.id).where(
            CalendarHoliday.calendar_id == calendar.id, CalendarHoliday.date == day
        )
    )
    if exists:
        raise ValidationError(_l("This date is already a holiday of this calendar."), field="date")
    holiday = CalendarHoliday(calendar=calendar, date=day, name=name)
    db.session.add(holiday)
    calendar.revision = (calendar.revision or 0) + 1
    db.session.flush()
    log.info("Business calendar %s: holiday %s added", calendar.id, day.isoformat())
    return holiday


def remove_holiday(calendar: BusinessCalendar, day: date) -> None:
    holiday = db.session.scalar(
        sa.select(CalendarHoliday).where(
            CalendarHoliday.calendar_id == calendar.id, CalendarHoliday.date == day
        )
    )
    if holiday is None:
        raise NotFound()
    calendar.holidays.remove(holiday)
    calendar.revision = (calendar.revision or 0) + 1
    db.session.flush()
    log.info("Business calendar %s: holiday %s removed", calendar.id, day.isoformat())


_CALENDAR_FIELDS = ("name", "timezone", "country", "subdivision", "is_24x7", "active", "intervals")


def update_calendar(calendar: BusinessCalendar, **fields) -> BusinessCalendar:
    """Change some of name, timezone, country, subdivision, is_24x7, active, intervals.

    Validated like `create_calendar` (intervals against the final `is_24x7`; switching to 24x7
    drops the intervals). Bumps `revision` when anything the arithmetic uses changes. A calendar
    an active policy uses cannot be deactivated.
    """
    unknown = set(fields) - set(_CALENDAR_FIELDS)
    if unknown:
        raise TypeError(f"unknown calendar fields: {sorted(unknown)}")
    changed = False
    if "name" in fields:
        name = clean_name(fields["name"])
        if not name or len(name) > 120:
            raise ValidationError(_l("Please give a name of at most 120 characters."), field="name")
        taken = db.session.scalar(
            sa.select(BusinessCalendar.id).where(
                BusinessCalendar.name == name, BusinessCalendar.id != calendar.id
            )
        )
        if taken:
            raise ValidationError(_l("A calendar with this name already exists."), field="name")
        calendar.name = name
    if "timezone" in fields:
        timezone = _check_timezone(fields["timezone"])
        changed |= timezone != calendar.timezone
        calendar.timezone = timezone
    if "country" in fields or "subdivision" in fields:
        country, subdivision = _check_region(
            fields.get("country", calendar.country),
            fields.get("subdivision", calendar.subdivision),
        )
        changed |= (country, subdivision) != (calendar.country, calendar.subdivision)
        calendar.country, calendar.subdivision = country, subdivision
    is_24x7 = bool(fields.get("is_24x7", calendar.is_24x7))
    if "intervals" in fields or is_24x7 != calendar.is_24x7:
        spec = _check_intervals([] if is_24x7 else fields.get("intervals", ()), is_24x7)
        old = sorted((i.weekday, i.start_time, i.end_time) for i in calendar.intervals)
        if spec != old or is_24x7 != calendar.is_24x7:
            calendar.is_24x7 = is_24x7
            calendar.intervals = [
                CalendarInterval(weekday=wd, start_time=s, end_time=e) for wd, s, e in spec
            ]
            changed = True
    if "active" in fields:
        active = bool(fields["active"])
        if not active and calendar.active:
            used = db.session.scalar(
                sa.select(SlaPolicy.name)
                .where(
                    SlaPolicy.active.is_(True),
                    sa.or_(
                        *[
                            getattr(SlaPolicy, column) == calendar.id
                            for column in _policy_calendar_columns()
                        ]
                    ),
                )
                .limit(1)
            )
            if used:
                raise ValidationError(
                    _l(
                        "The active policy “%(policy)s” uses this calendar: choose another "
                        "calendar there first.",
                        policy=used,
                    ),
                    field="active",
                )
        calendar.active = active
    if changed:
        calendar.revision = (calendar.revision or 0) + 1
    db.session.flush()
    log.info("Business calendar %s updated (revision %s)", calendar.id, calendar.revision)
    return calendar


def _policy_calendar_columns() -> list[str]:
    return [c.key for c in SlaPolicy.__table__.columns if c.key.endswith("_calendar_id")]


def load_calendar(calendar_id: int, years: Iterable[int] | None = None) -> WorkingCalendar:
    """Load a calendar row with its intervals and company holidays (3 queries) as a WorkingCalendar.

    Not cached per row: the rows are small and cheap to read, and a per-id cache would need a
    cross-process invalidation; the expensive part (public holidays) is cached in `holidays_for`.
    """
    calendar = db.session.scalar(
        sa.select(BusinessCalendar)
        .where(BusinessCalendar.id == calendar_id)
        .options(selectinload(BusinessCalendar.intervals), selectinload(BusinessCalendar.holidays))
    )
    if calendar is None:
        raise NotFound()
    return working_calendar(calendar, years)
