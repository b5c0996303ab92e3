"""Actions after which the actor may lose the ticket land on a page they may see: the ticket if
they still work it, else the queue with a flash naming the protocol (never a 403)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from helpdesk.escalations import services as esc
from helpdesk.extensions import db as _db
from helpdesk.tickets.models import Ticket

from .test_console_support import *  # noqa: F403 - fixtures
from .test_console_support import csrf_for, login_as, place, post_form


def _follow(client, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    page = client.get(response.headers["Location"])
    return page.status_code, page.get_data(as_text=True)


def test_transfer_out_of_my_departments_lands_on_the_queue(client, app, world):
    login_as(client, app, world.agent_x)
    t = world.ticket_x
    url = f"/console/tickets/{t.protocol}"
    response = client.post(
        f"{url}/transfer",
        data={"csrf_token": csrf_for(client, url), "department": world.dept_y.id, "reason": "Log"},
    )
    status, page = _follow(client, response)
    assert status == 200
    assert response.headers["Location"].rstrip("/").endswith("/console")
    assert t.protocol in page and "Logistics" in page


def test_transfer_by_an_admin_goes_back_to_the_ticket(client, app, world):
    login_as(client, app, world.admin)
    t = world.ticket_x
    url = f"/console/tickets/{t.protocol}"
    response = client.post(
        f"{url}/transfer",
        data={"csrf_token": csrf_for(client, url), "department": world.dept_y.id, "reason": "Log"},
    )
    assert response.headers["Location"].endswith(url)
    assert _follow(client, response)[0] == 200


@pytest.fixture
def supervisor_y(make_user, world):
    return make_user("supervisor", departments=[world.dept_y], name="Sergio Y")


def test_reassign_decision_out_of_my_departments_lands_on_a_visible_page(
    client, app, db, world, supervisor_y, make_department
):
    # escalated from X, now in Y: Y's supervisor decides to send it to Z
    escalation = esc.escalate_by_agent(
        world.ticket_x, world.agent_x, reason="complex_case", note="Difícil."
    )
    db.session.commit()
    place(world.ticket_x, world.dept_y)
    dept_z = make_department("Ombudsman desk")
    login_as(client, app, supervisor_y)
    base = f"/console/escalations/{escalation.id}"
    response = post_form(
        client, f"{base}/decide/reassign", {"reassign-department": str(dept_z.id)}, base
    )
    status, page = _follow(client, response)
    assert status == 200
    assert world.ticket_x.protocol in page
    _db.session.expire_all()
    assert (
        _db.session.scalar(sa.select(Ticket.department_id).where(Ticket.id == world.ticket_x.id))
        == dept_z.id
    )


def test_reassign_decision_still_supervised_stays_on_the_escalation(client, app, db, world):
    escalation = esc.escalate_by_agent(
        world.ticket_x, world.agent_x, reason="complex_case", note="Difícil."
    )
    db.session.commit()
    login_as(client, app, world.supervisor)
    base = f"/console/escalations/{escalation.id}"
    response = post_form(
        client, f"{base}/decide/reassign", {"reassign-department": str(world.dept_y.id)}, base
    )
    assert response.headers["Location"].endswith(base)
    assert _follow(client, response)[0] == 200
