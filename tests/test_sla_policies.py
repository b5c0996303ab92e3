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
from helpdesk.sla import services as sla
from helpdesk.sla.models import BusinessCalendar, SlaPolicy, TicketSla

SP = ZoneInfo("America/Sao_Paulo")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SP)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def rows_of(ticket) -> dict[str, TicketSla]:
    return {row.target: row for row in sla.ticket_slas(ticket)}


@pytest.fixture
def sac(db):
    policy = sla.ensure_default_policy()
    db.session.commit()
    return policy


# policies: validation, default policy, matching --------------------------------------------------


def test_ensure_default_policy_creates_the_calendar_and_policy_once(db):
    policy = sla.ensure_default_policy()
    db.session.commit()
    assert sla.ensure_default_policy().id == policy.id
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
        sla.create_policy(**fields)
    assert caught.value.field == field
    assert str(caught.value)


def test_policy_names_are_unique_and_update_validates(db):
    first = sla.create_policy(name="Urgentes", priority=4, first_response_minutes=60)
    other = sla.create_policy(name="Outra", resolution_minutes=60)
    with pytest.raises(ValidationError) as caught:
        sla.create_policy(name=" Urgentes ", resolution_minutes=60)
    assert caught.value.field == "name"
    with pytest.raises(ValidationError) as caught:
        sla.update_policy(other, name="Urgentes")
    assert caught.value.field == "name"
    with pytest.raises(ValidationError) as caught:  # removing the only target
        sla.update_policy(first, first_response_minutes=None)
    assert caught.value.field == "first_response_minutes"
    sla.update_policy(first, name="Urgentíssimos", first_response_minutes=30, position=-1)
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

    catch_all = sla.create_policy(name="Todos", position=100, resolution_minutes=60)
    assert sla.match_policy(ticket).id == catch_all.id
    requests = sla.create_policy(name="Pedidos", position=1, kind="request", resolution_minutes=60)
    assert sla.match_policy(ticket).id == catch_all.id  # kind differs
    narrow = sla.create_policy(
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
    assert sla.match_policy(ticket).id == narrow.id
    earlier = sla.create_policy(name="Email", position=2, channel="email", resolution_minutes=60)
    assert sla.match_policy(ticket).id == earlier.id  # lower position wins
    sla.update_policy(earlier, active=False)
    assert sla.match_policy(ticket).id == narrow.id  # inactive policies never match
    for field, value in [("segment", "individual"), ("priority", 4), ("channel", "phone")]:
        sla.update_policy(narrow, **{field: value})
        assert sla.match_policy(ticket).id == catch_all.id, field
        sla.update_policy(narrow, **{field: getattr(ticket, field, None) or "business"})
    assert sla.match_policy(ticket).id == narrow.id
    assert requests.id != sla.match_policy(ticket).id


# state --------------------------------------------------------------------------------------------


def test_sla_state_on_track_at_risk_met_breached():
    start = datetime(2025, 3, 10, 12, tzinfo=UTC)
    row = TicketSla(target="resolution", started_at=start, due_at=start + timedelta(hours=100))
    assert sla.sla_state(row, start) == "on_track"
    assert sla.sla_state(row, start + timedelta(hours=74, minutes=59)) == "on_track"
    assert sla.sla_state(row, start + timedelta(hours=75)) == "at_risk"
    assert sla.sla_state(row, start + timedelta(hours=100)) == "breached"
    naive = TicketSla(
        target="resolution", started_at=start.replace(tzinfo=None), due_at=datetime(2025, 3, 11)
    )
    assert sla.sla_state(naive, start) == "on_track"  # SQLite hands back naive UTC
    row.met_at = start + timedelta(hours=120)
    assert sla.sla_state(row, start + timedelta(hours=200)) == "met"
    with time_machine.travel(start + timedelta(hours=90), tick=False):
        assert sla.sla_state(TicketSla(started_at=start, due_at=row.due_at)) == "at_risk"
