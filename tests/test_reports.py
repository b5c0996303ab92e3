"""The supervisors' reports (helpdesk/reports): each report's numbers on a small hand-built set of
demands, the console pages (charts, tables, CSV/XLSX, drill-down, permission), the API (JSON, CSV,
422, 403) and a query count that does not grow with the rows."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

ZONE = ZoneInfo("America/Sao_Paulo")  # UTC-3, no daylight saving
AT = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
FROM, TO = "2026-03-01", "2026-03-31"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of March 2026 given in São Paulo time."""
    return datetime.combine(date(2026, 3, day), time(hour, minute), tzinfo=ZONE).astimezone(UTC)


def params(**kw):
    from helpdesk.reports.params import Params

    values = {"first": date(2026, 3, 1), "last": date(2026, 3, 31), "zone": ZONE, "at": AT}
    values.update(kw)
    return Params(**values)


def rows(name, p=None):
    from helpdesk.reports.catalog import get_report
    from helpdesk.reports.registry import run_report

    return run_report(get_report(name), p or params()).rows


def by_key(name, p=None):
    return {r["key"]: r for r in rows(name, p)}


@pytest.fixture
def world(db, make_department, make_ticket, make_user):
    """Two departments; five demands in March (São Paulo time) and one in February."""
    from helpdesk.tickets.models import Category

    sales = make_department("Vendas")
    billing = make_department("Cobrança")
    category = Category(name="Billing", name_pt_br="Cobrança indevida")
    db.session.add(category)
    db.session.commit()
    agent = make_user(role="agent", departments=[sales, billing], name="Ana Agente")

    def ticket(dept, created, channel="phone", kind="complaint", **columns):
        t = make_ticket(channel=channel, kind=kind)
        t.department_id = dept.id
        t.created_at = created
        for key, value in columns.items():
            setattr(t, key, value)
        if t.resolved_at is not None:
            t.status = "resolved"
        db.session.commit()
        return t

    t1 = ticket(
        sales,
        local(2, 10),
        first_response_at=local(2, 11),
        resolved_at=local(3, 10),
        rating=5,
        customer_verdict="resolved",
        assignee_id=agent.id,
        category_id=category.id,
    )
    t2 = ticket(
        sales,
        local(5, 10, 30),
        first_response_at=local(5, 12, 30),
        resolved_at=local(5, 14, 30),
        rating=4,
        customer_verdict="resolved",
        assignee_id=agent.id,
    )
    t3 = ticket(
        billing,
        local(10, 22),
        channel="email",
        kind="request",
        first_response_at=local(11, 8),
        resolved_at=local(12, 22),
        rating=2,
        customer_verdict="not_resolved",
        category_id=category.id,
    )
    t4 = ticket(billing, local(20, 9), channel="email", resolved_at=local(21, 9))
    t5 = ticket(sales, local(31, 23, 30), channel="web", kind="suggestion")  # 02:30 UTC on 1 April
    old = ticket(sales, datetime(2026, 2, 10, 12, tzinfo=UTC), first_response_at=None)
    return {
        "sales": sales,
        "billing": billing,
        "agent": agent,
        "category": category,
        "tickets": (t1, t2, t3, t4, t5),
        "old": old,
    }


# the numbers ---------------------------------------------------------------------------------------


def test_volume_by_channel_kind_department_counts_the_period_in_the_users_zone(world):
    channel = by_key("volume_by_channel")
    assert {k: r["count"] for k, r in channel.items()} == {"phone": 2, "email": 2, "web": 1}
    assert channel["phone"]["drill"] == {
        "queue": "department",
        "status": "any",
        "from": FROM,
        "to": TO,
        "channel": "phone",
    }
    kind = by_key("volume_by_kind")
    assert {k: r["count"] for k, r in kind.items()} == {
        "complaint": 3,
        "request": 1,
        "suggestion": 1,
    }
    dept = by_key("volume_by_department")
    sales, billing = world["sales"].id, world["billing"].id
    assert (dept[sales]["total"], dept[sales]["complaint"], dept[sales]["suggestion"]) == (3, 2, 1)
    assert (dept[billing]["total"], dept[billing]["request"]) == (2, 1)
    # a filter narrows every count; a scope without the department shows nothing of it
    assert {r["key"] for r in rows("volume_by_channel", params(department_id=billing))} == {"email"}
    assert rows("volume_by_kind", params(scope=(), kind=None)) == []
    assert sum(r["count"] for r in rows("volume_by_kind", params(channel="email"))) == 2


