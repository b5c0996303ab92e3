"""Admin pages of issue 3: business calendars (weekly grid, company holidays, public holidays,
deadline calculator), SLA policies and escalation rules. Permission matrix, CSRF, malformed
input (never a 500), query counts, and what an admin sees."""
# ruff: noqa: F811 - pytest fixtures imported from test_admin_support are parameters here

from __future__ import annotations

import re
from datetime import time

import pytest
import sqlalchemy as sa

from tests.conftest import module_world

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
    from helpdesk.sla.business_calendars import create_calendar

    kw.setdefault("intervals", [] if kw.get("is_24x7") else BUSINESS)
    calendar = create_calendar(name=name, **kw)
    db.session.commit()
    return calendar


def _get_calendar(db, name):
    from helpdesk.sla.models import BusinessCalendar

    db.session.expire_all()
    return db.session.scalar(sa.select(BusinessCalendar).where(BusinessCalendar.name == name))


@module_world
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
    from helpdesk.sla.business_calendars import add_holiday

    add_holiday(calendar, day=__import__("datetime").date(2026, 12, 24), name="Christmas Eve")
    from helpdesk.sla.policies import create_policy

    policy = create_policy(
        name="Urgent billing",
        priority=4,
        department_id=x.id,
        first_response_minutes=60,
        first_response_calendar_id=calendar.id,
        resolution_minutes=7 * 24 * 60,
    )
    from helpdesk.escalations.services import create_rule

    rule = create_rule(
        name="Supervise late billing",
        department_id=x.id,
        target="resolution",
        trigger="elapsed",
        percent=75,
        level=1,
    )
    db.session.commit()
    ids = {
        "calendar": calendar.id,
        "day": "2026-12-24",
        "policy": policy.id,
        "dept": x.id,
        "rule": rule.id,
        "supervisor": people["supervisor"].id,
    }
    return people, ids


GET_ROUTES = [
    "/admin/calendars",
    "/admin/calendars/new",
    "/admin/calendars/{calendar}",
    "/admin/calendars/{calendar}?start=2026-11-20T16:00&hours=9&minutes=0",
    "/admin/policies",
    "/admin/policies/new",
    "/admin/policies/{policy}",
    "/admin/escalation-rules",
    "/admin/escalation-rules/new",
    "/admin/escalation-rules/{rule}",
]
POST_ROUTES = [
    "/admin/calendars/new",
    "/admin/calendars/{calendar}",
    "/admin/calendars/{calendar}/holidays",
    "/admin/calendars/{calendar}/holidays/{day}/remove",
    "/admin/policies/new",
    "/admin/policies/{policy}",
    "/admin/policies/{policy}/move",
    "/admin/escalation-rules/new",
    "/admin/escalation-rules/{rule}",
    "/admin/escalation-rules/{rule}/move",
]
POST_ONLY = [
    "/admin/escalation-rules/{rule}/move",
    "/admin/policies/{policy}/move",
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
    data.update(WEEK, direction="down", first_response_minutes="2", first_response_unit="hours")
    data.update(target="resolution", trigger="after_breach", level="2", ack_minutes="60")
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
        assert _policy(db, "Urgent billing").first_response_minutes == 60
        assert _esc_rule(db, "Supervise late billing").level == 1


@pytest.mark.parametrize("route", POST_ONLY)
def test_get_on_post_only_routes_is_405(ac, world, route):
    assert ac.get(route.format(**world[1])).status_code == 405


@pytest.mark.csrf
@pytest.mark.parametrize("route", POST_ROUTES)
def test_post_without_csrf_is_400_and_changes_nothing(ac, world, route, db):
    from helpdesk.sla.models import BusinessCalendar, CalendarHoliday, SlaPolicy

    data = {"name": "No token", "timezone": "UTC", "country": "BR", "date": "2026-12-31", **WEEK}
    data.update(direction="up", first_response_minutes="1", first_response_unit="hours")
    response = ac.post(route.format(**world[1]), data=data)
    assert response.status_code == 400
    assert count(db, BusinessCalendar) == 1 and count(db, CalendarHoliday) == 1
    assert count(db, SlaPolicy) == 1 and _policy(db, "Urgent billing") is not None
    assert _esc_rule(db, "Supervise late billing").trigger == "elapsed"
    assert _get_calendar(db, "Comercial") is not None


def _policy(db, name):
    from helpdesk.sla.models import SlaPolicy

    db.session.expire_all()
    return db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.name == name))


