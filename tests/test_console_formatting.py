"""What staff pages show is formatted for the reader: durations in days and hours (never
rounded into months), overdue rows first, investigation impact/urgency with their own labels,
and numbers, money, sizes and dates in the user's locale (pt_BR and es 1.234,56 and 02/12/2026,
en 1,234.56)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from werkzeug.datastructures import FileStorage

from helpdesk.investigations import operations
from helpdesk.sla.policies import ensure_default_policy

from .test_console_support import *  # noqa: F403 - fixtures and helpers
from .test_console_support import login_as, place, protocols_in

MONDAY = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _speak(db, user, locale):
    user.locale = locale
    db.session.commit()


def test_board_shows_days_and_hours_late_most_overdue_first(client, app, db, world, make_ticket):
    ensure_default_policy()
    db.session.commit()
    with time_machine.travel(MONDAY, tick=False):
        older = place(make_ticket(subject="Muito atrasado"), world.dept_x)
    with time_machine.travel(MONDAY + timedelta(days=10), tick=False):
        newer = place(make_ticket(subject="Atrasado"), world.dept_x)
    db.session.commit()
    # the first response of `older` was due Tuesday 09:00 local (12:00 UTC): 56 d 3 h later
    with time_machine.travel(datetime(2026, 4, 28, 15, 0, tzinfo=UTC), tick=False):
        login_as(client, app, world.supervisor)
        page = client.get("/console/sla/board").get_data(as_text=True)
    rows = protocols_in(page)
    assert rows.index(older.protocol) < rows.index(newer.protocol)
    assert ">56 d 3 h overdue<" in page
    assert "month" not in page


def test_board_in_portuguese_keeps_days(client, app, db, world, make_ticket):
    ensure_default_policy()
    db.session.commit()
    with time_machine.travel(MONDAY, tick=False):
        place(make_ticket(subject="Muito atrasado"), world.dept_x)
    _speak(db, world.supervisor, "pt_BR")
    with time_machine.travel(datetime(2026, 4, 28, 15, 0, tzinfo=UTC), tick=False):
        login_as(client, app, world.supervisor)
        page = client.get("/console/sla/board").get_data(as_text=True)
    assert "56 d 3 h" in page and "mes" not in page


@pytest.fixture
def investigation(db, world):
    inv = operations.open_investigation(
        by=world.supervisor,
        title="Cobranças duplicadas",
        from_ticket=world.ticket_x,
        impact=3,
        urgency=1,
        estimated_cost=1234,
        customers_affected=12345,
        since=date(2026, 11, 3),
    )
    db.session.commit()
    return inv


def _detail(client, inv):
    return client.get(f"/console/investigations/{inv.number}").get_data(as_text=True)


def _dd(page, term):
    match = re.search(rf"<dt>{term}</dt><dd>(.*?)</dd>", page)
    assert match, term
    return match.group(1)


def test_investigation_impact_and_urgency_have_their_own_labels(client, app, world, investigation):
    login_as(client, app, world.supervisor)
    page = _detail(client, investigation)
    assert _dd(page, "Impact") == "High"
    assert _dd(page, "Urgency") == "Low"


@pytest.mark.parametrize(
    ("locale", "cost", "count", "day"),
    [
        ("pt_BR", "R$\xa01.234,00", "12.345", "03/11/2026"),
        ("es", "1.234,00\xa0BRL", "12.345", "03/11/2026"),
        ("en", "R$1,234.00", "12,345", "11/03/2026"),
    ],
)
def test_investigation_money_counts_and_dates_in_the_users_locale(
    client, app, db, world, investigation, locale, cost, count, day
):
    _speak(db, world.supervisor, locale)
    login_as(client, app, world.supervisor)
    page = _detail(client, investigation)
    assert cost in page
    assert count in page
    assert f"<dd>{day}</dd>" in page
    assert ">2026-11-03<" not in page


@pytest.mark.parametrize(
    ("locale", "size", "when"),
    [
        ("pt_BR", "1,5 MB", "02/12/2026"),
        ("es", "1,5 MB", "02/12/2026"),
        ("en", "1.5 MB", "12/02/2026"),
    ],
)
def test_ticket_page_sizes_and_dates_in_the_users_locale(
    client, app, db, world, locale, size, when
):
    from helpdesk.tickets.services import add_message

    with time_machine.travel(datetime(2026, 12, 2, 15, 0, tzinfo=UTC), tick=False):
        add_message(
            world.ticket_x,
            None,
            "Extrato.",
            attachments=[FileStorage(io.BytesIO(b"x" * (1024 * 1536)), filename="extrato.txt")],
        )
        db.session.commit()
    _speak(db, world.agent_x, locale)
    login_as(client, app, world.agent_x)
    page = client.get(f"/console/tickets/{world.ticket_x.protocol}").get_data(as_text=True)
    assert f"({size})" in page
    assert when in page


@pytest.mark.parametrize(
    ("locale", "size"), [("pt_BR", "1,5 KB"), ("es", "1,5 KB"), ("en", "1.5 KB")]
)
def test_portal_demand_sizes_in_the_customers_locale(
    client, auth, db, make_user, make_ticket, locale, size
):
    """The customer's demand page shows attachment sizes like the console (it divided by hand:
    '2 KB' in every language)."""
    from .conftest import customer_of

    user = make_user("customer", locale=locale)
    ticket = make_ticket(
        customer=customer_of(user),
        attachments=[FileStorage(io.BytesIO(b"x" * 1536), filename="comprovante.txt")],
    )
    auth.login(user)
    page = client.get(f"/portal/demands/{ticket.protocol}").get_data(as_text=True)
    assert "comprovante.txt" in page
    assert f">{size}<" in page
