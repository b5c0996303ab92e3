"""Due instants a person computes on paper, with Brazilian calendars, holidays and DST.

The business calendar of these cases: Monday to Friday 08:00-12:00 and 13:00-18:00 in São Paulo,
i.e. 9 working hours a day; "1 business day" = 9 h of working time.
"""

from __future__ import annotations

import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from helpdesk.sla.calendars import (
    WorkingCalendar,
    add_working_time,
    holidays_for,
    working_time_between,
)

SP = ZoneInfo("America/Sao_Paulo")
DAY_9H = timedelta(hours=9)
WEEK = {wd: [(time(8), time(12)), (time(13), time(18))] for wd in range(5)}


def sp(*args) -> datetime:
    return datetime(*args, tzinfo=SP)


def business(holidays=()) -> WorkingCalendar:
    return WorkingCalendar("America/Sao_Paulo", WEEK, holidays)


def test_friday_afternoon_is_due_monday_afternoon():
    # Fri 2026-11-13 17:30. Fri 17:30-18:00 = 0:30 (0:30 done, 8:30 left). Sat, Sun: no work.
    # Mon 16 08:00-12:00 = 4:00 (4:30 done, 4:30 left); 13:00 + 4:30 = Mon 17:30.
    # (Not 17:00: the half hour on Friday and the lunch hour on Monday cancel out only at 17:30.)
    due = add_working_time(business(), sp(2026, 11, 13, 17, 30), DAY_9H)
    assert due == sp(2026, 11, 16, 17, 30)
    assert due.tzinfo == UTC and due == datetime(2026, 11, 16, 20, 30, tzinfo=UTC)
    assert working_time_between(business(), sp(2026, 11, 13, 17, 30), due) == DAY_9H


def test_friday_afternoon_before_a_monday_holiday_is_due_tuesday():
    # Mon 2026-09-07 is Independence Day (national). Fri 04 17:30-18:00 = 0:30; Sat, Sun, Mon off;
    # Tue 08 08:00-12:00 = 4:00 (4:30 left); 13:00 + 4:30 = Tue 17:30.
    calendar = business(holidays_for("BR", years=[2026]))
    assert date(2026, 9, 7) in calendar.holidays
    assert add_working_time(calendar, sp(2026, 9, 4, 17, 30), DAY_9H) == sp(2026, 9, 8, 17, 30)


def test_thursday_before_black_awareness_day():
    # Thu 2026-11-19 16:00; Fri 20 = Dia da Consciência Negra (national since 2024).
    # Thu 16:00-18:00 = 2:00 (7:00 left); Fri holiday, Sat, Sun off;
    # Mon 23 08:00-12:00 = 4:00 (3:00 left); 13:00 + 3:00 = Mon 16:00.
    calendar = business(holidays_for("BR", years=[2026]))
    assert date(2026, 11, 20) in calendar.holidays
    assert add_working_time(calendar, sp(2026, 11, 19, 16), DAY_9H) == sp(2026, 11, 23, 16)
    # without the holiday it would be Friday 16:00
    assert add_working_time(business(), sp(2026, 11, 19, 16), DAY_9H) == sp(2026, 11, 20, 16)


def test_registered_during_lunch_counts_from_13h_and_ends_at_noon():
    # Wed 2026-11-11 12:20 (lunch): counting starts 13:00; 13:00-18:00 = 5:00 (4:00 left);
    # Thu 12 08:00 + 4:00 = 12:00 exactly: due Thu 12:00, the end of the morning, not 13:00.
    calendar = business()
    assert add_working_time(calendar, sp(2026, 11, 11, 12, 20), DAY_9H) == sp(2026, 11, 12, 12)
    assert working_time_between(calendar, sp(2026, 11, 11, 12), sp(2026, 11, 11, 13)) == timedelta(
        0
    )


def test_registered_on_saturday_is_due_at_the_end_of_monday():
    # Sat 2026-11-14 10:00: nothing until Mon 16 08:00; 08:00-12:00 = 4:00, 13:00 + 5:00 = 18:00.
    assert add_working_time(business(), sp(2026, 11, 14, 10), DAY_9H) == sp(2026, 11, 16, 18)


def test_state_holiday_only_with_the_subdivision():
    # Thu 2026-07-09 is the Revolução Constitucionalista holiday of the state of São Paulo only.
    # Wed 08 17:00-18:00 = 1:00 (8:00 left). With SP: Thu off; Fri 10 08-12 = 4:00, 13+4 = 17:00.
    # Without the state: Thu 09 08-12 = 4:00, 13:00 + 4:00 = Thu 17:00.
    start = sp(2026, 7, 8, 17)
    state = business(holidays_for("BR", "SP", years=[2026]))
    national = business(holidays_for("BR", years=[2026]))
    assert add_working_time(state, start, DAY_9H) == sp(2026, 7, 10, 17)
    assert add_working_time(national, start, DAY_9H) == sp(2026, 7, 9, 17)


