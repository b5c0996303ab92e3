"""The time override of core.clock: inside `travel`, every service stamps what it writes with the
simulated instant (the demo loader plays its stories this way instead of rewriting rows)."""

from __future__ import annotations

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from helpdesk.core.clock import as_utc, now, real_now, shifted, travel
from helpdesk.notifications.models import OutboxMessage
from helpdesk.sla.models import TicketSla
from helpdesk.sla.policies import ensure_default_policy
from helpdesk.tickets.models import TicketEvent


def test_travel_sets_the_clock_runs_on_nests_and_restores():
    past = real_now() - timedelta(days=40)
    with travel(past) as start:
        assert start == past
        assert timedelta(0) <= now() - past < timedelta(seconds=5)
        with shifted(timedelta(hours=2)):
            assert timedelta(hours=2) <= now() - past < timedelta(hours=2, seconds=5)
        assert now() - past < timedelta(seconds=5)
        seen = []
        other = threading.Thread(target=lambda: seen.append(now()))
        other.start()
        other.join()
        assert abs(seen[0] - real_now()) < timedelta(seconds=5)  # other threads: the real clock
    assert abs(now() - real_now()) < timedelta(seconds=1)


def test_a_ticket_registered_in_the_past_is_stamped_with_that_day(app, db, make_ticket):
    ensure_default_policy()
    db.session.commit()
    past = real_now() - timedelta(days=40, hours=3)
    with travel(past):
        ticket = make_ticket(channel="web")
    tz = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    assert ticket.protocol[:8] == past.astimezone(tz).strftime("%Y%m%d")
    assert abs(as_utc(ticket.created_at) - past) < timedelta(seconds=5)
    events = db.session.scalars(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
    assert all(abs(as_utc(e.created_at) - past) < timedelta(seconds=5) for e in events)
    rows = db.session.scalars(sa.select(TicketSla).where(TicketSla.ticket_id == ticket.id)).all()
    assert rows and all(abs(as_utc(r.started_at) - past) < timedelta(seconds=5) for r in rows)
    resolution = next(r for r in rows if r.target == "resolution")  # 7 calendar days
    assert abs(as_utc(resolution.due_at) - (past + timedelta(days=7))) < timedelta(seconds=5)
    mail = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
    assert all(abs(as_utc(m.created_at) - past) < timedelta(seconds=5) for m in mail)
