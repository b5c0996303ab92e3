"""Shared fixtures of the API tests: tokens and a cast of principals over two departments.

Imported by the other tests/test_api_*.py files; it holds no tests itself.
"""

from __future__ import annotations

import pytest

from helpdesk.tickets.protocol import format_protocol
from tests.conftest import module_world

API = "/api/v1"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token_for(db):
    from helpdesk.accounts.services import issue_api_token

    def make(user, name="test"):
        raw = issue_api_token(user, name)
        db.session.commit()
        return raw

    return make


@pytest.fixture
def headers_for(token_for):
    return lambda user: bearer(token_for(user))


def move_ticket(db, ticket, department, assignee=None):
    """Put a ticket in a department (tests only: bypasses routing)."""
    ticket.department_id = department.id
    ticket.department = department
    ticket.assignee_id = assignee.id if assignee else None
    ticket.assignee = assignee
    db.session.commit()
    return ticket


class Cast:
    """Customer A and B, agents of departments X and Y, a supervisor of X, an admin, a ticket of
    customer A in department X and one of customer B in department Y, and a token for each."""


@module_world
def cast(db, make_user, make_department, make_ticket, token_for):
    from tests.conftest import customer_of

    c = Cast()
    c.dept_x = make_department("Department X")
    c.dept_y = make_department("Department Y")
    nopw = {"password": None}  # API principals never sign in: skip the slow password hashing
    c.customer_a = make_user("customer", email="ana@example.com", name="Ana", **nopw)
    c.customer_b = make_user("customer", email="bruno@example.com", name="Bruno", **nopw)
    c.agent_x = make_user("agent", departments=[c.dept_x], name="Agent X", **nopw)
    c.agent_y = make_user("agent", departments=[c.dept_y], name="Agent Y", **nopw)
    c.supervisor = make_user("supervisor", departments=[c.dept_x], name="Supervisor X", **nopw)
    c.admin = make_user("admin", departments=[], name="Admin", **nopw)
    c.ticket_a = move_ticket(db, make_ticket(customer=customer_of(c.customer_a)), c.dept_x)
    c.ticket_b = move_ticket(db, make_ticket(customer=customer_of(c.customer_b)), c.dept_y)
    c.users = {
        "customer_a": c.customer_a,
        "customer_b": c.customer_b,
        "agent_x": c.agent_x,
        "agent_y": c.agent_y,
        "supervisor": c.supervisor,
        "admin": c.admin,
    }
    c.tokens = {name: token_for(user) for name, user in c.users.items()}
    return c


def headers(cast, who: str) -> dict:
    return {} if who == "anonymous" else bearer(cast.tokens[who])


def unknown_protocol() -> str:
    return format_protocol("20200101", 999999)


def wrong_check_digit(protocol: str) -> str:
    last = int(protocol[-1])
    return protocol[:-1] + str((last + 1) % 10)


def assert_problem(response, status: int, type_: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"] and isinstance(body["title"], str)
    assert "type" in body
    if type_:
        assert body["type"] == type_
    return body
