"""Collision in the workspace: two agents on one demand see each other (viewing, typing), presence
ages out, and a reply written while someone else answered is held back once, server-side."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.core import clock
from helpdesk.extensions import db as _db
from helpdesk.tickets.models import Message, TicketPresence
from tests.test_console_support import login_as


@pytest.fixture
def ana(make_user):
    return make_user("agent", name="Ana Lima")


@pytest.fixture
def bruno(make_user):
    return make_user("agent", name="Bruno Reis")


@pytest.fixture
def ticket(make_ticket):
    return make_ticket(subject="Cobrança duplicada")


def _browser(app, user):
    client = app.test_client()
    login_as(client, app, user)
    return client


def _poll(client, ticket, typing=False):
    response = client.post(
        f"/console/tickets/{ticket.protocol}/presence", data={"typing": "1"} if typing else {}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_two_agents_on_one_ticket_see_each_other(app, db, ana, bruno, ticket):
    first, second = _browser(app, ana), _browser(app, bruno)
    assert _poll(first, ticket)["viewing"] == []  # alone
    seen = _poll(second, ticket, typing=True)
    assert seen["viewing"] == ["Ana Lima"] and seen["text"] == "Ana Lima is viewing"
    seen = _poll(first, ticket)
    assert seen["typing"] == ["Bruno Reis"] and seen["viewing"] == []
    assert seen["text"] == "Bruno Reis is typing a reply"
    # one row per agent and ticket however often they poll (the upsert)
    _poll(first, ticket)
    count = _db.session.scalar(
        sa.select(sa.func.count())
        .select_from(TicketPresence)
        .where(TicketPresence.ticket_id == ticket.id)
    )
    assert count == 2


def test_presence_ages_out_and_old_rows_are_deleted(app, db, ana, bruno, ticket):
    first, second = _browser(app, ana), _browser(app, bruno)
    _poll(second, ticket, typing=True)
    with time_machine.travel(clock.now() + timedelta(seconds=20), tick=False):
        seen = _poll(first, ticket)
        assert seen["typing"] == [] and seen["viewing"] == ["Bruno Reis"]  # stopped typing
    with time_machine.travel(clock.now() + timedelta(seconds=300), tick=False):
        assert _poll(first, ticket)["viewing"] == []  # closed the tab long ago
        rows = _db.session.scalars(
            sa.select(TicketPresence.user_id).where(TicketPresence.ticket_id == ticket.id)
        ).all()
        assert rows == [ana.id]  # Bruno's stale row went with Ana's poll


def test_presence_answers_the_newest_public_message(app, db, ana, bruno, ticket):
    from helpdesk.tickets.services import add_message

    first = _browser(app, ana)
    before = _poll(first, ticket)["last_public_id"]
    add_message(ticket, bruno, "Nota interna", internal=True)
    db.session.commit()
    assert _poll(first, ticket)["last_public_id"] == before  # internal notes do not count
    reply = add_message(ticket, bruno, "Já estornamos.")
    db.session.commit()
    assert _poll(first, ticket)["last_public_id"] == reply.id


def test_presence_is_refused_outside_the_agents_departments(
    app, db, ticket, make_user, make_department
):
    outsider = make_user("agent", departments=[make_department("Logística")])
    client = _browser(app, outsider)
    assert client.post(f"/console/tickets/{ticket.protocol}/presence").status_code == 403


def test_a_reply_after_someone_else_answered_is_held_back_once(app, db, ana, bruno, ticket):
    first, second = _browser(app, ana), _browser(app, bruno)
    page = first.get(f"/console/tickets/{ticket.protocol}").get_data(as_text=True)
    import re

    seen_last = re.search(r'name="seen_last" value="(\d+)"', page).group(1)
    # Bruno answers while Ana writes
    second.get(f"/console/tickets/{ticket.protocol}")
    response = second.post(
        f"/console/tickets/{ticket.protocol}/reply",
        data={"body": "Resposta do Bruno", "status_after": "pending_customer", "seen_last": "0"},
    )
    assert response.status_code == 302
    held = first.post(
        f"/console/tickets/{ticket.protocol}/reply",
        data={
            "body": "Resposta da Ana",
            "status_after": "pending_customer",
            "seen_last": seen_last,
        },
    )
    html = held.get_data(as_text=True)
    assert held.status_code == 409
    assert "Not sent yet" in html and "Resposta do Bruno" in html
    assert "Resposta da Ana" in html  # the draft is kept in the box
    assert "Send anyway" in html
    assert not _db.session.scalar(sa.select(Message.id).where(Message.body == "Resposta da Ana"))
    # the page shown carries the newest id: sending again goes through
    newest = re.search(r'name="seen_last" value="(\d+)"', html).group(1)
    assert int(newest) > int(seen_last)
    sent = first.post(
        f"/console/tickets/{ticket.protocol}/reply",
        data={"body": "Resposta da Ana", "status_after": "pending_customer", "seen_last": newest},
    )
    assert sent.status_code == 302
    _db.session.expire_all()
    assert _db.session.scalar(sa.select(Message.id).where(Message.body == "Resposta da Ana"))


def test_own_answers_and_internal_notes_do_not_hold_a_reply_back(app, db, ana, bruno, ticket):
    from helpdesk.tickets.services import add_message

    first = _browser(app, ana)
    add_message(ticket, ana, "Minha resposta anterior")
    add_message(ticket, bruno, "Só uma nota", internal=True)
    db.session.commit()
    response = first.post(
        f"/console/tickets/{ticket.protocol}/reply",
        data={"body": "Mais uma", "status_after": "pending_customer", "seen_last": "0"},
    )
    assert response.status_code == 302
