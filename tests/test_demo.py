"""Demo data: every status and channel, valid protocols, working logins, a past timeline, CLI guard."""

from __future__ import annotations

import functools
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from helpdesk.core.clock import as_utc, now
from helpdesk.extensions import db as _db
from helpdesk.tickets.models import CHANNELS, STATUSES, Message, Ticket, TicketEvent
from helpdesk.tickets.protocol import is_valid

ACCOUNTS = [
    ("admin@demo.sac", "admin123", "admin"),
    ("supervisora@demo.sac", "super123", "supervisor"),
    ("agente@demo.sac", "agente123", "agent"),
    ("beatriz.rocha@demo.sac", "agente123", "agent"),
    ("cliente@demo.sac", "cliente123", "customer"),
]


def _fast_hashing(monkeypatch) -> None:
    """Real scrypt costs 0.2 s a password; the demo's logins are checked the same way."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "helpdesk.accounts.models.generate_password_hash",
        functools.partial(generate_password_hash, method="pbkdf2:sha256:1000"),
    )


@pytest.fixture(scope="module")
def demo_summary(app):
    """Load the demo once for the read-only tests of this module (60 tickets)."""
    from helpdesk.demo import load_demo
    from tests.conftest import _clean

    _clean(app)
    with pytest.MonkeyPatch.context() as mp, app.test_request_context():
        _fast_hashing(mp)
        summary = load_demo(tickets=60)
        _db.session.commit()
        _db.session.remove()
    yield summary
    _clean(app)


@pytest.fixture
def db(app, demo_summary):
    """Overrides conftest's db for this module: the demo rows stay, nothing is cleaned."""
    with app.test_request_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()


@pytest.fixture
def demo(db, demo_summary):
    return demo_summary


def _tickets(db):
    return list(db.session.scalars(sa.select(Ticket)))


def test_summary_names_the_logins(demo):
    assert "60 tickets" in demo
    assert "cliente@demo.sac/cliente123" in demo


def test_every_status_and_channel_is_present(db, demo):
    tickets = _tickets(db)
    assert len(tickets) == 60
    assert {t.status for t in tickets} == set(STATUSES)
    assert {t.channel for t in tickets} == set(CHANNELS)


def test_every_ticket_has_a_valid_protocol_of_its_day_and_a_created_event(app, db, demo):
    tz = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    created = set(
        db.session.scalars(sa.select(TicketEvent.ticket_id).where(TicketEvent.action == "created"))
    )
    protocols = set()
    for ticket in _tickets(db):
        assert is_valid(ticket.protocol), ticket.protocol
        assert ticket.protocol[:8] == as_utc(ticket.created_at).astimezone(tz).strftime("%Y%m%d")
        assert ticket.id in created
        protocols.add(ticket.protocol)
    assert len(protocols) == 60


def test_timeline_is_spread_over_the_last_sixty_days_and_ordered(db, demo):
    tickets = _tickets(db)
    current = now()
    starts = [as_utc(t.created_at) for t in tickets]
    assert min(starts) >= current - timedelta(days=61)
    assert max(starts) - min(starts) > timedelta(days=20)
    for ticket in tickets:
        assert as_utc(ticket.updated_at) <= current
        for row in (*ticket.events, *ticket.messages):
            assert as_utc(ticket.created_at) <= as_utc(row.created_at) <= current
        if ticket.first_response_at:
            assert as_utc(ticket.first_response_at) >= as_utc(ticket.created_at)


def test_threads_have_replies_notes_transfers_verdicts_and_ratings(db, demo):
    actions = set(db.session.scalars(sa.select(TicketEvent.action).distinct()))
    assert {"created", "routed", "answered", "note", "status", "verdict"} <= actions
    assert db.session.scalar(sa.select(sa.func.count()).where(Message.is_internal.is_(True)))
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id)).where(Ticket.rating.is_not(None)))


def test_demo_emails_are_marked_sent(db, demo):
    from helpdesk.notifications.models import OutboxMessage

    statuses = set(db.session.scalars(sa.select(OutboxMessage.status).distinct()))
    assert statuses == {"sent"}


def test_demo_customer_has_demands_in_several_states_one_awaiting_verdict(db, demo):
    from helpdesk.accounts.services import customer_record_for, get_user_by_email

    user = get_user_by_email("cliente@demo.sac")
    assert user.email_verified_at is not None
    customer = customer_record_for(user)
    assert customer is not None
    mine = list(db.session.scalars(sa.select(Ticket).where(Ticket.customer_id == customer.id)))
    assert len({t.status for t in mine}) >= 5
    assert any(
        t.status == "pending_customer" and t.first_response_at and t.customer_verdict is None
        for t in mine
    )


def test_key_accounts_go_to_their_dedicated_agent(db, demo):
    from helpdesk.customers.models import Customer

    key_accounts = list(db.session.scalars(sa.select(Customer).where(Customer.is_key_account)))
    assert len(key_accounts) == 3
    assert all(c.key_account_agent_id for c in key_accounts)


@pytest.mark.parametrize(("email", "password", "role"), ACCOUNTS)
def test_demo_accounts_can_log_in(app, db, demo, email, password, role):
    from helpdesk.accounts.services import authenticate

    user = authenticate(email, password)
    assert user is not None and user.role == role
    assert authenticate(email, "wrong-password") is None
    if "auth.login" in {r.endpoint for r in app.url_map.iter_rules()}:
        from tests.conftest import AuthActions

        response = AuthActions(app.test_client()).login(email, password)
        assert response.status_code == 302
        assert "/login" not in response.headers["Location"]


def test_cli_loads_once_then_refuses(app, monkeypatch):
    """On an empty database the CLI loads and commits; a second run refuses."""
    from tests.conftest import _clean

    _fast_hashing(monkeypatch)
    _clean(app)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load", "--tickets", "20"])
    assert first.exit_code == 0, first.output
    assert "demo loaded" in first.output
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 20
    second = runner.invoke(args=["demo", "load", "--tickets", "20"])
    assert second.exit_code == 0
    assert "not empty" in second.output
    forced = runner.invoke(args=["demo", "load", "--tickets", "20", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "already loaded" in forced.output
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 20
    _clean(app)
