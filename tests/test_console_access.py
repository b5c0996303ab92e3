"""Who may open which console page: a permission matrix over every route, 405s and CSRF."""

from __future__ import annotations

import pytest

from .test_console_support import *  # noqa: F403 - fixtures

ROLES = ("anonymous", "customer", "agent_x", "agent_y", "supervisor", "admin")


def _user(world, role):
    return {
        "anonymous": None,
        "customer": world.customer_user,
        "agent_x": world.agent_x,
        "agent_y": world.agent_y,
        "supervisor": world.supervisor,
        "admin": world.admin,
    }[role]


GET_ROUTES = {
    # route: expected status for (customer, agent_x, agent_y, supervisor, admin)
    "/console/": (403, 200, 200, 200, 200),
    "/console/phone": (403, 200, 200, 200, 200),
    "/console/tickets/{px}": (403, 200, 403, 200, 200),
    "/console/tickets/{px}/attachments/{ax}": (403, 200, 403, 200, 200),
    "/console/phone/{px}": (403, 200, 403, 200, 200),
    "/console/customers/{cid}": (403, 200, 200, 200, 200),
    "/console/search?q=problema": (403, 200, 200, 200, 200),
    # merging into itself: the confirmation page says why (400) to whoever may work the ticket
    "/console/tickets/{px}/merge?into={px}": (403, 400, 403, 400, 400),
    "/console/views": (403, 200, 200, 200, 200),
    "/console/tags.css": (403, 200, 200, 200, 200),
    "/console/macros": (403, 200, 200, 200, 200),
    "/console/macros/new": (403, 200, 200, 200, 200),
}


def _url(template, world):
    return template.format(
        px=world.ticket_x.protocol,
        ax=world.attachment_x.id,
        cid=world.customer.id,
    )


@pytest.mark.parametrize("route", list(GET_ROUTES))
@pytest.mark.parametrize("role", ROLES)
def test_get_permission_matrix(client, app, world, route, role):
    url = _url(route, world)
    login_as(client, app, _user(world, role))  # noqa: F405
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
        return
    expected = dict(zip(ROLES[1:], GET_ROUTES[route], strict=True))[role]
    assert response.status_code == expected


POST_ROUTES = {
    "/console/tickets/{px}/reply": {"body": "Resposta"},
    "/console/tickets/{px}/note": {"body": "Nota"},
    "/console/tickets/{px}/assign": {"assignee": "none"},
    "/console/tickets/{px}/transfer": {"department": "{dy}", "reason": "Motivo"},
    "/console/tickets/{px}/priority": {"priority": "4"},
    "/console/tickets/{px}/status": {"status": "open"},
    "/console/tickets/{px}/details": {"kind": "complaint", "subject": "Novo assunto"},
    "/console/phone/{px}": {"kind": "request", "subject": "Ligação"},
    "/console/tickets/{px}/guest-links/revoke": {},
    "/console/tickets/{px}/merge": {"into": "{px}"},
    "/console/tickets/{px}/presence": {"typing": "1"},
    "/console/tickets/{px}/tags": {"tags": "vip"},
    "/console/tickets/{px}/macros": {"macro": "1"},
    "/console/tickets/{px}/macros/1": {"body": "Olá"},
}


@pytest.mark.parametrize("route", list(POST_ROUTES))
@pytest.mark.parametrize("role", ("anonymous", "customer", "agent_y"))
def test_post_actions_refused_to_outsiders(client, app, world, route, role):
    """Nobody outside the ticket's departments changes it; nothing changes in the DB."""
    from helpdesk.extensions import db

    login_as(client, app, _user(world, role))  # noqa: F405
    data = {
        k: v.format(dy=world.dept_y.id, px=world.ticket_x.protocol) if isinstance(v, str) else v
        for k, v in POST_ROUTES[route].items()
    }
    if role != "anonymous":
        data["csrf_token"] = csrf_for(client, "/console/") if role != "customer" else _token(client)  # noqa: F405
    before = (world.ticket_x.status, world.ticket_x.priority, world.ticket_x.department_id)
    response = client.post(_url(route, world), data=data)
    if role == "anonymous":
        assert response.status_code in (302, 400)
    else:
        assert response.status_code == 403
    db.session.expire_all()
    ticket = world.ticket_x
    assert (ticket.status, ticket.priority, ticket.department_id) == before
    assert len(ticket.messages) == 1


def _token(client):
    """A valid CSRF token for a session that cannot open console pages."""
    from flask_wtf.csrf import generate_csrf

    with client.session_transaction() as session:
        token = generate_csrf()
        from flask import session as live

        session.update(dict(live))
    return token


def test_phone_start_refused_to_customer(client, app, world):
    login_as(client, app, world.customer_user)  # noqa: F405
    response = client.post("/console/phone/start", data={"customer_id": world.customer.id})
    assert response.status_code in (400, 403)


@pytest.mark.parametrize(
    "route",
    [
        "/console/tickets/{px}/reply",
        "/console/tickets/{px}/note",
        "/console/tickets/{px}/assign",
        "/console/tickets/{px}/transfer",
        "/console/tickets/{px}/priority",
        "/console/tickets/{px}/status",
        "/console/tickets/{px}/details",
        "/console/tickets/{px}/presence",
        "/console/views/1/delete",
        "/console/phone/start",
    ],
)
def test_get_on_post_only_routes_is_405(client, app, world, route):
    login_as(client, app, world.agent_x)  # noqa: F405
    assert client.get(_url(route, world)).status_code == 405


@pytest.mark.parametrize(
    "route,data",
    [
        ("/console/tickets/{px}/reply", {"body": "Sem CSRF"}),
        ("/console/tickets/{px}/note", {"body": "Sem CSRF"}),
        ("/console/tickets/{px}/priority", {"priority": "4"}),
        ("/console/phone/start", {"customer_id": "1"}),
        ("/console/phone", {"name": "Sem CSRF", "phone": "11987650000"}),
        ("/console/tickets/{px}/tags", {"tags": "vip"}),
        ("/console/tickets/bulk", {"ticket": "1", "priority": "high"}),
    ],
)
@pytest.mark.csrf
def test_post_without_csrf_is_400(client, app, world, route, data):
    login_as(client, app, world.agent_x)  # noqa: F405
    response = client.post(_url(route, world), data=data)
    assert response.status_code == 400
    assert world.ticket_x.priority == 2
    assert len(world.ticket_x.messages) == 1


def test_agent_of_other_department_gets_403_by_url_for_every_ticket_page(client, app, world):
    login_as(client, app, world.agent_y)  # noqa: F405
    p = world.ticket_x.protocol
    for url in (
        f"/console/tickets/{p}",
        f"/console/phone/{p}",
        f"/console/tickets/{p}/attachments/{world.attachment_x.id}",
    ):
        assert client.get(url).status_code == 403, url


def test_assignee_outside_department_may_work_the_ticket(client, app, world):
    place(world.ticket_x, world.dept_x, assignee=world.agent_y)  # noqa: F405
    login_as(client, app, world.agent_y)  # noqa: F405
    assert client.get(f"/console/tickets/{world.ticket_x.protocol}").status_code == 200
