"""The demo has a closed investigation with recurrences, an open one with an overdue action,
linked demo tickets, and a Pareto chart that shows something."""

from __future__ import annotations

import functools

import sqlalchemy as sa

from helpdesk.investigations import dates, queries
from helpdesk.investigations.models import Investigation


def test_demo_investigations(app, db, client, auth, monkeypatch):
    from werkzeug.security import generate_password_hash

    from helpdesk.demo import load_demo

    monkeypatch.setattr(
        "helpdesk.accounts.models.generate_password_hash",
        functools.partial(generate_password_hash, method="pbkdf2:sha256:1000"),
    )
    summary = load_demo(tickets=60)
    db.session.commit()
    assert "investigations:" in summary
    rows = {i.status: i for i in db.session.scalars(sa.select(Investigation))}
    closed, acting = rows["closed"], rows["acting"]
    assert queries.recurrence_count(closed) == 2 and len(closed.links) >= 3
    assert closed.closed_at > closed.created_at
    today = dates.today()
    assert any(a.is_overdue(today) for a in acting.actions) and acting.links
    auth.login("supervisora@demo.sac", "super123")
    html = client.get("/console/investigations/reports").get_data(as_text=True)
    assert html.count('class="bar"') >= 2
    html = client.get(f"/console/investigations/{closed.number}").get_data(as_text=True)
    assert "recurrence" in html.lower()
    assert client.get("/console/investigations/actions").status_code == 200
