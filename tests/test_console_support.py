"""Shared fixtures for the console tests: a small world of departments, staff and tickets.

Imported by the other test_console_* modules (`from .test_console_support import *`).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from flask import g
from werkzeug.datastructures import FileStorage

from helpdesk.core.clock import now
from helpdesk.core.unit import commit
from helpdesk.extensions import db as _db
from tests.conftest import module_world

from .conftest import AuthActions, csrf_from, session_cookie_id

__all__ = [
    "World",
    "csrf_for",
    "login_as",
    "post_form",
    "world",
    "place",
    "FileStorage",
    "io",
    "protocols_in",
]


def login_as(client, app, user):
    """Log in through the real form when the auth blueprint has one, else via the session."""
    g.pop("_login_user", None)  # the test's app context is shared with the client's requests
    with client.session_transaction() as session:
        session.clear()  # start anonymous: the login page redirects a signed-in user
    if user is None:
        return
    if "auth.login" in app.view_functions:
        response = AuthActions(client).login(user)
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    else:
        with client.session_transaction() as session:
            session["_user_id"] = session_cookie_id(user)
            session["_fresh"] = True
    g.pop("_login_user", None)


def csrf_for(client, path="/console/phone"):
    return csrf_from(client, path)


def post_form(client, path, data, csrf_path="/console/phone", **kw):
    data = {"csrf_token": csrf_for(client, csrf_path), **data}
    return client.post(path, data=data, **kw)


def place(ticket, department, assignee=None):
    """Put a ticket in a department (and assignee) for the test, whatever routing did."""
    ticket.department_id = department.id
    ticket.department = department
    ticket.assignee_id = assignee.id if assignee else None
    ticket.assignee = assignee
    _db.session.commit()
    return ticket


@dataclass
class World:
    dept_x: object
    dept_y: object
    agent_x: object
    agent_x2: object
    agent_y: object
    supervisor: object
    admin: object
    customer_user: object
    other_customer_user: object
    customer: object
    ticket_x: object
    ticket_y: object
    attachment_x: object
    attachment_y: object


@module_world
def world(db, app, make_department, make_user, make_ticket, make_customer, sent_mail):
    from helpdesk.tickets.services import add_message

    dept_x = make_department("Billing")
    dept_y = make_department("Logistics")
    agent_x = make_user("agent", departments=[dept_x], name="Ana X")
    agent_x2 = make_user("agent", departments=[dept_x], name="Bruno X")
    agent_y = make_user("agent", departments=[dept_y], name="Yara Y")
    supervisor = make_user("supervisor", departments=[dept_x], name="Sofia Supervisor")
    admin = make_user("admin", name="Adm")
    customer_user = make_user("customer", name="Carla Cliente")
    other_customer_user = make_user("customer", name="Outro Cliente")
    for user in (customer_user, other_customer_user):  # customers sign in once verified
        user.email_verified_at = now()
    customer = make_customer(name="Diego Caller", phone="+5511987654321", document="529.982.247-25")
    ticket_x = place(
        make_ticket(customer=customer, subject="Cobrança duplicada", remedy="Estorno"), dept_x
    )
    ticket_y = place(make_ticket(customer=customer, subject="Entrega atrasada"), dept_y)
    add_message(
        ticket_x,
        None,
        "Segue o boleto.",
        attachments=[FileStorage(io.BytesIO(b"boleto"), filename="boleto.txt")],
    )
    add_message(
        ticket_y,
        None,
        "Foto da caixa.",
        attachments=[FileStorage(io.BytesIO(b"caixa"), filename="caixa.txt")],
    )
    commit()
    sent_mail.clear()
    return World(
        dept_x=dept_x,
        dept_y=dept_y,
        agent_x=agent_x,
        agent_x2=agent_x2,
        agent_y=agent_y,
        supervisor=supervisor,
        admin=admin,
        customer_user=customer_user,
        other_customer_user=other_customer_user,
        customer=customer,
        ticket_x=ticket_x,
        ticket_y=ticket_y,
        attachment_x=ticket_x.attachments[0],
        attachment_y=ticket_y.attachments[0],
    )


def protocols_in(html: str) -> list[str]:
    """Protocols of the queue rows, in order (from the protocol links)."""
    return re.findall(r'class="protocol-inline" href="/console/tickets/(\d+)"', html)