def _esc_rule(db, name):
    from helpdesk.escalations.models import EscalationRule

    db.session.expire_all()
    return db.session.scalar(sa.select(EscalationRule).where(EscalationRule.name == name))


def test_unknown_ids_are_404(ac, world):
    assert ac.get("/admin/escalation-rules/999999").status_code == 404
    assert post(ac, "/admin/escalation-rules/999999/move", {"direction": "up"}).status_code == 404
    assert ac.get("/admin/calendars/999999").status_code == 404
    assert ac.get("/admin/policies/999999").status_code == 404
    assert post(ac, "/admin/policies/999999/move", {"direction": "up"}).status_code == 404
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
    # Independence, Republic (dates in the user's locale: en here)
    assert f"09/07/{year}" in html and f"11/15/{year + 1}" in html
    assert f"09/07/{year + 2}" not in html
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
    from helpdesk.sla.policies import create_policy

    calendar = _get_calendar(db, "Comercial")
    create_policy(name="Fast", first_response_minutes=60, first_response_calendar_id=calendar.id)
    db.session.commit()
    data = {"name": "Comercial", "timezone": "America/Sao_Paulo", "country": "BR", **WEEK}
    response = post(ac, f"/admin/calendars/{calendar.id}", data)  # active unchecked
    assert response.status_code == 200
    assert "uses this calendar: choose another calendar there first." in text(response)
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
    from helpdesk.sla.business_calendars import update_calendar

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


# SLA policies ------------------------------------------------------------------------------------


def test_policy_list_shows_order_conditions_and_targets(ac, db, world):
    from helpdesk.sla.policies import ensure_default_policy

    ensure_default_policy()
    db.session.commit()
    html = text(ac.get("/admin/policies"))
    assert html.index("Urgent billing") < html.index(">SAC<")
    assert "Urgent" in html and "Billing" in html
    assert "First response: <strong>1 h</strong>" in html and "on Comercial" in html
    assert "Resolution: <strong>7 d</strong>" in html and "calendar time" in html
    assert "Legal resolution deadline" in html and "Every demand" in html
    assert "Pending customer" in html or "Waiting for the customer" in html or "pending" in html


def test_create_policy_with_three_targets(ac, db, world):
    calendar_id = world[1]["calendar"]
    page = text(ac.get("/admin/policies/new"))
    assert "Next response (after each customer message)" in page and "24×7 (calendar time)" in page
    response = post(
        ac,
        "/admin/policies/new",
        {
            "name": "Premium web",
            "active": "y",
            "channel": "web",
            "segment": "premium",
            "kind": "complaint",
            "first_response_minutes": "2",
            "first_response_unit": "hours",
            "first_response_calendar_id": str(calendar_id),
            "next_response_minutes": "90",
            "next_response_unit": "minutes",
            "next_response_calendar_id": str(calendar_id),
            "resolution_minutes": "5",
            "resolution_unit": "days",
            "resolution_calendar_id": "",
            "pause_statuses": ["pending_customer", "new"],
            "resolution_is_legal": "y",
        },
    )
    assert response.status_code == 302
    policy = _policy(db, "Premium web")
    assert (policy.channel, policy.segment, policy.kind) == ("web", "premium", "complaint")
    assert policy.first_response_minutes == 120
    assert policy.first_response_calendar_id == calendar_id
    assert policy.next_response_minutes == 90 and policy.next_response_calendar_id == calendar_id
    assert policy.resolution_minutes == 5 * 24 * 60 and policy.resolution_calendar_id is None
    assert policy.pause_statuses == ["new", "pending_customer"] and policy.resolution_is_legal
    assert policy.priority is None and policy.department_id is None and policy.category_id is None
    html = text(ac.get("/admin/policies"))
    assert "SLA policy “Premium web” saved." in html
    body = html[html.index("<tbody>") :]
    assert body.index("Premium web") < body.index("Urgent billing")  # new ones start at the top
    # the edit page shows what was saved, in the units it was given
    html = text(ac.get(f"/admin/policies/{policy.id}"))
    assert 'name="resolution_minutes" type="number" value="5"' in html.replace(' min="1"', "")
    assert 'name="first_response_minutes" type="number" value="2"' in html.replace(' min="1"', "")


