"""SLA policies and the due instants they give each ticket: matching order and conditions, the SAC
default policy's due instants (computed by hand), recompute on change, met on answer and resolve,
on track / at risk / breached in time, the API `sla` field and the console ticket page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.core.errors import ValidationError
from helpdesk.sla import business_calendars, clocks, policies
from helpdesk.sla.models import BusinessCalendar, SlaPolicy, TicketSla
from tests import test_api_support as support

SP = ZoneInfo("America/Sao_Paulo")
cast = support.cast  # the API cast: customers A/B, agents of X/Y, supervisor, admin
token_for = support.token_for


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SP)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def rows_of(ticket) -> dict[str, TicketSla]:
    return {row.target: row for row in clocks.ticket_slas(ticket)}


@pytest.fixture
def sac(db):
    policy = policies.ensure_default_policy()
    db.session.commit()
    return policy


# policies: validation, default policy, matching --------------------------------------------------


def test_ensure_default_policy_creates_the_calendar_and_policy_once(db):
    policy = policies.ensure_default_policy()
    db.session.commit()
    assert policies.ensure_default_policy().id == policy.id
    calendar = db.session.scalar(
        sa.select(BusinessCalendar).where(BusinessCalendar.name == "Horário comercial")
    )
    assert calendar.timezone == "America/Sao_Paulo" and calendar.country == "BR"
    assert len(calendar.intervals) == 10  # Mon-Fri, morning and afternoon
    assert policy.first_response_calendar_id == calendar.id
    assert policy.first_response_minutes == 9 * 60
    assert policy.resolution_calendar_id is None  # 24x7
    assert policy.resolution_minutes == 7 * 24 * 60
    assert policy.resolution_is_legal is True
    assert policy.pause_statuses == ["pending_customer"]
    assert policy.kind is None  # every kind
    assert db.session.scalar(sa.select(sa.func.count(SlaPolicy.id))) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": " ", "resolution_minutes": 60}, "name"),
        ({"name": "x" * 121, "resolution_minutes": 60}, "name"),
        ({"name": "P"}, "first_response_minutes"),
        ({"name": "P", "resolution_minutes": 0}, "resolution_minutes"),
        ({"name": "P", "resolution_minutes": "60"}, "resolution_minutes"),
        ({"name": "P", "first_response_minutes": 10**9}, "first_response_minutes"),
        ({"name": "P", "resolution_minutes": 60, "kind": "praise"}, "kind"),
        ({"name": "P", "resolution_minutes": 60, "channel": "fax"}, "channel"),
        ({"name": "P", "resolution_minutes": 60, "priority": 9}, "priority"),
        ({"name": "P", "resolution_minutes": 60, "segment": "vip"}, "segment"),
        ({"name": "P", "resolution_minutes": 60, "category_id": 999999}, "category_id"),
        ({"name": "P", "resolution_minutes": 60, "department_id": 999999}, "department_id"),
        (
            {"name": "P", "resolution_minutes": 60, "resolution_calendar_id": 999999},
            "resolution_calendar_id",
        ),
        ({"name": "P", "resolution_minutes": 60, "pause_statuses": ["closed"]}, "pause_statuses"),
        ({"name": "P", "resolution_minutes": 60, "position": "first"}, "position"),
    ],
)
def test_create_policy_validates_with_the_field(db, fields, field):
    with pytest.raises(ValidationError) as caught:
        policies.create_policy(**fields)
    assert caught.value.field == field
    assert str(caught.value)


def test_policy_names_are_unique_and_update_validates(db):
    first = policies.create_policy(name="Urgentes", priority=4, first_response_minutes=60)
    other = policies.create_policy(name="Outra", resolution_minutes=60)
    with pytest.raises(ValidationError) as caught:
        policies.create_policy(name=" Urgentes ", resolution_minutes=60)
    assert caught.value.field == "name"
    with pytest.raises(ValidationError) as caught:
        policies.update_policy(other, name="Urgentes")
    assert caught.value.field == "name"
    with pytest.raises(ValidationError) as caught:  # removing the only target
        policies.update_policy(first, first_response_minutes=None)
    assert caught.value.field == "first_response_minutes"
    policies.update_policy(first, name="Urgentíssimos", first_response_minutes=30, position=-1)
    assert (first.name, first.first_response_minutes, first.position) == ("Urgentíssimos", 30, -1)


def test_match_policy_follows_position_and_every_condition(
    db, make_department, make_customer, make_ticket
):
    from helpdesk.tickets.categories import create_category

    billing = make_department("Cobrança")
    category = create_category(name="Billing", kinds=["complaint"])
    ticket = make_ticket(
        customer=make_customer(segment="business"), kind="complaint", channel="email"
    )
    ticket.department_id = billing.id
    ticket.category_id = category.id
    ticket.priority = 3
    db.session.commit()

    catch_all = policies.create_policy(name="Todos", position=100, resolution_minutes=60)
    assert policies.match_policy(ticket).id == catch_all.id
    requests = policies.create_policy(
        name="Pedidos", position=1, kind="request", resolution_minutes=60
    )
    assert policies.match_policy(ticket).id == catch_all.id  # kind differs
    narrow = policies.create_policy(
        name="Empresas cobrança",
        position=5,
        kind="complaint",
        category_id=category.id,
        priority=3,
        department_id=billing.id,
        channel="email",
        segment="business",
        first_response_minutes=30,
    )
    assert policies.match_policy(ticket).id == narrow.id
    earlier = policies.create_policy(
        name="Email", position=2, channel="email", resolution_minutes=60
    )
    assert policies.match_policy(ticket).id == earlier.id  # lower position wins
    policies.update_policy(earlier, active=False)
    assert policies.match_policy(ticket).id == narrow.id  # inactive policies never match
    for field, value in [("segment", "individual"), ("priority", 4), ("channel", "phone")]:
        policies.update_policy(narrow, **{field: value})
        assert policies.match_policy(ticket).id == catch_all.id, field
        policies.update_policy(narrow, **{field: getattr(ticket, field, None) or "business"})
    assert policies.match_policy(ticket).id == narrow.id
    assert requests.id != policies.match_policy(ticket).id


# state --------------------------------------------------------------------------------------------


def test_sla_state_on_track_at_risk_met_breached():
    start = datetime(2025, 3, 10, 12, tzinfo=UTC)
    row = TicketSla(target="resolution", started_at=start, due_at=start + timedelta(hours=100))
    assert clocks.sla_state(row, start) == "on_track"
    assert clocks.sla_state(row, start + timedelta(hours=74, minutes=59)) == "on_track"
    assert clocks.sla_state(row, start + timedelta(hours=75)) == "at_risk"
    assert clocks.sla_state(row, start + timedelta(hours=100)) == "breached"
    naive = TicketSla(
        target="resolution", started_at=start.replace(tzinfo=None), due_at=datetime(2025, 3, 11)
    )
    assert clocks.sla_state(naive, start) == "on_track"  # SQLite hands back naive UTC
    row.met_at = start + timedelta(hours=120)
    assert clocks.sla_state(row, start + timedelta(hours=200)) == "met"
    with time_machine.travel(start + timedelta(hours=90), tick=False):
        assert clocks.sla_state(TicketSla(started_at=start, due_at=row.due_at)) == "at_risk"


# due instants at registration (the SAC default policy, computed by hand) -------------------------


@pytest.mark.parametrize(
    ("registered", "first_response_due"),
    [
        # Friday 17:30: 0:30 on Friday, 4:00 Monday morning, 4:30 from 13:00 -> Monday 17:30
        (local(2025, 3, 14, 17, 30), local(2025, 3, 17, 17, 30)),
        # Thursday 17:30 before Good Friday (Apr 18) and Tiradentes (Monday Apr 21) -> Tuesday
        (local(2025, 4, 17, 17, 30), local(2025, 4, 22, 17, 30)),
        # Friday 17:30 before Independence Day (Monday 2026-09-07) -> Tuesday 17:30
        (local(2026, 9, 4, 17, 30), local(2026, 9, 8, 17, 30)),
        # Saturday: the clock starts Monday 08:00, 9 business hours -> Monday 18:00
        (local(2025, 3, 15, 10, 0), local(2025, 3, 17, 18, 0)),
        # during lunch: starts 13:00, 5 h today + 4 h tomorrow morning -> next day 12:00
        (local(2025, 3, 12, 12, 20), local(2025, 3, 13, 12, 0)),
        # Christmas Eve 16:00: 2 h, the 25th is a holiday, 7 h on the 26th -> Dec 26 16:00
        (local(2025, 12, 24, 16, 0), local(2025, 12, 26, 16, 0)),
    ],
)
def test_default_policy_due_instants_by_hand(db, sac, make_ticket, registered, first_response_due):
    with time_machine.travel(registered, tick=False):
        ticket = make_ticket()
    rows = rows_of(ticket)
    assert set(rows) == {"first_response", "resolution"}
    assert utc(rows["first_response"].due_at) == first_response_due
    # the legal deadline: exactly 7 x 24 h of elapsed time, weekends and holidays included
    assert utc(rows["resolution"].due_at) == registered + timedelta(days=7)
    assert utc(rows["resolution"].started_at) == registered
    assert all(r.policy_id == sac.id and r.met_at is None for r in rows.values())
    events = [e for e in ticket.events if e.action == "sla"]
    assert [(e.new_value, e.detail) for e in events] == [("SAC", "")]


def test_no_policy_no_targets(db, make_ticket):
    ticket = make_ticket()
    assert rows_of(ticket) == {}
    assert not [e for e in ticket.events if e.action == "sla"]


def test_registration_adds_one_lookup_and_the_inserts(
    db, default_department, make_customer, count_queries
):
    """One policy lookup (with its calendars joined) and the INSERT of the targets; the calendar's
    intervals and holidays are read once per process and calendar revision."""
    from helpdesk.tickets.services import register_ticket

    customer = make_customer()
    policies.ensure_default_policy()
    db.session.commit()

    def register():
        with count_queries() as q:
            register_ticket(
                actor=None, customer=customer, channel="web", kind="complaint", subject="Atraso"
            )
        db.session.commit()
        return [" ".join(s.split()).upper() for s in q.statements]

    register()  # warms the calendar cache
    statements = register()
    lookups = [s for s in statements if s.startswith("SELECT") and "SLA_POLICIES" in s]
    assert len(lookups) == 1 and "BUSINESS_CALENDARS" in lookups[0]
    # one INSERT per target on SQLite (PostgreSQL may batch both into one)
    assert 1 <= len([s for s in statements if s.startswith("INSERT INTO TICKET_SLAS")]) <= 2
    assert not [s for s in statements if "TICKET_SLAS" in s and not s.startswith("INSERT")]
    assert not [s for s in statements if "CALENDAR_INTERVALS" in s or "CALENDAR_HOLIDAYS" in s]


def test_calendar_change_is_seen_by_the_next_registration(db, sac, make_ticket):
    registered = local(2025, 3, 14, 17, 30)  # Friday
    with time_machine.travel(registered, tick=False):
        make_ticket()  # caches the calendar
        calendar = db.session.get(BusinessCalendar, sac.first_response_calendar_id)
        business_calendars.add_holiday(
            calendar, day=datetime(2025, 3, 17).date(), name="Aniversário"
        )
        db.session.commit()
        ticket = make_ticket()
    assert utc(rows_of(ticket)["first_response"].due_at) == local(2025, 3, 18, 17, 30)


# recompute, met, reopened -----------------------------------------------------------------------


def test_priority_change_recomputes_open_targets_and_keeps_met_ones(
    db, sac, make_user, default_department, make_ticket
):
    from helpdesk.tickets.services import add_message, change_priority

    agent = make_user("agent", departments=[default_department])
    urgent = policies.create_policy(
        name="Urgentes", position=1, priority=4, first_response_minutes=60, resolution_minutes=480
    )
    db.session.commit()
    registered = local(2025, 3, 14, 17, 30)
    with time_machine.travel(registered, tick=False):
        ticket = make_ticket()
    assert rows_of(ticket)["resolution"].policy_id == sac.id
    with time_machine.travel(registered + timedelta(minutes=10), tick=False):
        change_priority(ticket, agent, 4)
        db.session.commit()
    rows = rows_of(ticket)
    assert utc(rows["first_response"].due_at) == registered + timedelta(hours=1)  # 24x7
    assert utc(rows["resolution"].due_at) == registered + timedelta(hours=8)
    assert {r.policy_id for r in rows.values()} == {urgent.id}
    sla_events = [e for e in ticket.events if e.action == "sla"]
    assert [(e.new_value, e.detail) for e in sla_events][-1] == ("Urgentes", "recomputed")

    with time_machine.travel(registered + timedelta(minutes=20), tick=False):
        add_message(ticket, agent, "Estamos verificando.")
        db.session.commit()
        change_priority(ticket, agent, 2)  # back to the default policy
        db.session.commit()
    rows = rows_of(ticket)
    met = rows["first_response"]
    assert utc(met.met_at) == registered + timedelta(minutes=20)
    assert utc(met.due_at) == registered + timedelta(hours=1)  # met: kept as it was
    assert met.policy_id == urgent.id
    assert utc(rows["resolution"].due_at) == registered + timedelta(days=7)
    assert rows["resolution"].policy_id == sac.id


def test_transfer_and_category_change_recompute(
    db, sac, make_user, make_department, default_department, make_ticket
):
    from helpdesk.tickets.categories import create_category
    from helpdesk.tickets.services import transfer_ticket, update_details

    agent = make_user("agent", departments=[default_department])
    legal = make_department("Jurídico")
    defect = create_category(name="Defect")
    policies.create_policy(
        name="Jurídico", position=1, department_id=legal.id, resolution_minutes=60
    )
    policies.create_policy(
        name="Defeito", position=2, category_id=defect.id, resolution_minutes=120
    )
    db.session.commit()
    registered = datetime(2025, 3, 11, 15, tzinfo=UTC)
    with time_machine.travel(registered, tick=False):
        ticket = make_ticket()
        update_details(
            ticket, agent, kind=ticket.kind, subject=ticket.subject, description="",
            category_id=defect.id,
        )  # fmt: skip
        db.session.commit()
    assert set(rows_of(ticket)) == {"resolution"}  # the first-response target went away
    assert utc(rows_of(ticket)["resolution"].due_at) == registered + timedelta(hours=2)
    with time_machine.travel(registered, tick=False):
        transfer_ticket(ticket, agent, legal, "Assunto jurídico")
        db.session.commit()
    assert utc(rows_of(ticket)["resolution"].due_at) == registered + timedelta(hours=1)


def test_resolve_meets_resolution_reopen_clears_it_and_close_meets_again(
    db, sac, make_user, default_department, make_ticket
):
    from helpdesk.tickets.services import add_message, change_status

    agent = make_user("agent", departments=[default_department])
    registered = datetime(2025, 3, 11, 15, tzinfo=UTC)
    with time_machine.travel(registered, tick=False):
        ticket = make_ticket()
    due = utc(rows_of(ticket)["resolution"].due_at)
    with time_machine.travel(registered + timedelta(hours=2), tick=False):
        add_message(ticket, agent, "Resolvido: estorno feito.", new_status="resolved")
        db.session.commit()
    rows = rows_of(ticket)
    assert utc(rows["first_response"].met_at) == registered + timedelta(hours=2)
    assert utc(rows["resolution"].met_at) == registered + timedelta(hours=2)
    assert clocks.sla_state(rows["resolution"]) == "met"
    with time_machine.travel(registered + timedelta(days=1), tick=False):
        add_message(ticket, None, "Ainda não recebi o estorno.")  # the customer reopens
        db.session.commit()
    assert ticket.status == "reopened"
    rows = rows_of(ticket)
    assert rows["resolution"].met_at is None
    assert utc(rows["resolution"].due_at) == due  # the legal deadline stands
    assert rows["first_response"].met_at is not None
    with time_machine.travel(registered + timedelta(days=2), tick=False):
        change_status(ticket, agent, "closed")
        db.session.commit()
    assert utc(rows_of(ticket)["resolution"].met_at) == registered + timedelta(days=2)


def test_states_travel_in_time(db, sac, make_ticket):
    registered = datetime(2025, 3, 11, 12, tzinfo=UTC)  # Tuesday 09:00 in São Paulo
    with time_machine.travel(registered, tick=False):
        ticket = make_ticket()
    resolution = rows_of(ticket)["resolution"]
    for later, state in [
        (timedelta(days=1), "on_track"),
        (timedelta(days=5, hours=6), "at_risk"),  # 75 % of 7 days = 5 d 6 h
        (timedelta(days=7), "breached"),
    ]:
        with time_machine.travel(registered + later, tick=False):
            assert clocks.sla_state(resolution) == state, later


# surfaces: the API `sla` field and the console ticket page ---------------------------------------


@pytest.fixture
def sla_cast(sac, cast):
    """The API cast (tests/test_api_support.py) registered under the SAC default policy."""
    return cast


@pytest.mark.parametrize(
    ("who", "status", "targets"),
    [
        ("anonymous", 401, None),
        ("customer_a", 200, {"resolution"}),  # the legal promise only, not internal targets
        ("customer_b", 404, None),
        ("agent_x", 200, {"first_response", "resolution"}),
        ("agent_y", 404, None),
        ("supervisor", 200, {"first_response", "resolution"}),
        ("admin", 200, {"first_response", "resolution"}),
    ],
)
def test_api_ticket_detail_has_sla(client, sla_cast, who, status, targets):
    from tests.test_api_support import API, headers

    ticket = sla_cast.ticket_a
    response = client.get(f"{API}/tickets/{ticket.protocol}", headers=headers(sla_cast, who))
    assert response.status_code == status
    if targets is None:
        return
    body = response.get_json()["sla"]
    assert set(body) == targets
    resolution = rows_of(ticket)["resolution"]
    assert body["resolution"]["due_at"].startswith(
        utc(resolution.due_at).strftime("%Y-%m-%dT%H:%M")
    )
    assert body["resolution"]["state"] == "on_track"
    assert body["resolution"]["met_at"] is None


def test_api_sla_is_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    ticket = spec["components"]["schemas"]["Ticket"]["properties"]
    assert set(ticket["sla"]["properties"]) == {"first_response", "next_response", "resolution"}
    assert ticket["escalation_level"]["enum"] == [0, 1, 2, 3]
    target = spec["components"]["schemas"]["SlaTarget"]["properties"]
    assert set(target) == {"due_at", "state", "met_at"}
    assert "breached" in target["state"]["enum"]


def test_console_ticket_page_shows_due_instants_and_states(
    client, auth, db, sac, default_department, make_user, make_ticket
):
    agent = make_user("agent", departments=[default_department])
    registered = datetime(2025, 3, 11, 12, tzinfo=UTC)  # Tuesday 09:00 in São Paulo
    with time_machine.travel(registered, tick=False):
        ticket = make_ticket(subject="Entrega atrasada")
    with time_machine.travel(registered + timedelta(days=7, hours=1), tick=True):
        auth.login(agent)
        page = client.get(f"/console/tickets/{ticket.protocol}").get_data(as_text=True)
    assert "First response due" in page and "Resolution due" in page
    assert 'class="badge sla-breached"' in page
    assert "Breached" in page
    assert "18/03/2025" in page or "03/18/2025" in page or "Mar 18, 2025" in page  # resolution due
    assert "SLA policy “SAC” applied." in page  # the history


# demo data ----------------------------------------------------------------------------------------


def test_demo_tickets_have_targets_in_every_state(db, monkeypatch):
    import functools

    from werkzeug.security import generate_password_hash

    from helpdesk.demo import load_demo
    from helpdesk.tickets.models import Ticket

    monkeypatch.setattr(
        "helpdesk.accounts.models.generate_password_hash",
        functools.partial(generate_password_hash, method="pbkdf2:sha256:1000"),
    )
    # a fixed "now" (ticking: the demo orders its marks by the real clock) keeps the mix stable
    with time_machine.travel(datetime(2025, 3, 12, 15, tzinfo=UTC), tick=True):
        load_demo(tickets=60)
        db.session.commit()
        rows = db.session.scalars(sa.select(TicketSla)).all()
        states = {clocks.sla_state(r) for r in rows}
    tickets = db.session.scalars(sa.select(Ticket)).all()
    assert len(rows) == 2 * len(tickets)  # every demo ticket, both targets
    assert states == {"on_track", "at_risk", "met", "breached"}
    by_ticket = {t.id: t for t in tickets}
    for row in rows:  # shifted with their ticket: the clocks start at the simulated registration
        assert utc(row.started_at) == utc(by_ticket[row.ticket_id].created_at)
        if row.target == "resolution":
            assert utc(row.due_at) == utc(row.started_at) + timedelta(days=7)
