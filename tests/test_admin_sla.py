"""Admin pages of issue 3: business calendars (weekly grid, company holidays, public holidays,
deadline calculator), SLA policies and escalation rules. Permission matrix, CSRF, malformed
input (never a 500), query counts, and what an admin sees."""
# ruff: noqa: F811 - pytest fixtures imported from test_admin_support are parameters here

from __future__ import annotations

import re
from datetime import time

import pytest
import sqlalchemy as sa

from .test_admin_support import (  # noqa: F401 - fixtures
    ac,
    admin,
    count,
    new_client,
    post,
    text,
)

PRINCIPALS = ["anonymous", "customer_a", "customer_b", "agent_x", "agent_y", "supervisor", "admin"]
BUSINESS = [(wd, s, e) for wd in range(5) for s, e in ((time(8), time(12)), (time(13), time(18)))]
WEEK = {d: "08:00-12:00, 13:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}


def _calendar(db, name="Comercial", **kw):
    from helpdesk.sla.services import create_calendar

    kw.setdefault("intervals", [] if kw.get("is_24x7") else BUSINESS)
    calendar = create_calendar(name=name, **kw)
    db.session.commit()
    return calendar


def _get_calendar(db, name):
    from helpdesk.sla.models import BusinessCalendar

    db.session.expire_all()
    return db.session.scalar(sa.select(BusinessCalendar).where(BusinessCalendar.name == name))


@pytest.fixture
def world(db, make_department, make_user, admin):
    x = make_department("Billing")
    y = make_department("Technical")
    people = {
        "customer_a": make_user(role="customer", password=None),
        "customer_b": make_user(role="customer", password=None),
        "agent_x": make_user(role="agent", departments=[x], password=None),
        "agent_y": make_user(role="agent", departments=[y], password=None),
        "supervisor": make_user(role="supervisor", password=None),
        "admin": admin,
    }
    calendar = _calendar(db, "Comercial")
    from helpdesk.sla.services import add_holiday

    add_holiday(calendar, day=__import__("datetime").date(2026, 12, 24), name="Christmas Eve")
    db.session.commit()
    ids = {"calendar": calendar.id, "day": "2026-12-24"}
    return people, ids


GET_ROUTES = [
    "/admin/calendars",
    "/admin/calendars/new",
    "/admin/calendars/{calendar}",
    "/admin/calendars/{calendar}?start=2026-11-20T16:00&hours=9&minutes=0",
]
POST_ROUTES = [
    "/admin/calendars/new",
    "/admin/calendars/{calendar}",
    "/admin/calendars/{calendar}/holidays",
    "/admin/calendars/{calendar}/holidays/{day}/remove",
]
POST_ONLY = [
    "/admin/calendars/{calendar}/holidays",
    "/admin/calendars/{calendar}/holidays/{day}/remove",
]


def _client(new_client, world, who):
    return new_client(None if who == "anonymous" else world[0][who])


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("route", GET_ROUTES)
def test_get_matrix(new_client, world, who, route):
    response = _client(new_client, world, who).get(route.format(**world[1]))
    if who == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif who == "admin":
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("route", POST_ROUTES)
def test_post_matrix(new_client, world, who, route, db):
    client = _client(new_client, world, who)
    data = {"name": "Changed by someone", "timezone": "UTC", "country": "BR", "date": "2026-12-31"}
    data.update(WEEK)
    response = post(client, route.format(**world[1]), data)
    if who == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif who == "admin":
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403
    if who != "admin":
        calendar = _get_calendar(db, "Comercial")
        assert calendar is not None and [h.name for h in calendar.holidays] == ["Christmas Eve"]


@pytest.mark.parametrize("route", POST_ONLY)
def test_get_on_post_only_routes_is_405(ac, world, route):
    assert ac.get(route.format(**world[1])).status_code == 405


@pytest.mark.parametrize("route", POST_ROUTES)
def test_post_without_csrf_is_400_and_changes_nothing(ac, world, route, db):
    from helpdesk.sla.models import BusinessCalendar, CalendarHoliday

    data = {"name": "No token", "timezone": "UTC", "country": "BR", "date": "2026-12-31", **WEEK}
    response = ac.post(route.format(**world[1]), data=data)
    assert response.status_code == 400
    assert count(db, BusinessCalendar) == 1 and count(db, CalendarHoliday) == 1
    assert _get_calendar(db, "Comercial") is not None


def test_unknown_ids_are_404(ac, world):
    assert ac.get("/admin/calendars/999999").status_code == 404
    assert post(ac, "/admin/calendars/999999/holidays", {"date": "2026-01-02"}).status_code == 404
    cid = world[1]["calendar"]
    assert post(ac, f"/admin/calendars/{cid}/holidays/2026-13-45/remove").status_code == 404
    assert post(ac, f"/admin/calendars/{cid}/holidays/not-a-date/remove").status_code == 404
    assert post(ac, f"/admin/calendars/{cid}/holidays/2026-01-05/remove").status_code == 404


# calendars ---------------------------------------------------------------------------------------


def test_create_calendar_with_lunch_break(ac, db):
    page = text(ac.get("/admin/calendars/new"))
    assert page.index("America/Sao_Paulo") < page.index("Europe/Lisbon")
    assert re.search(r'<option selected value="BR">|<option value="BR" selected', page)
    response = post(
        ac,
        "/admin/calendars/new",
        {
            "name": "Atendimento SP",
            "timezone": "America/Sao_Paulo",
            "country": "BR",
            "subdivision": "SP",
            "active": "y",
            **WEEK,
            "sat": "8h-12h",
        },
    )
    assert response.status_code == 302
    calendar = _get_calendar(db, "Atendimento SP")
    assert calendar.subdivision == "SP" and not calendar.is_24x7
    spans = sorted((i.weekday, i.start_time, i.end_time) for i in calendar.intervals)
    assert spans[:2] == [(0, time(8), time(12)), (0, time(13), time(18))]
    assert spans[-1] == (5, time(8), time(12)) and len(spans) == 11
    html = text(ac.get("/admin/calendars"))
    assert "Atendimento SP" in html and "08:00-12:00, 13:00-18:00" in html
    assert "Brazil" in html and "America/Sao_Paulo" in html


def test_24x7_calendar_ignores_the_grid(ac, db):
    response = post(
        ac,
        "/admin/calendars/new",
        {"name": "Corridos", "timezone": "UTC", "country": "BR", "is_24x7": "y", **WEEK},
    )
    assert response.status_code == 302
    calendar = _get_calendar(db, "Corridos")
    assert calendar.is_24x7 and calendar.intervals == []
    assert "24×7" in text(ac.get("/admin/calendars"))


@pytest.mark.parametrize(
    "day, message",
    [
        ("08:00-12:00, 11:00-13:00", "The intervals of a day must not overlap."),
        ("12:00-08:00", "must start before it ends"),
        ("8 to lunch", "like 08:00-12:00"),
        ("25:00-26:00", "is not a time of day"),
        ("08:00-12:61", "is not a time of day"),
        ("x" * 500, "This day is too long"),
        (", ".join(["01:00-01:30"] * 13), "At most 12 intervals per day."),
    ],
)
def test_grid_errors_are_next_to_their_day(ac, db, day, message):
    from helpdesk.sla.models import BusinessCalendar

    response = post(
        ac,
        "/admin/calendars/new",
        {"name": "Bad", "timezone": "America/Sao_Paulo", "country": "BR", **WEEK, "wed": day},
    )
    assert response.status_code == 200
    html = text(response)
    assert message in html
    wed = html.index('id="wed"')
    assert html.index(message.replace("“", "")[:20], wed) < html.index('id="thu"')
    assert count(db, BusinessCalendar) == 0


def test_empty_week_and_bad_choices_are_form_errors(ac, db):
    from helpdesk.sla.models import BusinessCalendar

    response = post(
        ac, "/admin/calendars/new", {"name": "Empty", "timezone": "UTC", "country": "BR"}
    )
    assert response.status_code == 200
    assert "Give the working hours of at least one day" in text(response)
    for data in (
        {"timezone": "Mars/Olympus"},
        {"country": "XX"},
        {"subdivision": "ZZ"},
        {"name": "x" * 100_000},
        {"name": ""},
    ):
        base = {"name": "Bad", "timezone": "UTC", "country": "BR", **WEEK}
        response = post(ac, "/admin/calendars/new", {**base, **data})
        assert response.status_code == 200, data
        assert 'class="error"' in text(response), data
    assert count(db, BusinessCalendar) == 0


def test_24_00_ends_at_midnight_and_round_trips(ac, db):
    response = post(
        ac,
        "/admin/calendars/new",
        {"name": "Late", "timezone": "UTC", "country": "BR", "fri": "18:00-24:00"},
    )
    assert response.status_code == 302
    calendar = _get_calendar(db, "Late")
    assert 'value="18:00-24:00"' in text(ac.get(f"/admin/calendars/{calendar.id}"))


def test_edit_calendar_bumps_revision_and_duplicate_name(ac, db, world):
    _calendar(db, "Other")
    calendar = _get_calendar(db, "Comercial")
    revision = calendar.revision
    base = {"name": "Comercial", "timezone": "America/Sao_Paulo", "country": "BR", "active": "y"}
    response = post(ac, f"/admin/calendars/{calendar.id}", {**base, "name": "Other", **WEEK})
    assert response.status_code == 200
    assert "A calendar with this name already exists." in text(response)
    response = post(ac, f"/admin/calendars/{calendar.id}", {**base, "name": "Renamed", **WEEK})
    assert response.status_code == 302
    calendar = _get_calendar(db, "Renamed")
    assert calendar.revision == revision  # same hours, same zone: the arithmetic did not change
    week = {**WEEK, "fri": "08:00-12:00"}
    response = post(ac, f"/admin/calendars/{calendar.id}", {**base, "name": "Renamed", **week})
    assert response.status_code == 302
    calendar = _get_calendar(db, "Renamed")
    assert calendar.revision == revision + 1
    assert len([i for i in calendar.intervals if i.weekday == 4]) == 1
    assert "Calendar “Renamed” saved." in text(ac.get(f"/admin/calendars/{calendar.id}"))


def test_company_holidays_add_and_remove(ac, db, world):
    cid = world[1]["calendar"]
    response = post(
        ac, f"/admin/calendars/{cid}/holidays", {"date": "2026-12-31", "name": "Réveillon"}
    )
    assert response.status_code == 302
    html = text(ac.get(f"/admin/calendars/{cid}"))
    assert "Company holiday added." in html and "2026-12-31" in html and "Réveillon" in html
    response = post(ac, f"/admin/calendars/{cid}/holidays", {"date": "2026-12-31"})
    assert response.status_code == 200
    assert "This date is already a holiday of this calendar." in text(response)
    response = post(ac, f"/admin/calendars/{cid}/holidays", {"date": "31/31/2026"})
    assert response.status_code == 200 and "Not a valid date value." in text(response)
    response = post(
        ac, f"/admin/calendars/{cid}/holidays", {"date": "2026-11-30", "name": "x" * 500}
    )
    assert response.status_code == 200 and 'class="error"' in text(response)
    response = post(ac, f"/admin/calendars/{cid}/holidays/2026-12-31/remove")
    assert response.status_code == 302
    calendar = _get_calendar(db, "Comercial")
    assert [h.name for h in calendar.holidays] == ["Christmas Eve"]


def test_public_holidays_preview(ac, db, world):
    from helpdesk.core.clock import now

    year = now().year
    html = text(ac.get(f"/admin/calendars/{world[1]['calendar']}"))
    assert f"{year}-09-07" in html and f"{year + 1}-11-15" in html  # Independence, Republic
    assert f"{year + 2}-09-07" not in html
    assert "Public holidays" in html


def test_deadline_calculator(ac, db, world):
    cid = world[1]["calendar"]
    # Friday 16:00 + 9 working hours: 2 h on Friday, then (Sunday 15 is Republic Day) Monday
    # 08-12, 13-16
    html = text(ac.get(f"/admin/calendars/{cid}?start=2026-11-13T16:00&hours=9&minutes=0"))
    assert "Due: Monday, 16 Nov 2026, 16:00" in html
    assert "Outside working time" not in html
    # Friday 20 Nov 2026 is a national holiday (Black Consciousness Day)
    html = text(ac.get(f"/admin/calendars/{cid}?start=2026-11-20T16:00&hours=9&minutes=0"))
    assert "Due: Monday, 23 Nov 2026, 18:00" in html
    # before a company holiday: Wednesday 23 Dec 17:00 + 2 h -> Thu 24 is off, Fri 25 Christmas
    html = text(ac.get(f"/admin/calendars/{cid}?start=2026-12-23T17:00&hours=2"))
    assert "Due: Monday, 28 Dec 2026, 09:00" in html
    # outside working hours: the clock starts at the next working instant
    html = text(ac.get(f"/admin/calendars/{cid}?start=2026-11-21T10:00&hours=1"))
    assert "the clock starts counting on Monday, 23 Nov 2026, 08:00" in html
    for query in (
        "start=yesterday&hours=1",
        "start=1800-01-01T10:00&hours=1",
        "start=2026-11-20T16:00&hours=-3",
        "start=2026-11-20T16:00&hours=abc",
        "start=2026-11-20T16:00%2B03:00&hours=1",
        "start=" + "9" * 5000,
    ):
        response = ac.get(f"/admin/calendars/{cid}?{query}")
        assert response.status_code == 200, query
        assert 'class="error"' in text(response), query
        assert "Due:" not in text(response), query


def test_cannot_deactivate_a_calendar_an_active_policy_uses(ac, db, world):
    from helpdesk.sla.services import create_policy

    calendar = _get_calendar(db, "Comercial")
    create_policy(name="Fast", first_response_minutes=60, first_response_calendar_id=calendar.id)
    db.session.commit()
    data = {"name": "Comercial", "timezone": "America/Sao_Paulo", "country": "BR", **WEEK}
    response = post(ac, f"/admin/calendars/{calendar.id}", data)  # active unchecked
    assert response.status_code == 200
    assert "The active policy “Fast” uses this calendar" in text(response)
    assert _get_calendar(db, "Comercial").active


def test_calendar_list_query_count_does_not_grow(ac, db, count_queries):
    _calendar(db, "First")
    ac.get("/admin/calendars")
    db.session.expire_all()
    with count_queries() as few:
        ac.get("/admin/calendars")
    for i in range(8):
        _calendar(db, f"Cal {i}", is_24x7=bool(i % 2))
    db.session.expire_all()
    with count_queries() as many:
        response = ac.get("/admin/calendars")
    assert "Cal 7" in text(response)
    assert many.count == few.count


def test_update_calendar_service(db):
    from helpdesk.core.errors import ValidationError
    from helpdesk.sla.services import update_calendar

    calendar = _calendar(db, "Svc")
    revision = calendar.revision
    update_calendar(calendar, timezone="America/Manaus")
    assert calendar.revision == revision + 1
    update_calendar(calendar, is_24x7=True)
    assert calendar.is_24x7 and calendar.intervals == [] and calendar.revision == revision + 2
    with pytest.raises(ValidationError) as exc:
        update_calendar(calendar, is_24x7=False)
    assert exc.value.field == "intervals"
    with pytest.raises(ValidationError) as exc:
        update_calendar(calendar, subdivision="XX")
    assert exc.value.field == "subdivision"
    with pytest.raises(TypeError):
        update_calendar(calendar, colour="red")