def test_new_year_holiday_across_the_year_boundary():
    # Thu 2026-12-31 15:00; Fri 2027-01-01 Confraternização Universal (holidays of both years).
    # Thu 15:00-18:00 = 3:00 (6:00 left); Fri holiday, Sat, Sun; Mon 04 08-12 = 4:00 (2:00 left);
    # 13:00 + 2:00 = Mon 2027-01-04 15:00.
    calendar = business(holidays_for("BR", years=[2026, 2027]))
    assert add_working_time(calendar, sp(2026, 12, 31, 15), DAY_9H) == sp(2027, 1, 4, 15)


def test_seven_calendar_days_over_new_year():
    # Legal deadline: 7 calendar days on the 24x7 calendar; holidays and weekends count.
    # 2026-12-28 10:00 + 7 x 24 h = 2027-01-04 10:00.
    always = WorkingCalendar.always("America/Sao_Paulo")
    assert add_working_time(always, sp(2026, 12, 28, 10), timedelta(days=7)) == sp(2027, 1, 4, 10)


def test_dst_gap_sao_paulo_2018():
    # DST started 2018-11-04: at 00:00 (-03) clocks jumped to 01:00 (-02); 00:00-00:59 never existed.
    # 24x7 = elapsed time: Sat 03 12:00 (-03) + 24 h = Sun 04 13:00 by the wall clock (-02).
    always = WorkingCalendar.always("America/Sao_Paulo")
    assert add_working_time(always, sp(2018, 11, 3, 12), timedelta(hours=24)) == sp(2018, 11, 4, 13)
    # A weekend shift 00:00-24:00 on Sat and Sun: Sat 24 h + Sun 23 h (the day had 23 hours) = 47 h.
    weekend = WorkingCalendar(
        "America/Sao_Paulo", {5: [(time(0), time(0))], 6: [(time(0), time(0))]}
    )
    assert working_time_between(weekend, sp(2018, 11, 3), sp(2018, 11, 5)) == timedelta(hours=47)
    # Sat 23:30 + 2 h of work: 23:30-00:00 = 0:30, the clock jumps to 01:00, 01:00 + 1:30 = 02:30.
    assert add_working_time(weekend, sp(2018, 11, 3, 23, 30), timedelta(hours=2)) == sp(
        2018, 11, 4, 2, 30
    )
    # A Sunday interval 00:30-08:00 starts when the clock jumps (01:00): 7 h, not 7:30.
    sunday = WorkingCalendar("America/Sao_Paulo", {6: [(time(0, 30), time(8))]})
    assert working_time_between(sunday, sp(2018, 11, 3), sp(2018, 11, 5)) == timedelta(hours=7)


def test_dst_repeat_sao_paulo_2019():
    # DST ended 2019-02-17: at 00:00 (-02) clocks went back to Sat 16 23:00 (-03); 23:00-23:59 of
    # Saturday was shown twice. A Saturday shift 22:00-24:00 therefore lasted 3 real hours.
    saturday_night = WorkingCalendar("America/Sao_Paulo", {5: [(time(22), time(0))]})
    start = datetime(2019, 2, 17, 0, 0, tzinfo=UTC)  # Sat 22:00 (-02)
    assert working_time_between(saturday_night, start, start + timedelta(days=1)) == timedelta(
        hours=3
    )
    assert add_working_time(saturday_night, start, timedelta(hours=3)) == sp(2019, 2, 17, 0, 0)


def test_zero_duration_is_the_start_even_outside_hours():
    saturday = sp(2026, 11, 14, 10, 7, 3)
    assert add_working_time(business(), saturday, timedelta(0)) == saturday


def test_between_is_zero_when_end_is_not_after_start():
    assert working_time_between(business(), sp(2026, 11, 16, 10), sp(2026, 11, 16, 9)) == timedelta(
        0
    )
    assert working_time_between(
        business(), sp(2026, 11, 16, 10), sp(2026, 11, 16, 10)
    ) == timedelta(0)


def test_a_working_week_is_45_hours():
    calendar = business()
    assert working_time_between(calendar, sp(2026, 11, 16), sp(2026, 11, 23)) == timedelta(hours=45)