def test_volume_by_hour_and_day_are_local(world):
    hours = {r["key"]: r["total"] for r in rows("volume_by_hour")}
    assert hours[10] == 2 and hours[22] == 1 and hours[9] == 1 and hours[23] == 1
    assert sum(hours.values()) == 5
    days = {r["key"]: r["total"] for r in rows("volume_by_day")}
    assert len(days) == 31
    assert days["2026-03-31"] == 1  # 23:30 in São Paulo is 1 April in UTC
    assert days["2026-03-10"] == 1 and days["2026-03-11"] == 0


def test_category_rows_name_the_category_in_the_users_language(world, app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("pt_BR"):
        found = by_key("volume_by_category")
    assert found[world["category"].id]["label"] == "Cobrança indevida"
    assert found[world["category"].id]["count"] == 2
    assert found[None]["count"] == 3 and found[None]["drill"] is None


def test_backlog_by_age_at_the_end_of_the_period(world):
    # at the end of March: t4 resolved on the 21st; t5 (31st, 23:30) opened 30 min before the end
    found = by_key("backlog")
    assert found["lt1d"]["total"] == 1 and found["lt1d"]["suggestion"] == 1
    # the February demand is still open, 49 days old
    assert found["gt30d"]["total"] == 1
    assert sum(r["total"] for r in found.values()) == 2


def test_first_response_and_resolution_median_and_p90(world):
    found = by_key("first_response_time")
    # minutes to answer: 60, 120, 600 (22:00 -> 08:00)
    assert found[None]["count"] == 3
    assert found[None]["median"] == pytest.approx(120)
    assert found[None]["p90"] == pytest.approx(120 + 0.8 * 480)
    assert found[world["sales"].id]["median"] == pytest.approx(90)
    resolution = by_key("resolution_time")
    # minutes to resolve: 1440, 240, 2880, 1440
    assert resolution[None]["count"] == 4
    assert resolution[None]["median"] == pytest.approx(1440)
    assert resolution[world["billing"].id]["p90"] == pytest.approx(1440 + 0.9 * 1440)


def test_working_time_counts_the_sla_calendar(world, db):
    from helpdesk.sla.business_calendars import create_calendar
    from helpdesk.sla.models import TicketSla

    office = create_calendar(
        name="Office",
        intervals=[(d, time(9), time(18)) for d in range(5)],
    )
    db.session.flush()
    t3 = world["tickets"][2]  # Tuesday 10 March 22:00 -> Wednesday 08:00: no working time
    t1 = world["tickets"][0]  # Monday 2 March 10:00 -> 11:00: one working hour
    for t in (t1, t3):
        db.session.add(
            TicketSla(
                ticket_id=t.id,
                target="first_response",
                started_at=t.created_at,
                due_at=t.created_at + timedelta(hours=8),
                met_at=t.first_response_at,
                calendar_id=office.id,
            )
        )
    db.session.commit()
    found = by_key("first_response_working_time")
    minutes = sorted([60, 0, 120])  # t2 has no target: calendar time
    assert found[None]["median"] == pytest.approx(minutes[1])
    assert found[world["billing"].id]["median"] == pytest.approx(0)


def test_csat_and_response_rate_by_department_agent_and_category(world):
    dept = by_key("csat_by_department")
    sales, billing = dept[world["sales"].id], dept[world["billing"].id]
    assert (sales["resolved"], sales["rated"], sales["satisfied"], sales["csat"]) == (
        2,
        2,
        2,
        100.0,
    )
    assert (billing["resolved"], billing["rated"], billing["csat"]) == (2, 1, 0.0)
    assert billing["response_rate"] == 50.0
    agent = by_key("csat_by_agent")[world["agent"].id]
    assert (agent["rated"], agent["csat"], agent["label"]) == (2, 100.0, "Ana Agente")
    category = by_key("csat_by_category")[world["category"].id]
    assert (category["rated"], category["satisfied"], category["csat"]) == (2, 1, 50.0)


def test_resolved_in_the_customers_word_ombudsman_and_reopen(world, db):
    from helpdesk.escalations.models import Escalation
    from helpdesk.tickets.events import record_event

    t3 = world["tickets"][2]
    db.session.add(
        Escalation(
            ticket_id=t3.id,
            level=3,
            trigger="customer",
            reason="not_resolved",
            department_id=t3.department_id,
            raised_at=local(13, 9),
            ack_due_at=local(14, 9),
        )
    )
    event = record_event(t3, None, "status", field="status", old="resolved", new="reopened")
    event.created_at = local(13, 9)
    db.session.commit()
    verdict = by_key("customer_verdict")
    assert verdict[world["sales"].id]["share"] == 100.0
    b = verdict[world["billing"].id]
    assert (b["answered"], b["resolved"], b["not_resolved"], b["share"]) == (1, 0, 1, 0.0)
    ombudsman = by_key("ombudsman")
    assert ombudsman[world["billing"].id]["ombudsman"] == 1
    assert ombudsman[world["billing"].id]["share"] == 50.0
    assert ombudsman[world["sales"].id]["ombudsman"] == 0
    reopen = by_key("reopen_rate")
    assert (reopen[world["billing"].id]["reopened"], reopen[world["billing"].id]["rate"]) == (
        1,
        50.0,
    )
    assert reopen[world["sales"].id]["rate"] == 0.0


def test_sla_compliance_counts_targets_due_in_the_period(world, db):
    from helpdesk.sla.models import TicketSla

    t1, t2, t3, _t4, _t5 = world["tickets"]
    for t, due, met in (
        (t1, local(2, 12), local(2, 11)),  # on time
        (t2, local(5, 11), local(5, 12, 30)),  # late
        (t3, local(11, 6), None),  # breached
    ):
        db.session.add(
            TicketSla(
                ticket_id=t.id,
                target="first_response",
                started_at=t.created_at,
                due_at=due,
                met_at=met,
            )
        )
    db.session.commit()
    found = by_key("sla_compliance")
    sales = found[f"{world['sales'].id}:first_response"]
    assert (sales["on_time"], sales["late"], sales["breached"], sales["compliance"]) == (
        1,
        1,
        0,
        50.0,
    )
    billing = found[f"{world['billing'].id}:first_response"]
    assert (billing["breached"], billing["compliance"]) == (1, 0.0)


def test_recurrence_before_and_after_the_fix(world, db, make_ticket):
    from helpdesk.investigations.models import CapaAction, Investigation

    inv = Investigation(
        number="INV-00042",
        title="Cobrança em dobro",
        category_id=world["category"].id,
        status="closed",
    )
    db.session.add(inv)
    db.session.flush()
    db.session.add(
        CapaAction(
            investigation_id=inv.id,
            description="Corrigir",
            kind="corrective",
            status="done",
            done_at=local(11, 12),
        )
    )
    db.session.commit()
    # before the fix (11 March): t1 (2nd) and t3 (10th); after: one more on the 15th
    extra = make_ticket()
    extra.category_id, extra.created_at = world["category"].id, local(15, 10)
    db.session.commit()
    (row,) = rows("recurrence", params(at=datetime(2026, 3, 21, 12, tzinfo=UTC)))
    assert (row["key"], row["fixed_on"], row["days"]) == ("INV-00042", "2026-03-11", 10)
    assert (row["before"], row["after"], row["change"]) == (2, 1, -50.0)


# the console -----------------------------------------------------------------------------------------


@pytest.fixture
def supervisor(world, make_user):
    return make_user(
        role="supervisor", departments=[world["sales"], world["billing"]], locale="pt_BR"
    )


def test_dashboard_shows_tiles_and_charts_to_a_supervisor(world, supervisor, client, auth):
    auth.login(supervisor)
    response = client.get(f"/console/reports?from={FROM}&to={TO}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<svg") >= 6
    assert 'role="img"' in html and "<desc" in html
    assert "Relatórios" in html
    assert "/console/?queue=department" in html.replace("&amp;", "&")  # drill-down links


def test_agent_may_not_see_reports(world, client, auth):
    auth.login(world["agent"])
    assert client.get("/console/reports").status_code == 403
    assert client.get("/console/reports/volume_by_kind?format=csv").status_code == 403


def test_report_page_csv_and_xlsx(world, supervisor, client, auth):
    auth.login(supervisor)
    page = client.get(f"/console/reports/volume_by_channel?from={FROM}&to={TO}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "format=csv" in html and "format=xlsx" in html
    assert f"/console/?queue=department&status=any&from={FROM}" in html.replace("&amp;", "&")
    csv_text = client.get(
        f"/console/reports/volume_by_channel?from={FROM}&to={TO}&format=csv"
    ).get_data(as_text=True)
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0] == "Canal,Demandas"
    assert "Telefone,2" in lines and "E-mail,2" in lines
    xlsx = client.get(f"/console/reports/csat_by_department?from={FROM}&to={TO}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    with zipfile.ZipFile(io.BytesIO(xlsx.data)) as book:
        strings = book.read("xl/sharedStrings.xml").decode()
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "Vendas" in strings and "Cobrança" in strings
    assert "<v>100</v>" in sheet  # Vendas' CSAT


def test_bad_period_is_a_400_next_to_the_field(world, supervisor, client, auth):
    auth.login(supervisor)
    response = client.get("/console/reports?from=2026-03-10&to=2026-03-01")
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert client.get("/console/reports/backlog?department=999999").status_code == 400
    assert client.get("/console/reports/nope").status_code == 404


def test_csv_cells_that_look_like_formulas_are_text(world, supervisor, client, auth, db):
    world["sales"].name = '=HYPERLINK("http://x")'
    db.session.commit()
    auth.login(supervisor)
    text = client.get(
        f"/console/reports/volume_by_department?from={FROM}&to={TO}&format=csv"
    ).get_data(as_text=True)
    assert "'=HYPERLINK" in text


# the API ---------------------------------------------------------------------------------------------


@pytest.fixture
def bearer_of(db):
    from helpdesk.accounts.services import issue_api_token

    def make(user):
        raw = issue_api_token(user, "reports")
        db.session.commit()
        return {"Authorization": f"Bearer {raw}", "Accept-Language": "pt-BR"}

    return make


def test_api_lists_and_answers_json_and_csv(world, supervisor, client, bearer_of):
    headers = bearer_of(supervisor)
    listed = client.get("/api/v1/reports", headers=headers)
    assert listed.status_code == 200
    names = [r["name"] for r in listed.json["items"]]
    assert {"csat_by_department", "volume_by_channel", "recurrence", "ombudsman"} <= set(names)
    answer = client.get(f"/api/v1/reports/csat_by_department?from={FROM}&to={TO}", headers=headers)
    assert answer.status_code == 200
    found = {r["key"]: r for r in answer.json["rows"]}
    assert found[world["sales"].id]["csat"] == 100.0
    assert found[world["billing"].id]["response_rate"] == 50.0
    assert answer.json["period"] == {
        "first": FROM,
        "last": TO,
        "time_zone": "America/Sao_Paulo",
        "start": "2026-03-01T03:00:00Z",
        "end": "2026-04-01T03:00:00Z",
    }
    csv_answer = client.get(
        f"/api/v1/reports/volume_by_kind?from={FROM}&to={TO}&format=csv", headers=headers
    )
    assert csv_answer.status_code == 200 and csv_answer.mimetype == "text/csv"
    assert "Reclamação,3" in csv_answer.get_data(as_text=True)


def test_api_bad_dates_are_422_problems_in_the_users_language(world, supervisor, client, bearer_of):
    headers = bearer_of(supervisor)
    for query in (
        "from=2026-02-30",
        "from=yesterday",
        "from=2026-03-10&to=2026-03-01",
        "to=1900-01-01",
        "from=2025-01-01&to=2026-03-01",
    ):
        response = client.get(f"/api/v1/reports/volume_by_kind?{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json"
        assert response.json["errors"]
    bad = client.get("/api/v1/reports/volume_by_kind?from=x", headers=headers)
    assert "AAAA" in bad.json["errors"]["from"] or "YYYY" in bad.json["errors"]["from"]
    assert (
        client.get("/api/v1/reports/volume_by_kind?channel=pigeon", headers=headers).status_code
        == 422
    )
    assert client.get("/api/v1/reports/nope", headers=headers).status_code == 404


def test_api_agent_token_is_refused(world, client, bearer_of):
    assert client.get("/api/v1/reports", headers=bearer_of(world["agent"])).status_code == 403
    assert (
        client.get("/api/v1/reports/volume_by_kind", headers=bearer_of(world["agent"])).status_code
        == 403
    )


def test_supervisor_sees_only_their_departments(world, make_user, client, bearer_of):
    only_sales = make_user(role="supervisor", departments=[world["sales"]])
    headers = bearer_of(only_sales)
    answer = client.get(
        f"/api/v1/reports/volume_by_department?from={FROM}&to={TO}", headers=headers
    )
    assert [r["key"] for r in answer.json["rows"]] == [world["sales"].id]
    other = client.get(
        f"/api/v1/reports/volume_by_department?department={world['billing'].id}", headers=headers
    )
    assert other.status_code == 422


# query counts -----------------------------------------------------------------------------------------


def test_query_count_does_not_grow_with_departments_or_rows(
    world, make_department, make_ticket, db, count_queries
):
    from helpdesk.reports.catalog import all_reports
    from helpdesk.reports.registry import run_report

    def counts():
        out = {}
        for report in all_reports():
            with count_queries() as q:
                run_report(report, params())
            out[report.name] = q.count
        return out

    before = counts()
    for i in range(4):
        dept = make_department(f"Extra {i}")
        for day in (3, 4):
            t = make_ticket(channel="chat")
            t.department_id, t.created_at = dept.id, local(day, 9 + i)
            t.first_response_at = t.resolved_at = local(day, 15)
            t.rating = 3
            t.customer_verdict = "resolved"
    db.session.commit()
    after = counts()
    assert after == before
    assert max(after.values()) <= 4


# the weekly digest -------------------------------------------------------------------------------------


def test_weekly_digest_goes_once_a_week_with_the_headline_numbers(world, supervisor, db):
    from helpdesk.notifications.models import OutboxMessage
    from helpdesk.reports.digest import send_weekly_digests

    monday = datetime(2026, 3, 9, 12, tzinfo=UTC)  # the week of 2 to 8 March
    with time_machine.travel(monday, tick=False):
        assert send_weekly_digests() == 1  # the supervisor (the agent gets none)
        db.session.commit()
    with time_machine.travel(monday + timedelta(days=2), tick=False):
        assert send_weekly_digests() == 0
    with time_machine.travel(monday + timedelta(days=7), tick=False):
        assert send_weekly_digests() == 1
    db.session.commit()
    first = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.kind == "report_digest")
        .order_by(OutboxMessage.id)
    ).first()
    assert supervisor.email in first.to_addr
    assert "02/03/2026" in first.subject and "08/03/2026" in first.subject
    # 2 demands registered that week (t1, t2), both rated 4-5: CSAT 100 %
    assert "Demandas registradas: 2 (0)" in first.body_text
    assert "CSAT: 100,0%" in first.body_text
    assert "/console/reports?from=2026-03-02&to=2026-03-08" in first.body_text


def test_digest_command_sends_now(world, supervisor, app, db):
    from helpdesk.notifications.models import OutboxMessage

    result = app.test_cli_runner().invoke(args=["reports", "digest"])
    assert result.exit_code == 0, result.output
    assert "1 digest(s) sent" in result.output
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "report_digest")
        )
        == 1
    )


def test_drill_down_by_category_opens_the_demands_behind_the_row(world, supervisor, client, auth):
    auth.login(supervisor)
    row = by_key("volume_by_category")[world["category"].id]
    response = client.get("/console/", query_string=row["drill"])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    t1, t2, t3, _t4, _t5 = world["tickets"]
    shown = {t.protocol for t in (t1, t2, t3) if f"/tickets/{t.protocol}" in html}
    assert shown == {t1.protocol, t3.protocol}
    assert client.get("/console/search?category=x1").status_code == 400
    assert client.get("/console/?queue=department&from=2026-02-30").status_code == 400
    # the same days in the user's zone: t5 (31 March, 23:30 in São Paulo) is in March
    march = client.get(f"/console/?queue=department&status=any&from={FROM}&to={TO}").get_data(
        as_text=True
    )
    assert f"/tickets/{world['tickets'][4].protocol}" in march
    assert f"/tickets/{world['old'].protocol}" not in march