def test_edit_policy_and_clear_a_target(ac, db, world):
    policy = _policy(db, "Urgent billing")
    data = {
        "name": "Urgent billing",
        "active": "y",
        "priority": "4",
        "department_id": str(world[1]["dept"]),
        "first_response_minutes": "",
        "resolution_minutes": "3",
        "resolution_unit": "days",
    }
    response = post(ac, f"/admin/policies/{policy.id}", data)
    assert response.status_code == 302
    policy = _policy(db, "Urgent billing")
    assert policy.first_response_minutes is None and policy.resolution_minutes == 3 * 1440
    assert policy.pause_statuses == [] and policy.priority == 4


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Please give at least one target"),
        (
            {
                "first_response_minutes": "1",
                "first_response_unit": "days",
                "first_response_calendar_id": "{calendar}",
            },
            "Calendar days count every minute",
        ),
        ({"first_response_minutes": "abc"}, "Not a valid integer value."),
        ({"first_response_minutes": "-5"}, "Number must be between 1 and 999999."),
        ({"resolution_minutes": "400", "resolution_unit": "days"}, "between 1 and one year"),
        ({"resolution_minutes": "1", "resolution_unit": "weeks"}, "Not a valid choice."),
        ({"resolution_minutes": "1", "priority": "9"}, "Not a valid choice."),
        ({"resolution_minutes": "1", "category_id": "999999"}, "Not a valid choice."),
        ({"resolution_minutes": "1", "department_id": "abc"}, "Not a valid choice."),
        ({"resolution_minutes": "1", "resolution_calendar_id": "999999"}, "Not a valid choice."),
        ({"resolution_minutes": "1", "pause_statuses": ["closed"]}, "not a valid choice"),
        (
            {"resolution_minutes": "1", "name": "Urgent billing"},
            "A policy with this name already exists.",
        ),
        ({"resolution_minutes": "1", "name": "x" * 50_000}, "Field cannot be longer than 120"),
    ],
)
def test_policy_errors_are_shown_and_nothing_is_saved(ac, db, world, data, message):
    from helpdesk.sla.models import SlaPolicy

    data = {"name": "Broken", **data}
    data = {k: (v.format(**world[1]) if isinstance(v, str) else v) for k, v in data.items()}
    response = post(ac, "/admin/policies/new", data)
    assert response.status_code == 200
    assert message.lower() in text(response).lower()
    assert count(db, SlaPolicy) == 1


def test_inactive_calendar_is_not_offered_for_new_policies(ac, db, world):
    other = _calendar(db, "Old hours")
    from helpdesk.sla.business_calendars import update_calendar

    update_calendar(other, active=False)
    db.session.commit()
    assert "Old hours" not in text(ac.get("/admin/policies/new"))
    response = post(
        ac,
        "/admin/policies/new",
        {"name": "P", "first_response_minutes": "1", "first_response_calendar_id": str(other.id)},
    )
    assert response.status_code == 200 and "Not a valid choice." in text(response)


def test_move_policies(ac, db, world):
    from helpdesk.sla.policies import ensure_default_policy

    ensure_default_policy()
    db.session.commit()
    sac = _policy(db, "SAC")
    assert post(ac, f"/admin/policies/{sac.id}/move", {"direction": "up"}).status_code == 302
    html = text(ac.get("/admin/policies"))
    assert "Policy “SAC” moved." in html
    assert html.index(">SAC<") < html.index("Urgent billing")
    assert post(ac, f"/admin/policies/{sac.id}/move", {"direction": "up"}).status_code == 302
    assert post(ac, f"/admin/policies/{sac.id}/move", {"direction": "sideways"}).status_code == 400
    assert post(ac, f"/admin/policies/{sac.id}/move", {}).status_code == 400
    html = text(ac.get("/admin/policies"))
    assert html.index(">SAC<") < html.index("Urgent billing")


