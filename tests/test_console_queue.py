"""The queue page: right tickets per queue and department, filters, sorts, pages, query count."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk.core.clock import now

from .test_console_support import *  # noqa: F403 - fixtures


@pytest.fixture
def queues(world, make_ticket, db):
    """Open tickets in X: one mine, one for a colleague, one unassigned; one in Y unassigned."""
    w = world
    mine = place(make_ticket(customer=w.customer, subject="Meu ticket"), w.dept_x, w.agent_x)  # noqa: F405
    colleague = place(make_ticket(subject="Do colega"), w.dept_x, w.agent_x2)  # noqa: F405
    return {"mine": mine, "colleague": colleague, "unassigned": w.ticket_x, "y": w.ticket_y}


def _get(client, **params):
    return client.get("/console/", query_string=params)


def test_queues_show_the_right_tickets(client, app, world, queues):
    login_as(client, app, world.agent_x)  # noqa: F405
    mine = protocols_in(_get(client, queue="mine").get_data(as_text=True))  # noqa: F405
    assert mine == [queues["mine"].protocol]
    unassigned = protocols_in(_get(client, queue="unassigned").get_data(as_text=True))  # noqa: F405
    assert unassigned == [queues["unassigned"].protocol]
    department = protocols_in(_get(client, queue="department").get_data(as_text=True))  # noqa: F405
    assert set(department) == {
        queues["mine"].protocol,
        queues["colleague"].protocol,
        queues["unassigned"].protocol,
    }


@pytest.mark.parametrize("queue", ["mine", "unassigned", "department"])
@pytest.mark.parametrize("status", ["", "any", "new"])
def test_agent_never_sees_other_departments_tickets(client, app, world, queues, queue, status):
    login_as(client, app, world.agent_x)  # noqa: F405
    html = _get(client, queue=queue, status=status).get_data(as_text=True)
    assert world.ticket_y.protocol not in html
    assert "Entrega atrasada" not in html


def test_agent_y_sees_only_department_y(client, app, world, queues):
    login_as(client, app, world.agent_y)  # noqa: F405
    html = _get(client, queue="department").get_data(as_text=True)
    assert protocols_in(html) == [world.ticket_y.protocol]  # noqa: F405


def test_admin_sees_every_department(client, app, world, queues):
    login_as(client, app, world.admin)  # noqa: F405
    found = set(protocols_in(_get(client, queue="department").get_data(as_text=True)))  # noqa: F405
    assert {world.ticket_x.protocol, world.ticket_y.protocol} <= found


def test_department_filter_limited_to_visible_departments(client, app, world, queues):
    login_as(client, app, world.agent_x)  # noqa: F405
    ok = _get(client, queue="department", department=world.dept_x.id)
    assert ok.status_code == 200
    assert _get(client, queue="department", department=world.dept_y.id).status_code == 400


def test_filters(client, app, world, make_ticket, queues, db):
    w = world
    phone = place(make_ticket(subject="Por telefone", channel="phone", kind="request"), w.dept_x)  # noqa: F405
    urgent = place(make_ticket(subject="Urgente"), w.dept_x)  # noqa: F405
    urgent.priority = 4
    pending = place(make_ticket(subject="Aguardando"), w.dept_x)  # noqa: F405
    pending.status = "pending_customer"
    db.session.commit()
    login_as(client, app, w.agent_x)  # noqa: F405

    def rows(**params):
        html = _get(client, queue="department", **params).get_data(as_text=True)
        return protocols_in(html)  # noqa: F405

    assert rows(channel="phone") == [phone.protocol]
    assert rows(kind="request") == [phone.protocol]
    assert rows(priority=4) == [urgent.protocol]
    assert rows(status="pending_customer") == [pending.protocol]
    assert pending.protocol in rows()  # open statuses by default
    pending.status = "closed"
    db.session.commit()
    assert pending.protocol not in rows()
    assert pending.protocol in rows(status="any")


def test_sorts(client, app, world, make_ticket, db):
    w = world
    base = now() - timedelta(days=3)
    tickets = []
    for i, prio in enumerate((2, 4, 1)):
        t = place(make_ticket(subject=f"Ordem {i}"), w.dept_y)  # noqa: F405
        t.created_at = base + timedelta(hours=i)
        t.priority = prio
        tickets.append(t)
    db.session.commit()
    login_as(client, app, w.agent_y)  # noqa: F405

    def order(sort):
        html = _get(client, queue="unassigned", sort=sort).get_data(as_text=True)
        return [p for p in protocols_in(html) if p != w.ticket_y.protocol]  # noqa: F405

    a, b, c = (t.protocol for t in tickets)
    assert order("oldest") == [a, b, c]
    assert order("newest") == [c, b, a]
    assert order("priority") == [b, a, c]


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "id; DROP TABLE tickets"},
        {"sort": "created_at"},
        {"queue": "everything"},
        {"kind": "praise"},
        {"channel": "pigeon"},
        {"status": "deleted"},
        {"priority": "9"},
        {"priority": "high"},
        {"category": "999999"},
        {"department": "abc"},
        {"cursor": "not-a-cursor"},
        {"cursor": "W10"},
    ],
)
def test_invalid_parameters_are_400(client, app, world, params):
    login_as(client, app, world.agent_x)  # noqa: F405
    assert _get(client, **params).status_code == 400


def test_pagination_returns_next_rows_without_duplicates(
    client, app, world, make_ticket, db, monkeypatch
):
    import re

    monkeypatch.setitem(app.config, "QUEUE_PAGE_SIZE", 5)
    w = world
    created = {w.ticket_x.protocol}
    base = now() - timedelta(days=1)
    for i in range(11):
        t = place(make_ticket(subject=f"Pag {i}"), w.dept_x)  # noqa: F405
        t.created_at = base  # equal keys: the id breaks ties
        created.add(t.protocol)
    db.session.commit()
    login_as(client, app, w.agent_x)  # noqa: F405
    seen, url, pages = [], "/console/?queue=unassigned&sort=oldest", 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += protocols_in(html)  # noqa: F405
        pages += 1
        match = re.search(r'href="([^"]+)" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
        if url:
            assert "Next page" in html or "Próxima" in html or "next" in html
    assert pages == 3
    assert len(seen) == len(set(seen)) == 12
    assert set(seen) == created


def test_counts_are_bounded(client, app, world, queues):
    login_as(client, app, world.agent_x)  # noqa: F405
    html = _get(client).get_data(as_text=True)
    assert 'class="tag queue-count">1<' in html  # mine
    assert 'class="tag queue-count">3<' in html  # all open in my departments


def test_select_all_checkbox_and_dense_columns(client, app, world, queues):
    login_as(client, app, world.agent_x)  # noqa: F405
    html = _get(client, queue="department").get_data(as_text=True)
    assert 'data-check-all=".row-check"' in html
    assert html.count('class="row-check"') == 3
    assert world.customer.name in html
    assert "Ana X" in html and "Bruno X" in html


def test_query_count_does_not_grow_with_rows(client, app, world, make_ticket, db, count_queries):
    w = world
    login_as(client, app, w.agent_x)  # noqa: F405

    def measure():
        client.get("/console/?queue=department")  # warm the session/user loading
        with count_queries() as q:
            response = client.get("/console/?queue=department")
        assert response.status_code == 200
        return q.count, len(protocols_in(response.get_data(as_text=True)))  # noqa: F405

    for _ in range(2):
        place(make_ticket(subject="Pouco"), w.dept_x, w.agent_x2)  # noqa: F405
    few, rows_few = measure()
    assert rows_few == 3
    for i in range(27):
        customer = None if i % 2 else w.customer
        place(make_ticket(customer=customer, subject=f"Muito {i}"), w.dept_x, w.agent_x2)  # noqa: F405
    many, rows_many = measure()
    assert rows_many == 30
    assert many == few