def test_intervals_are_merged_and_end_at_midnight():
    calendar = WorkingCalendar(
        "UTC", {0: [(time(13), time(18)), (time(8), time(12)), (time(11), time(13, 30))]}
    )
    assert calendar.spans[0] == ((timedelta(hours=8), timedelta(hours=18)),)
    night = WorkingCalendar("UTC", {0: [(time(22), time(0))]})
    monday = datetime(2026, 11, 16, tzinfo=UTC)
    assert working_time_between(night, monday, monday + timedelta(days=7)) == timedelta(hours=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"intervals": {7: [(time(8), time(9))]}}, "weekday"),
        ({"intervals": {0: [(time(9), time(8))]}}, "start before"),
        ({"intervals": {0: [(time(9), time(9))]}}, "start before"),
    ],
)
def test_invalid_calendars_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WorkingCalendar(**kwargs)


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_working_time(business(), datetime(2026, 11, 16, 10), DAY_9H)
    with pytest.raises(ValueError, match="negative"):
        add_working_time(business(), sp(2026, 11, 16, 10), -DAY_9H)
    with pytest.raises(ValueError, match="no working time"):
        add_working_time(WorkingCalendar("UTC"), sp(2026, 11, 16, 10), DAY_9H)
    assert working_time_between(
        WorkingCalendar("UTC"), sp(2026, 1, 1), sp(2027, 1, 1)
    ) == timedelta(0)


def test_holidays_for_merges_package_and_company_dates():
    days = holidays_for("BR", "SP", years=[2026], extra={date(2026, 12, 24): "Véspera de Natal"})
    assert date(2026, 11, 20) in days and date(2026, 7, 9) in days
    assert days[date(2026, 12, 24)] == "Véspera de Natal"
    assert date(2026, 7, 9) not in holidays_for("BR", years=[2026])
    assert holidays_for(None, extra=[date(2026, 3, 2)]) == {date(2026, 3, 2): ""}
    with pytest.raises(NotImplementedError):
        holidays_for("BR", "XX", years=[2026])


def test_long_durations_are_cheap():
    calendar = business(holidays_for("BR", "SP", years=range(2026, 2029)))
    always = WorkingCalendar.always()
    start = sp(2026, 11, 13, 17, 30)
    began = stopwatch.perf_counter()
    due = add_working_time(calendar, start, 30 * DAY_9H)  # 30 business days
    add_working_time(always, start, timedelta(days=7))
    working_time_between(calendar, start, start + timedelta(days=365))
    elapsed = stopwatch.perf_counter() - began
    assert working_time_between(calendar, start, due) == 30 * DAY_9H
    assert elapsed < 0.05, f"took {elapsed * 1000:.1f} ms"


# --- stored calendars: services and constraints ------------------------------------------------

LUNCH_BREAK = [(wd, time(8), time(12)) for wd in range(5)] + [
    (wd, time(13), time(18)) for wd in range(5)
]


def test_stored_calendar_gives_the_same_due_instants(db):
    from helpdesk.sla.business_calendars import add_holiday, create_calendar, load_calendar

    stored = create_calendar(name="SAC São Paulo", subdivision="sp", intervals=LUNCH_BREAK)
    add_holiday(stored, day=date(2026, 11, 16), name="Emenda")  # a company bridge day
    db.session.commit()
    assert stored.subdivision == "SP"
    calendar = load_calendar(stored.id, years=[2026])
    # Fri 13 17:30 + 9 h; Mon 16 is the company's day off -> Tue 17 17:30.
    assert add_working_time(calendar, sp(2026, 11, 13, 17, 30), DAY_9H) == sp(2026, 11, 17, 17, 30)
    # Thu 2026-07-09 is a São Paulo state holiday, loaded from the package.
    assert add_working_time(calendar, sp(2026, 7, 8, 17), DAY_9H) == sp(2026, 7, 10, 17)


def test_load_calendar_defaults_to_the_years_around_now_and_reads_few_rows(db, count_queries):
    from helpdesk.sla.business_calendars import create_calendar, load_calendar

    calendar_id = create_calendar(name="SAC", intervals=LUNCH_BREAK).id
    db.session.commit()
    db.session.expunge_all()
    with count_queries() as q:
        calendar = load_calendar(calendar_id)
    assert q.count <= 3
    year = datetime.now(UTC).year
    assert date(year + 2, 1, 1) in calendar.holidays
    assert date(year - 1, 12, 25) in calendar.holidays


def test_interval_to_midnight_round_trips(db):
    from helpdesk.sla.business_calendars import create_calendar, load_calendar

    stored = create_calendar(name="Night", intervals=[(4, time(22), time(0))])
    db.session.commit()
    assert stored.intervals[0].end_time == time.max
    calendar = load_calendar(stored.id, years=[2026])
    # Fri 2026-11-13 22:00 -> 24:00 = 2 h; the next Friday night is a week later.
    assert working_time_between(calendar, sp(2026, 11, 13), sp(2026, 11, 21)) == timedelta(hours=2)
    # Fri 13 23:00-24:00 = 1 h; Fri 20 is Black Awareness Day; Fri 27 22:00 + 1 h = 23:00.
    assert add_working_time(calendar, sp(2026, 11, 13, 23), timedelta(hours=2)) == sp(
        2026, 11, 27, 23
    )


