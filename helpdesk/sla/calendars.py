"""Working-time arithmetic on business calendars: pure Python, no database, no Flask.

A `WorkingCalendar` is a time zone, working intervals per weekday (wall-clock local times, several
per day: a lunch break is normal) and a set of holiday dates. Working time is *real elapsed time*
(what a stopwatch measures) during which the local wall clock shows a working time of a working day.

Definition (the one the property tests check minute by minute): an instant ``u`` is working iff,
with ``local = u.astimezone(zone)``, ``local.date()`` is not a holiday and ``local.time()`` lies in
``[start, end)`` of one of the intervals of ``local.weekday()`` (an ``end`` of 00:00 means 24:00).
Consequences on DST days, all deterministic:

* a wall-clock time that does not exist (spring forward; São Paulo 2018-11-04 00:00-00:59) is simply
  never shown, so it holds no working time; an interval starting inside the gap starts when the clock
  jumps (the first existing instant), one ending inside the gap ends there too;
* a wall-clock time that repeats (fall back) is shown twice and counts twice: an interval covering
  the repeated hour lasts one real hour longer that day;
* the 24x7 calendar (`WorkingCalendar.always`) is every instant, so ``add_working_time`` is plain
  addition of elapsed time and ``working_time_between`` plain subtraction, whatever the DST.

Both functions walk the local days between the two instants (one or two ``utcoffset`` calls per day,
a bisection only on the rare days when the offset changes), so 30 business days cost well under a
millisecond and a year a few milliseconds; the 24x7 calendar is O(1).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MIDNIGHT",
    "WorkingCalendar",
    "add_working_time",
    "holidays_for",
    "working_time_between",
]

MIDNIGHT = time(0, 0)
_DAY = timedelta(days=1)
_ZERO = timedelta(0)
# Local time = UTC + offset with offset in [-12 h, +14 h]: instants whose local date is `d` lie in
# UTC [d 00:00 - 14 h, d+1 00:00 + 12 h).
_BEFORE = timedelta(hours=14)
_AFTER = timedelta(hours=12)

Interval = tuple[time, time]


def _minutes(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _normalize(intervals: Iterable[Interval]) -> tuple[tuple[timedelta, timedelta], ...]:
    """Sort and merge one weekday's intervals as offsets from local midnight; end 00:00 = 24:00."""
    spans = []
    for start, end in intervals:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("interval times are naive wall-clock times")
        lo, hi = _minutes(start), _minutes(end) if end != MIDNIGHT else _DAY
        if lo >= hi:
            raise ValueError(f"interval {start}-{end} does not start before it ends")
        spans.append((lo, hi))
    spans.sort()
    merged: list[tuple[timedelta, timedelta]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


@dataclass(frozen=True, eq=False)
class WorkingCalendar:
    """A time zone, wall-clock working intervals per weekday (0 = Monday) and holiday dates.

    Intervals of a weekday may overlap or touch; they are merged. ``time(0, 0)`` as an end means
    midnight at the end of the day (24:00). Holidays are local dates with no working time at all.
    """

    timezone: str = "America/Sao_Paulo"
    intervals: Mapping[int, Iterable[Interval]] = field(default_factory=dict)
    holidays: Iterable[date] = frozenset()
    zone: ZoneInfo = field(init=False, repr=False)
    spans: tuple[tuple[tuple[timedelta, timedelta], ...], ...] = field(init=False, repr=False)
    is_always: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        for weekday in self.intervals:
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {weekday!r}")
        spans = tuple(_normalize(self.intervals.get(wd, ())) for wd in range(7))
        holidays = frozenset(self.holidays)
        set_ = object.__setattr__
        set_(self, "intervals", {wd: tuple(self.intervals.get(wd, ())) for wd in range(7)})
        set_(self, "holidays", holidays)
        set_(self, "zone", zone)
        set_(self, "spans", spans)
        set_(self, "is_always", not holidays and all(s == ((_ZERO, _DAY),) for s in spans))

    @classmethod
    def always(cls, timezone: str = "America/Sao_Paulo") -> WorkingCalendar:
        """24x7, no holidays: for calendar-day deadlines (working time = elapsed time)."""
        return cls(timezone, {wd: [(MIDNIGHT, MIDNIGHT)] for wd in range(7)})

    @property
    def has_working_time(self) -> bool:
        return any(self.spans)

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The UTC windows [a, b) of working time whose local date is `day`, sorted, disjoint."""
        spans = self.spans[day.weekday()]
        if not spans or day in self.holidays:
            return []
        midnight = datetime.combine(day, MIDNIGHT, tzinfo=UTC)  # the local wall clock, as numbers
        lo, hi = midnight - _BEFORE, midnight + _DAY + _AFTER
        off_lo, off_hi = _offset_at(self.zone, lo), _offset_at(self.zone, hi)
        if off_lo == off_hi:
            pieces = [(lo, hi, off_lo)]
        else:  # one offset change in these ~50 hours: find it to the second
            change = _transition(self.zone, lo, hi, off_lo)
            pieces = [(lo, change, off_lo), (change, hi, off_hi)]
        result: list[tuple[datetime, datetime]] = []
        for p_lo, p_hi, offset in pieces:
            for start, end in spans:
                a = max(midnight + start - offset, p_lo)
                b = min(midnight + end - offset, p_hi)
                if a < b:
                    result.append((a, b))
        result.sort()
        merged: list[tuple[datetime, datetime]] = []
        for a, b in result:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()


def _offset_at(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset() or _ZERO


def _transition(zone: ZoneInfo, lo: datetime, hi: datetime, off_lo: timedelta) -> datetime:
    """The first instant in (lo, hi] whose offset differs from `off_lo` (bisection to 1 s)."""
    step = timedelta(seconds=1)
    while hi - lo > step:
        mid = lo + (hi - lo) // 2
        mid -= timedelta(microseconds=mid.microsecond)
        if mid <= lo:
            mid = lo + step
        if _offset_at(zone, mid) == off_lo:
            lo = mid
        else:
            hi = mid
    return hi


def _check_instant(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC)


def add_working_time(calendar: WorkingCalendar, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant (UTC) at which `duration` of working time has elapsed after `start`.

    * `start` must be aware (any zone; the result is UTC). Outside working time (night, weekend,
      holiday, lunch break) counting begins at the next working instant.
    * ``duration == 0`` returns `start` unchanged (converted to UTC), even outside working time:
      nothing has to elapse.
    * A result that lands exactly on the end of an interval is that end (Friday 18:00), not the
      start of the next interval (Monday 08:00): the duration has fully elapsed by then.
    * Negative durations raise ValueError, as does a calendar without any working interval.
    """
    start = _check_instant("start", start)
    if duration < _ZERO:
        raise ValueError("duration must not be negative")
    if duration == _ZERO or calendar.is_always:
        return start + duration
    if not calendar.has_working_time:
        raise ValueError("this calendar has no working time")
    remaining = duration
    day = calendar.local_date(start) - _DAY
    while True:
        for a, b in calendar.windows(day):
            if b <= start:
                continue
            a = max(a, start)
            if b - a >= remaining:
                return a + remaining
            remaining -= b - a
        day += _DAY


def working_time_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time in [start, end); zero when ``end <= start``. Both must be aware."""
    start = _check_instant("start", start)
    end = _check_instant("end", end)
    if end <= start:
        return _ZERO
    if calendar.is_always:
        return end - start
    total = _ZERO
    day, last = calendar.local_date(start) - _DAY, calendar.local_date(end) + _DAY
    while day <= last:
        for a, b in calendar.windows(day):
            a, b = max(a, start), min(b, end)
            if a < b:
                total += b - a
        day += _DAY
    return total


@functools.lru_cache(maxsize=64)
def _package_holidays(country: str, subdiv: str | None, years: tuple[int, ...]) -> dict[date, str]:
    import holidays

    return dict(holidays.country_holidays(country, subdiv=subdiv, years=years).items())


def holidays_for(
    country: str | None = "BR",
    subdiv: str | None = None,
    years: Iterable[int] = (),
    extra: Mapping[date, str] | Iterable[date] = (),
) -> dict[date, str]:
    """National (and, with `subdiv`, state) holidays from the `holidays` package plus company dates.

    `years` lists the years to expand (the package computes movable feasts per year); `extra` are
    the company's own dates (a mapping date -> name, or plain dates). A company date on a public
    holiday keeps the company's name. Raises NotImplementedError for an unknown country or
    subdivision (the package's own error). ``country=None`` gives only the company dates.
    """
    result: dict[date, str] = {}
    if country:
        result.update(_package_holidays(country, subdiv or None, tuple(sorted(set(years)))))
    if isinstance(extra, Mapping):
        result.update(extra)
    else:
        result.update(dict.fromkeys(extra, ""))
    return result