def test_policy_list_query_count_does_not_grow(ac, db, world, count_queries):
    from helpdesk.sla.policies import create_policy

    calendar_id = world[1]["calendar"]

    def add(name, i=0):
        create_policy(
            name=name,
            priority=1 + i % 4,
            first_response_minutes=60,
            first_response_calendar_id=calendar_id,
            next_response_minutes=30,
            next_response_calendar_id=calendar_id,
            resolution_minutes=600,
            resolution_calendar_id=calendar_id,
        )
        db.session.commit()

    add("Policy base")
    ac.get("/admin/policies")
    db.session.expire_all()
    with count_queries() as few:
        ac.get("/admin/policies")
    for i in range(8):
        add(f"Policy {i}", i)
    db.session.expire_all()
    with count_queries() as many:
        response = ac.get("/admin/policies")
    assert "Policy 7" in text(response)
    assert many.count == few.count


# escalation rules --------------------------------------------------------------------------------


def _rule_data(**over):
    data = {
        "name": "Ombudsman after breach",
        "active": "y",
        "target": "resolution",
        "trigger": "after_breach",
        "offset_minutes": "120",
        "percent": "",
        "level": "3",
        "notify_supervisors": "y",
        "to_ombudsman": "y",
        "set_priority": "4",
        "ack_minutes": "60",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_escalation_rule_list(ac, db, world):
    html = text(ac.get("/admin/escalation-rules"))
    assert "Supervise late billing" in html and "75% elapsed" in html
    assert "1 · Supervision" in html and "Billing" in html
    assert "Notify the assignee" in html and "Acknowledge within 4 h" in html


def test_create_escalation_rule_with_actions(ac, db, world):
    page = text(ac.get("/admin/escalation-rules/new"))
    assert "3 — Ombudsman" in page and "Share of the target elapsed" in page
    supervisor = world[1]["supervisor"]
    response = post(
        ac,
        "/admin/escalation-rules/new",
        _rule_data(
            notify_user_ids=[str(supervisor)],
            reassign_department_id=str(world[1]["dept"]),
            kind="complaint",
        ),
    )
    assert response.status_code == 302
    rule = _esc_rule(db, "Ombudsman after breach")
    assert (rule.trigger, rule.offset_minutes, rule.percent, rule.level) == (
        "after_breach",
        120,
        None,
        3,
    )
    assert rule.to_ombudsman and rule.set_priority == 4 and rule.ack_minutes == 60
    assert rule.notify_user_ids == [supervisor] and not rule.notify_assignee
    assert rule.reassign_department_id == world[1]["dept"] and rule.kind == "complaint"
    html = text(ac.get("/admin/escalation-rules"))
    assert "Escalation rule “Ombudsman after breach” saved." in html
    assert "2 h after the breach" in html and "Send to the ombudsman" in html
    body = html[html.index("<tbody>") :]
    assert body.index("Supervise late billing") < body.index("Ombudsman after breach")
    # edit: switch to a share elapsed, the offset is dropped
    response = post(
        ac,
        f"/admin/escalation-rules/{rule.id}",
        _rule_data(trigger="elapsed", percent="90", level="2", to_ombudsman=None),
    )
    assert response.status_code == 302
    rule = _esc_rule(db, "Ombudsman after breach")
    assert (rule.trigger, rule.percent, rule.offset_minutes, rule.level) == (
        "elapsed",
        90,
        None,
        2,
    )
    assert 'value="90"' in text(ac.get(f"/admin/escalation-rules/{rule.id}"))


@pytest.mark.parametrize(
    "over, message",
    [
        ({"level": "2"}, "Moving to the ombudsman is the ombudsman level"),
        ({"trigger": "elapsed", "percent": ""}, "Please give a share from 1 to 100 %."),
        ({"trigger": "elapsed", "percent": "150"}, "Number must be between 1 and 100."),
        ({"trigger": "sometime"}, "Not a valid choice."),
        ({"target": "lunch"}, "Not a valid choice."),
        ({"level": "7"}, "Not a valid choice."),
        ({"level": ""}, "This field is required."),
        ({"offset_minutes": "-1"}, "Number must be between 0 and"),
        ({"offset_minutes": "soon"}, "Not a valid integer value."),
        ({"ack_minutes": "0"}, "Number must be between 1 and"),
        ({"ack_minutes": ""}, "This field is required."),
        ({"notify_user_ids": ["999999"]}, "Not a valid choice"),
        ({"notify_user_ids": ["abc"]}, "could not be coerced"),
        ({"reassign_user_id": "abc"}, "Not a valid choice."),
        ({"department_id": "999999"}, "Not a valid choice."),
        ({"name": "Supervise late billing"}, "A rule with this name already exists."),
        ({"name": "y" * 20_000}, "Field cannot be longer than 120"),
    ],
)
def test_escalation_rule_errors(ac, db, world, over, message):
    from helpdesk.escalations.models import EscalationRule

    response = post(ac, "/admin/escalation-rules/new", _rule_data(**over))
    assert response.status_code == 200
    assert message.lower() in text(response).lower()
    assert count(db, EscalationRule) == 1


def test_customer_cannot_be_notified(ac, db, world):
    customer = world[0]["customer_a"]
    response = post(
        ac, "/admin/escalation-rules/new", _rule_data(notify_user_ids=[str(customer.id)])
    )
    assert response.status_code == 200 and "is not a valid choice" in text(response)
    assert f"&lt;{customer.email}&gt;" not in text(ac.get("/admin/escalation-rules/new"))


def test_move_escalation_rules(ac, db, world):
    assert post(ac, "/admin/escalation-rules/new", _rule_data()).status_code == 302
    rule = _esc_rule(db, "Ombudsman after breach")
    path = f"/admin/escalation-rules/{rule.id}/move"
    assert post(ac, path, {"direction": "up"}).status_code == 302
    html = text(ac.get("/admin/escalation-rules"))
    assert "Escalation rule “Ombudsman after breach” moved." in html
    body = html[html.index("<tbody>") :]
    assert body.index("Ombudsman after breach") < body.index("Supervise late billing")
    assert post(ac, path, {"direction": "left"}).status_code == 400


def test_escalation_rule_list_query_count_does_not_grow(ac, db, world, count_queries):
    from helpdesk.escalations.services import create_rule

    people, ids = world

    def add(name):
        create_rule(
            name=name,
            department_id=ids["dept"],
            target="first_response",
            trigger="after_breach",
            offset_minutes=30,
            level=2,
            notify_user_ids=[ids["supervisor"], people["agent_x"].id],
            reassign_department_id=ids["dept"],
            reassign_user_id=people["agent_x"].id,
        )
        db.session.commit()

    add("Base rule")
    ac.get("/admin/escalation-rules")
    db.session.expire_all()
    with count_queries() as few:
        ac.get("/admin/escalation-rules")
    for i in range(8):
        add(f"Rule {i}")
    db.session.expire_all()
    with count_queries() as many:
        response = ac.get("/admin/escalation-rules")
    assert "Rule 7" in text(response)
    assert many.count == few.count


def test_overview_links_the_sla_sections(ac, db, world):
    html = text(ac.get("/admin/"))
    for title, path in (
        ("Business calendars", "/admin/calendars"),
        ("SLA policies", "/admin/policies"),
        ("Escalation rules", "/admin/escalation-rules"),
    ):
        assert title in html and f'href="{path}"' in html
    assert "Active calendars: working hours" in html


XSS = '<img src=x onerror=alert(1)><script>alert("x")</script>'


def test_names_are_escaped(ac, db, world):
    from helpdesk.escalations.services import create_rule
    from helpdesk.sla.business_calendars import add_holiday
    from helpdesk.sla.policies import create_policy

    calendar = _calendar(db, XSS)
    add_holiday(calendar, day=__import__("datetime").date(2026, 3, 3), name=XSS + "h")
    create_policy(name=XSS + "p", first_response_minutes=5, first_response_calendar_id=calendar.id)
    create_rule(name=XSS + "r", target="resolution", trigger="after_breach", level=2)
    db.session.commit()
    for page in (
        "/admin/calendars",
        f"/admin/calendars/{calendar.id}",
        "/admin/policies",
        "/admin/policies/new",
        "/admin/escalation-rules",
    ):
        html = text(ac.get(page))
        assert "<img src=x" not in html and '<script>alert("x")' not in html, page
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, page


def test_pages_render_in_portuguese(new_client, make_user, db, world):
    admin_pt = make_user(role="admin", password=None, locale="pt_BR")
    client = new_client(admin_pt)
    cid = world[1]["calendar"]
    html = text(client.get(f"/admin/calendars/{cid}?start=2026-11-13T16:00&hours=9"))
    assert "segunda-feira, 16 nov. 2026, 16:00" in html
    assert "Brasil" in html
    for page in ("/admin/calendars", "/admin/policies/new", "/admin/escalation-rules/new"):
        assert client.get(page).status_code == 200
