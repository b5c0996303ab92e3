"""Property tests: the working-time functions agree with a brute-force minute-by-minute count.

Random calendars (0-3 intervals per weekday on whole minutes, some ending at 24:00), random
holidays, random instants near DST changes (São Paulo 2018/2019, New York, Madrid) and year
boundaries. The oracle is the module's definition taken literally: a minute is working iff its
local wall-clock time is inside an interval of its local weekday and its local date is no holiday.
Deterministic (derandomize) and bounded: the file runs in a few seconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpdesk.sla.calendars import WorkingCalendar, add_working_time, working_time_between

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
MINUTE = timedelta(minutes=1)

# (zone, an instant near something hard: a DST change or a year boundary), UTC.
ANCHORS = [
    ("America/Sao_Paulo", datetime(2018, 11, 4, 3, 0, tzinfo=UTC)),  # 00:00 -> 01:00, gap
    ("America/Sao_Paulo", datetime(2019, 2, 17, 2, 0, tzinfo=UTC)),  # 00:00 -> 23:00, repeat
    ("America/Sao_Paulo", datetime(2019, 1, 1, 2, 0, tzinfo=UTC)),  # new year under DST
    ("America/Sao_Paulo", datetime(2026, 12, 31, 20, 0, tzinfo=UTC)),  # no DST any more
    ("America/New_York", datetime(2024, 3, 10, 7, 0, tzinfo=UTC)),  # 02:00 -> 03:00
    ("America/New_York", datetime(2024, 11, 3, 6, 0, tzinfo=UTC)),  # 02:00 -> 01:00
    ("America/New_York", datetime(2025, 1, 1, 5, 0, tzinfo=UTC)),
    ("Europe/Madrid", datetime(2024, 3, 31, 1, 0, tzinfo=UTC)),  # 02:00 -> 03:00
    ("Europe/Madrid", datetime(2024, 10, 27, 1, 0, tzinfo=UTC)),  # 03:00 -> 02:00
    ("Europe/Madrid", datetime(2024, 12, 31, 23, 0, tzinfo=UTC)),
    ("UTC", datetime(2025, 12, 31, 23, 30, tzinfo=UTC)),
    ("Asia/Kolkata", datetime(2026, 1, 1, 0, 0, tzinfo=UTC)),  # +05:30
]


@st.composite
def day_intervals(draw):
    """0-3 disjoint intervals on whole minutes; 1440 (24:00) is written as time(0, 0)."""
    count = draw(st.integers(0, 3))
    points = sorted(draw(st.sets(st.integers(0, 1440), min_size=2 * count, max_size=2 * count)))
    result = []
    for start, end in zip(points[::2], points[1::2], strict=True):
        result.append((time(start // 60, start % 60), time((end // 60) % 24, end % 60)))
    return result


@st.composite
def scenarios(draw, need_work=True):
    zone, anchor = draw(st.sampled_from(ANCHORS))
    intervals = {wd: draw(day_intervals()) for wd in range(7)}
    if need_work:
        assume(any(intervals.values()))
    base = anchor.astimezone(ZoneInfo(zone)).date()
    holidays = draw(
        st.sets(st.integers(-6, 10).map(lambda n: base + timedelta(days=n)), max_size=5)
    )
    calendar = WorkingCalendar(zone, intervals, holidays)
    start = anchor + draw(st.integers(-3 * 1440, 3 * 1440)) * MINUTE
    return calendar, start


def is_working(calendar: WorkingCalendar, instant: datetime) -> bool:
    local = instant.astimezone(calendar.zone)
    if local.date() in calendar.holidays:
        return False
    wall = local.time().replace(tzinfo=None)
    for start, end in calendar.intervals[local.weekday()]:
        if start <= wall and (end == time(0) or wall < end):
            return True
    return False


def brute_between(calendar, start, end) -> timedelta:
    minutes, instant = 0, start
    while instant < end:
        minutes += is_working(calendar, instant)
        instant += MINUTE
    return minutes * MINUTE


def brute_add(calendar, start, duration, limit=60 * 24 * 60) -> datetime | None:
    """Count working minutes one by one; None when the limit is hit (calendar too sparse)."""
    wanted, instant = duration // MINUTE, start
    if wanted == 0:
        return start
    for _ in range(limit):
        if is_working(calendar, instant):
            wanted -= 1
            if wanted == 0:
                return instant + MINUTE
        instant += MINUTE
    return None


@SETTINGS
@given(scenarios(need_work=False), st.integers(-60, 5 * 1440))
def test_between_matches_the_minute_count(scenario, length):
    calendar, start = scenario
    end = start + length * MINUTE
    assert working_time_between(calendar, start, end) == brute_between(calendar, start, end)


@SETTINGS
@given(scenarios(), st.integers(0, 3 * 1440))
def test_add_matches_the_minute_count(scenario, minutes):
    calendar, start = scenario
    expected = brute_add(calendar, start, minutes * MINUTE)
    assume(expected is not None)
    assert add_working_time(calendar, start, minutes * MINUTE) == expected


@SETTINGS
@given(scenarios(), st.integers(0, 30 * 1440), st.integers(0, 59))
def test_between_of_add_is_the_duration(scenario, minutes, seconds):
    calendar, start = scenario
    start += timedelta(seconds=seconds)  # not only whole minutes
    duration = minutes * MINUTE
    assert working_time_between(calendar, start, add_working_time(calendar, start, duration)) == (
        duration
    )


@SETTINGS
@given(scenarios(), st.integers(0, 6 * 1440), st.integers(0, 59))
def test_add_of_between_is_the_earliest_instant(scenario, minutes, seconds):
    """add(s, between(s, e)) is the first instant with that much work: never after e, and no
    working time between it and e (so a deadline lands on 18:00, not on the next 08:00)."""
    calendar, start = scenario
    end = start + minutes * MINUTE + timedelta(seconds=seconds)
    reached = add_working_time(calendar, start, working_time_between(calendar, start, end))
    assert start <= reached <= end
    assert working_time_between(calendar, reached, end) == timedelta(0)


@SETTINGS
@given(scenarios(), st.integers(0, 5 * 1440), st.integers(0, 5 * 1440), st.integers(0, 3 * 1440))
def test_add_is_monotonic(scenario, d1, d2, shift):
    calendar, start = scenario
    d1, d2 = sorted((d1, d2))
    early = add_working_time(calendar, start, d1 * MINUTE)
    late = add_working_time(calendar, start, d2 * MINUTE)
    assert start <= early <= late
    later_start = start + shift * MINUTE
    assert add_working_time(calendar, start, d1 * MINUTE) <= add_working_time(
        calendar, later_start, d1 * MINUTE
    )


@SETTINGS
@given(scenarios(need_work=False), st.integers(0, 4 * 1440), st.integers(0, 4 * 1440))
def test_between_is_additive_and_bounded(scenario, first, second):
    calendar, a = scenario
    b = a + first * MINUTE
    c = b + second * MINUTE
    ab, bc = working_time_between(calendar, a, b), working_time_between(calendar, b, c)
    assert ab + bc == working_time_between(calendar, a, c)
    assert timedelta(0) <= ab <= b - a
    assert working_time_between(calendar, c, a) == timedelta(0)


@SETTINGS
@given(
    st.sampled_from([zone for zone, _ in ANCHORS]),
    st.datetimes(datetime(2017, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    st.timedeltas(timedelta(0), timedelta(days=400)),
)
def test_always_is_plain_arithmetic(zone, start, duration):
    calendar = WorkingCalendar.always(zone)
    assert add_working_time(calendar, start, duration) == start + duration
    assert working_time_between(calendar, start, start + duration) == duration


@SETTINGS
@given(st.sampled_from(ANCHORS), st.integers(-3 * 1440, 3 * 1440))
def test_explicit_round_the_clock_calendar_matches_always(anchor, minutes):
    """A calendar written out as 00:00-24:00 every day behaves exactly like always()."""
    zone, instant = anchor
    full = WorkingCalendar(zone, {wd: [(time(0), time(0))] for wd in range(7)}, {date(1999, 1, 1)})
    assert not full.is_always  # has a (far) holiday: takes the general path
    start = instant + minutes * MINUTE
    duration = timedelta(days=8, minutes=minutes % 97)
    assert add_working_time(full, start, duration) == start + duration
    assert working_time_between(full, start, start + duration) == duration


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/Sao_Paulo", date(2018, 11, 4), 23),
        ("America/Sao_Paulo", date(2019, 2, 16), 25),
        ("America/New_York", date(2024, 3, 10), 23),
        ("America/New_York", date(2024, 11, 3), 25),
        ("Europe/Madrid", date(2024, 3, 31), 23),
        ("Europe/Madrid", date(2024, 10, 27), 25),
        ("Europe/Madrid", date(2024, 10, 28), 24),
    ],
)
def test_a_whole_local_day_lasts_what_the_clock_says(zone, day, hours):
    calendar = WorkingCalendar(zone, {day.weekday(): [(time(0), time(0))]})
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    assert working_time_between(calendar, start - timedelta(days=2), end + timedelta(days=2)) == (
        timedelta(hours=hours)
    )