def test_24x7_calendar_ignores_holidays(db):
    from helpdesk.sla.business_calendars import add_holiday, create_calendar, load_calendar

    stored = create_calendar(name="Prazo legal", is_24x7=True)
    add_holiday(stored, day=date(2026, 12, 31))
    db.session.commit()
    calendar = load_calendar(stored.id)
    assert calendar.is_always
    assert add_working_time(calendar, sp(2026, 12, 28, 10), timedelta(days=7)) == sp(2027, 1, 4, 10)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"timezone": "America/Gotham"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"country": "XX"}, "country"),
        ({"subdivision": "ZZ"}, "subdivision"),
        ({"intervals": []}, "intervals"),
        ({"intervals": [(7, time(8), time(9))]}, "intervals"),
        ({"intervals": [(0, time(9), time(8))]}, "intervals"),
        ({"intervals": [(0, time(9), time(9))]}, "intervals"),
        ({"intervals": [(0, time(8), time(12)), (0, time(11), time(14))]}, "intervals"),
        ({"intervals": [(0, "08:00", "12:00")]}, "intervals"),
        ({"intervals": [(0, time(8))]}, "intervals"),
        ({"is_24x7": True, "intervals": [(0, time(8), time(12))]}, "intervals"),
    ],
)
def test_create_calendar_validation(db, kwargs, field):
    from helpdesk.core.errors import ValidationError
    from helpdesk.sla.business_calendars import create_calendar
    from helpdesk.sla.models import BusinessCalendar

    values = {"name": "SAC", "intervals": LUNCH_BREAK, **kwargs}
    with pytest.raises(ValidationError) as caught:
        create_calendar(**values)
    assert caught.value.field == field
    assert str(caught.value)
    assert db.session.scalars(sa.select(BusinessCalendar)).all() == []


def test_calendar_names_and_holiday_dates_are_unique(db):
    from helpdesk.core.errors import NotFound, ValidationError
    from helpdesk.sla.business_calendars import add_holiday, create_calendar, remove_holiday

    stored = create_calendar(name="SAC", intervals=LUNCH_BREAK)
    with pytest.raises(ValidationError) as caught:
        create_calendar(name=" SAC ", intervals=LUNCH_BREAK)
    assert caught.value.field == "name"
    add_holiday(stored, day=date(2026, 12, 24), name="Véspera")
    with pytest.raises(ValidationError) as caught:
        add_holiday(stored, day=date(2026, 12, 24), name="Again")
    assert caught.value.field == "date"
    with pytest.raises(ValidationError) as caught:
        add_holiday(stored, day=datetime(2026, 12, 24, 10, tzinfo=UTC))
    assert caught.value.field == "date"
    # another calendar may have the same date
    other = create_calendar(name="Ouvidoria", intervals=LUNCH_BREAK)
    add_holiday(other, day=date(2026, 12, 24))
    remove_holiday(stored, date(2026, 12, 24))
    with pytest.raises(NotFound):
        remove_holiday(stored, date(2026, 12, 24))
    db.session.commit()
    assert [h.date for h in other.holidays] == [date(2026, 12, 24)]
    assert stored.holidays == []


def test_set_intervals_replaces_the_week(db):
    from helpdesk.sla.business_calendars import create_calendar, load_calendar, set_intervals
    from helpdesk.sla.models import CalendarInterval

    stored = create_calendar(name="SAC", intervals=LUNCH_BREAK)
    set_intervals(stored, [(5, time(9), time(13))])
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(CalendarInterval.id))) == 1
    calendar = load_calendar(stored.id, years=[2026])
    assert add_working_time(calendar, sp(2026, 11, 13, 17, 30), timedelta(hours=4)) == sp(
        2026, 11, 14, 13
    )


def test_database_refuses_inverted_intervals_and_duplicate_holidays(db):
    from sqlalchemy.exc import IntegrityError

    from helpdesk.sla.business_calendars import create_calendar
    from helpdesk.sla.models import CalendarHoliday, CalendarInterval

    stored = create_calendar(name="SAC", intervals=LUNCH_BREAK)
    db.session.commit()
    for row in (
        CalendarInterval(calendar_id=stored.id, weekday=0, start_time=time(12), end_time=time(8)),
        CalendarInterval(calendar_id=stored.id, weekday=9, start_time=time(8), end_time=time(9)),
    ):
        db.session.add(row)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
    db.session.add(CalendarHoliday(calendar_id=stored.id, date=date(2026, 1, 2), name="a"))
    db.session.add(CalendarHoliday(calendar_id=stored.id, date=date(2026, 1, 2), name="b"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_load_unknown_calendar_is_not_found(db):
    from helpdesk.core.errors import NotFound
    from helpdesk.sla.business_calendars import load_calendar

    with pytest.raises(NotFound):
        load_calendar(12345)
