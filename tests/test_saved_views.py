"""Saved views: save the queue's filters and sort, see them in the sidebar with bounded counts,
open one, share with a department, rename / reorder / delete your own; filters checked when saved
and when opened (a stale view opens without what no longer applies); another's personal view
is neither listed nor openable; the counts cost the same whatever the number of tickets."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from helpdesk.extensions import db as _db
from helpdesk.tickets.models import SavedView
from tests.test_console_support import login_as


@pytest.fixture
def agent(make_user):
    return make_user("agent", name="Ana Lima")


@pytest.fixture
def browser(app, agent):
    client = app.test_client()
    login_as(client, app, agent)
    return client


def _save(client, **fields):
    data = {"queue": "department", "sort": "due", **fields}
    return client.post("/console/views", data=data)


def _views():
    _db.session.expire_all()
    return _db.session.scalars(sa.select(SavedView).order_by(SavedView.position)).all()


def test_save_then_open_a_view_with_its_count(browser, db, make_ticket, agent):
    for _ in range(3):
        make_ticket(kind="complaint", channel="phone")
    make_ticket(kind="request", channel="phone")
    response = _save(browser, name="Queixas por telefone", kind="complaint", channel="phone")
    assert response.status_code == 302
    (view,) = _views()
    assert view.filters == {"queue": "department", "kind": "complaint", "channel": "phone"}
    assert view.owner_id == agent.id and view.department_id is None
    opened = browser.get(response.headers["Location"])
    assert opened.status_code == 302
    queue = browser.get(opened.headers["Location"])
    html = queue.get_data(as_text=True)
    assert queue.status_code == 200
    assert "Queixas por telefone" in html
    assert f'href="/console/views/{view.id}" class="saved-view" aria-current="page"' in html
    assert html.count('class="row-check"') == 3  # only the view's tickets
    assert '<span class="tag queue-count">3</span>' in html


def test_saving_refuses_what_is_not_a_queue_filter(browser, db):
    assert _save(browser, name="X", kind="teapot").status_code == 302
    assert _save(browser, name="", kind="complaint").status_code == 302
    assert _save(browser, name="Y", sort="title) --").status_code == 302
    assert _views() == []
    html = browser.get("/console/?queue=department").get_data(as_text=True)
    assert "Save this view" in html


def test_a_stale_view_opens_without_what_no_longer_applies(browser, db, agent, make_department):
    from helpdesk.tickets.saved_views import create_saved_view

    gone = make_department("Extinto")
    agent.departments.append(gone)
    db.session.commit()
    view = create_saved_view(
        agent, "Velha", {"queue": "department", "department": str(gone.id)}, "due"
    )
    view.filters = {**view.filters, "category": "999", "bogus": "1"}  # written by an older version
    db.session.commit()
    agent.departments.remove(gone)
    _db.session.delete(_db.session.get(type(gone), gone.id))
    db.session.commit()
    assert browser.get("/console/?queue=department").status_code == 200  # the sidebar count
    opened = browser.get(f"/console/views/{view.id}")
    assert opened.status_code == 302
    location = opened.headers["Location"]
    assert "department=" not in location and "category=" not in location
    page = browser.get(location)
    assert page.status_code == 200
    assert "no longer apply" in page.get_data(as_text=True)


def test_another_agents_personal_view_is_neither_listed_nor_openable(app, db, browser, make_user):
    from helpdesk.tickets.saved_views import create_saved_view

    other = make_user("agent", name="Bruno Reis")
    view = create_saved_view(other, "Só do Bruno", {"queue": "mine"}, "due")
    db.session.commit()
    html = browser.get("/console/").get_data(as_text=True)
    assert "Só do Bruno" not in html
    assert browser.get(f"/console/views/{view.id}").status_code == 404
    assert browser.post(f"/console/views/{view.id}/delete").status_code == 404
    assert _views() == [view]


def test_a_supervisor_shares_a_view_with_their_department(
    app, db, make_user, default_department, agent, browser
):
    supervisor = make_user("supervisor", name="Sara Supervisora")
    boss = app.test_client()
    login_as(boss, app, supervisor)
    response = _save(boss, name="Urgentes do SAC", priority="4", share=str(default_department.id))
    assert response.status_code == 302
    (view,) = _views()
    assert view.department_id == default_department.id
    html = browser.get("/console/").get_data(as_text=True)
    assert "Urgentes do SAC" in html  # a member sees it
    assert browser.get(f"/console/views/{view.id}").status_code == 302
    # but cannot change it
    assert browser.post(f"/console/views/{view.id}/rename", data={"name": "x"}).status_code == 403
    # an agent cannot share
    _save(browser, name="Compartilhada?", share=str(default_department.id))
    assert [v.name for v in _views()] == ["Urgentes do SAC"]


def test_rename_reorder_delete_own_views(browser, db):
    for name in ("Primeira", "Segunda", "Terceira"):
        _save(browser, name=name)
    first, second, third = _views()
    browser.post(f"/console/views/{third.id}/move", data={"direction": "up"})
    assert [v.name for v in _views()] == ["Primeira", "Terceira", "Segunda"]
    browser.post(f"/console/views/{first.id}/rename", data={"name": "Renomeada"})
    browser.post(f"/console/views/{second.id}/delete")
    assert [v.name for v in _views()] == ["Renomeada", "Terceira"]
    html = browser.get("/console/views").get_data(as_text=True)
    assert "Renomeada" in html and "Terceira" in html


def test_view_counts_are_capped_and_cost_the_same_whatever_the_tickets(
    browser, db, make_ticket, make_customer, count_queries, monkeypatch
):
    from helpdesk.console import saved_views as surface

    monkeypatch.setattr(surface, "VIEW_COUNT_CAP", 3)
    for name in ("A", "B", "C"):
        _save(browser, name=name, kind="complaint")
    customer = make_customer()
    make_ticket(customer=customer)
    browser.get("/console/?queue=department")
    with count_queries() as few:
        browser.get("/console/?queue=department")
    for _ in range(6):
        make_ticket(customer=customer)
    with count_queries() as many:
        html = browser.get("/console/?queue=department").get_data(as_text=True)
    assert many.count == few.count
    assert html.count('<span class="tag queue-count">3+</span>') == 3
