"""Console pages of investigations: permission matrix, queue multi-select, ticket workspace,
closing refused with its reasons, customer notice, reports and CSV, bounded queries."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from helpdesk.investigations import capa, dates, operations, whys
from helpdesk.investigations.models import (
    CapaAction,
    Investigation,
    InvestigationTicket,
    NoticeBroadcast,
)
from helpdesk.tickets.models import Message
from tests.conftest import csrf_from, module_world


@module_world
def world(db, make_department, default_department, make_user, make_customer, make_ticket):
    dept_y = make_department("Finance")
    w = SimpleNamespace()
    w.agent_x = make_user("agent", name="Xavier Agent")
    w.agent_y = make_user("agent", departments=[dept_y], name="Yara Agent")
    w.supervisor = make_user("supervisor", name="Sofia Supervisor")
    w.admin = make_user("admin", name="Adam Admin")
    w.customer_a = make_user("customer", name="Carla")
    w.customer_b = make_user("customer", name="Bruno")
    from tests.conftest import customer_of

    w.ticket_a = make_ticket(customer=customer_of(w.customer_a), subject="Entrega atrasada")
    w.ticket_b = make_ticket(customer=customer_of(w.customer_b), subject="Entrega não chegou")
    w.inv = operations.open_investigation(
        by=w.supervisor,
        title="Late deliveries in the south",
        from_ticket=w.ticket_a,
        keywords="entrega",
        containment="Offer a free re-delivery.",
    )
    w.action = capa.add_action(
        w.inv,
        w.supervisor,
        description="Audit the courier",
        owner=w.agent_x,
        due_on=dates.today() - timedelta(days=2),
    )
    db.session.commit()
    w.number = w.inv.number
    return w


def login(client, auth, user):
    client._cookies.clear()  # a fresh browser: no session, no CSRF token
    if user is not None:
        auth.login(user)


ROLES = ["anonymous", "customer", "agent_x", "agent_y", "supervisor", "admin"]


def who(world, role):
    return {
        "anonymous": None,
        "customer": world.customer_a,
        "agent_x": world.agent_x,
        "agent_y": world.agent_y,
        "supervisor": world.supervisor,
        "admin": world.admin,
    }[role]


GET_PAGES = [
    ("/console/investigations", {"agent_x", "agent_y", "supervisor", "admin"}),
    ("/console/investigations/{number}", {"agent_x", "agent_y", "supervisor", "admin"}),
    ("/console/investigations/actions", {"agent_x", "agent_y", "supervisor", "admin"}),
    ("/console/investigations/reports", {"agent_x", "agent_y", "supervisor", "admin"}),
    ("/console/investigations/reports.csv", {"agent_x", "agent_y", "supervisor", "admin"}),
    ("/console/investigations/new", {"supervisor", "admin"}),
    ("/console/investigations/{number}/edit", {"supervisor", "admin"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path,allowed", GET_PAGES)
def test_get_permission_matrix(client, auth, world, role, path, allowed):
    login(client, auth, who(world, role))
    response = client.get(path.format(number=world.number))
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.location
    elif role in allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
    if role == "customer":
        assert "Offer a free re-delivery" not in response.get_data(as_text=True)


def _post(client, path, data, page):
    return client.post(path, data={**data, "csrf_token": csrf_from(client, page)})


# (path, form data, roles allowed) — "allowed" means the action happened (redirect + DB change)
POSTS = {
    "status": ("/console/investigations/{number}/status", {"status": "analysing"}),
    "why": ("/console/investigations/{number}/whys", {"text": "Because the courier is late"}),
    "action": ("/console/investigations/{number}/actions", {"description": "Call them"}),
    "done": ("/console/investigations/{number}/actions/{action}/done", {"evidence": "Done it"}),
    "cancel": ("/console/investigations/{number}/actions/{action}/cancel", {"reason": "No"}),
    "effectiveness": (
        "/console/investigations/{number}/effectiveness",
        {"metric": "Complaints per week", "result": "3"},
    ),
    "link": ("/console/investigations/{number}/tickets", {"protocol": "{protocol_b}"}),
    "unlink": ("/console/investigations/{number}/tickets/{protocol_a}/unlink", {}),
    "notify": (
        "/console/investigations/{number}/notify",
        {"notice_pt_br": "Corrigimos.", "notice_es": "Corregimos.", "notice_en": "We fixed it."},
    ),
    "from_ticket": ("/console/tickets/{protocol_b}/investigation", {"number": "{number}"}),
}
EXPECTED = {
    "status": {"supervisor", "admin"},
    "why": {"agent_x", "agent_y", "supervisor", "admin"},
    "action": {"agent_x", "agent_y", "supervisor", "admin"},
    "done": {"agent_x", "supervisor", "admin"},  # the action's owner or a supervisor
    "cancel": {"supervisor", "admin"},
    "effectiveness": {"supervisor", "admin"},
    "link": {"agent_x", "supervisor", "admin"},  # agent_y cannot work the ticket
    "unlink": {"agent_x", "supervisor", "admin"},
    "notify": {"supervisor", "admin"},  # it writes to every linked customer
    "from_ticket": {"agent_x", "supervisor", "admin"},  # staff who can work the ticket
}


def _changed(name, world, db) -> bool:
    db.session.expire_all()
    inv = db.session.get(Investigation, world.inv.id)
    action = db.session.get(CapaAction, world.action.id)
    return {
        "status": inv.status == "analysing",
        "why": bool(inv.whys),
        "action": len(inv.actions) == 2,
        "done": action.status == "done",
        "cancel": action.status == "cancelled",
        "effectiveness": inv.metric == "Complaints per week",
        "link": len(inv.links) == 2,
        "unlink": not inv.links,
        "notify": db.session.scalar(sa.select(sa.func.count(NoticeBroadcast.id))) > 0,
        "from_ticket": len(inv.links) == 2,
    }[name]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(POSTS))
def test_post_permission_matrix(client, auth, world, db, role, name):
    user = who(world, role)
    login(client, auth, user)
    path, data = POSTS[name]
    fill = {
        "number": world.number,
        "action": world.action.id,
        "protocol_a": world.ticket_a.protocol,
        "protocol_b": world.ticket_b.protocol,
    }
    path = path.format(**fill)
    data = {k: v.format(**fill) for k, v in data.items()}
    if name == "action":
        data.update(kind="corrective", owner=str(world.agent_x.id), due_on="2030-01-01")
    token_page = {"anonymous": "/login", "customer": "/"}.get(role, "/console/investigations")
    response = _post(client, path, data, token_page)
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.location
    elif role in EXPECTED[name]:
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert _changed(name, world, db), name
    else:
        assert response.status_code == 403
        assert not _changed(name, world, db)


def test_get_on_post_routes_is_405(client, auth, world):
    login(client, auth, world.supervisor)
    for path in (
        f"/console/investigations/{world.number}/status",
        f"/console/investigations/{world.number}/notify",
        "/console/investigation-bulk",
    ):
        assert client.get(path).status_code == 405


def test_unknown_number_is_404_and_bad_filters_400(client, auth, world):
    login(client, auth, world.agent_x)
    assert client.get("/console/investigations/INV-99999").status_code == 404
    assert client.get("/console/investigations?show=nope").status_code == 400
    assert client.get("/console/investigations?cursor=abc").status_code == 400
    assert client.get("/console/investigations/reports?start=2024-99-01").status_code == 400


def test_agent_proposals_wait_for_a_supervisor(client, auth, world, db):
    login(client, auth, world.agent_y)
    page = f"/console/investigations/{world.number}"
    _post(client, f"{page}/whys", {"text": "Because of rain"}, page)
    html = client.get(page).get_data(as_text=True)
    assert "Proposed by agents" in html and "Because of rain" in html
    login(client, auth, world.supervisor)
    db.session.expire_all()
    why = db.session.get(Investigation, world.inv.id).whys[0]
    _post(client, f"{page}/whys/{why.id}/accept", {}, page)
    db.session.expire_all()
    assert db.session.get(Investigation, world.inv.id).whys[0].accepted


def test_close_refused_shows_why(client, auth, world, db):
    inv = world.inv
    operations.update_investigation(
        inv, world.supervisor, root_cause="Courier route", ishikawa="method",
        metric="Complaints per week", check_on=dates.today(),
    )  # fmt: skip
    for status in ("analysing", "acting", "verifying"):
        operations.change_status(inv, world.supervisor, status)
    db.session.commit()
    login(client, auth, world.supervisor)
    page = f"/console/investigations/{world.number}"
    html = client.get(page).get_data(as_text=True)
    assert "Cannot be closed yet" in html
    response = _post(client, f"{page}/status", {"status": "closed"}, page)
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "cannot be closed yet" in html and "still open" in html
    db.session.expire_all()
    assert db.session.get(Investigation, inv.id).status == "verifying"


def test_queue_selection_opens_an_investigation(client, auth, world, db):
    login(client, auth, world.supervisor)
    response = _post(
        client,
        "/console/investigation-bulk",
        {"op": "open", "ticket": [str(world.ticket_b.id)]},
        "/console/?queue=department",
    )
    assert response.status_code == 302 and "/console/investigations/new" in response.location
    form_page = response.location
    html = client.get(form_page).get_data(as_text=True)
    assert world.ticket_b.protocol in html
    response = _post(
        client,
        form_page,
        {"title": "Missing deliveries", "impact": "3", "urgency": "2",
         "tickets": str(world.ticket_b.id), "owner": str(world.supervisor.id)},
        form_page,
    )  # fmt: skip
    assert response.status_code == 302
    created = db.session.scalar(
        sa.select(Investigation).where(Investigation.title == "Missing deliveries")
    )
    assert [link.ticket_id for link in created.links] == [world.ticket_b.id]


def test_queue_selection_links_and_agents_cannot_open(client, auth, world, db):
    login(client, auth, world.agent_x)
    response = _post(
        client,
        "/console/investigation-bulk",
        {"op": "open", "ticket": [str(world.ticket_b.id)]},
        "/console/",
    )
    assert response.status_code == 403
    response = _post(
        client,
        "/console/investigation-bulk",
        {"op": "link", "number": world.number, "ticket": [str(world.ticket_b.id)]},
        "/console/",
    )
    assert response.status_code == 302
    assert (
        db.session.scalar(
            sa.select(InvestigationTicket.investigation_id).where(
                InvestigationTicket.ticket_id == world.ticket_b.id
            )
        )
        == world.inv.id
    )
    login(client, auth, world.agent_y)  # not their department's ticket
    response = _post(
        client,
        "/console/investigation-bulk",
        {"op": "link", "number": world.number, "ticket": [str(world.ticket_b.id)]},
        "/console/",
    )
    assert response.status_code == 403


def test_queue_has_the_bulk_actions(client, auth, world):
    login(client, auth, world.supervisor)
    html = client.get("/console/?queue=department").get_data(as_text=True)
    assert 'form="bulk-form"' in html and 'name="op" value="open"' in html
    login(client, auth, world.agent_x)
    html = client.get("/console/?queue=department").get_data(as_text=True)
    assert 'name="op" value="link"' in html and 'name="op" value="open"' not in html


def test_workspace_shows_containment_and_suggestions(client, auth, world, db):
    login(client, auth, world.agent_x)
    html = client.get(f"/console/tickets/{world.ticket_a.protocol}").get_data(as_text=True)
    assert world.number in html and "Offer a free re-delivery." in html
    html = client.get(f"/console/tickets/{world.ticket_b.protocol}").get_data(as_text=True)
    assert "look like this demand" in html and world.number in html
    page = f"/console/tickets/{world.ticket_b.protocol}"
    response = _post(client, f"{page}/investigation", {"number": world.number}, page)
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Offer a free re-delivery." in html and "linked it to investigation" in html
    login(client, auth, world.supervisor)
    html = client.get(page).get_data(as_text=True)
    assert "Open investigation from this demand" not in html  # already linked


def test_notice_from_the_page_is_sent_once(client, auth, world, db, sent_mail):
    world.ticket_a.customer.locale = "pt_BR"
    db.session.commit()
    login(client, auth, world.supervisor)
    page = f"/console/investigations/{world.number}"
    data = {"notice_pt_br": "Olá {name}, resolvemos ({protocol}).", "notice_es": "Hola",
            "notice_en": "Hello", "resolve": "y"}  # fmt: skip
    sent_mail.clear()
    assert _post(client, f"{page}/notify", data, page).status_code == 302
    assert _post(client, f"{page}/notify", data, page).status_code == 302  # double submit
    bodies = db.session.scalars(
        sa.select(Message.body).where(Message.ticket_id == world.ticket_a.id)
    ).all()
    assert bodies == [f"Olá Carla, resolvemos ({world.ticket_a.protocol})."]
    assert len(sent_mail) == 1
    # the customer sees the public message, never the investigation
    login(client, auth, world.customer_a)
    html = client.get(f"/portal/demands/{world.ticket_a.protocol}").get_data(as_text=True)
    assert "resolvemos" in html and world.number not in html and "re-delivery" not in html


def test_actions_board_and_reports(client, auth, world, db):
    login(client, auth, world.agent_x)
    html = client.get("/console/investigations/actions").get_data(as_text=True)
    assert "Audit the courier" in html and "Overdue" in html
    assert "Every overdue action" not in html
    login(client, auth, world.supervisor)
    html = client.get("/console/investigations/actions").get_data(as_text=True)
    assert "Every overdue action" in html
    html = client.get("/console/investigations/reports").get_data(as_text=True)
    assert "<svg" in html and 'class="bar"' in html and "Unclassified" in html
    assert "style=" not in html.split("<main", 1)[1]
    csv = client.get("/console/investigations/reports.csv")
    assert csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    assert text.startswith("category,tickets_linked,share,cumulative_share")
    assert "unclassified,1,1.0000,1.0000" in text and "overdue_actions,1" in text


def test_list_query_count_does_not_grow(client, auth, world, db, make_ticket, count_queries):
    login(client, auth, world.supervisor)

    def measure():
        client.get("/console/investigations")
        with count_queries() as q:
            response = client.get("/console/investigations")
        assert response.status_code == 200
        return q.count, len(re.findall(r"INV-\d{5}", response.get_data(as_text=True)))

    few, shown = measure()
    for i in range(6):
        new = operations.open_investigation(
            by=world.supervisor, title=f"Problem {i}", from_ticket=make_ticket()
        )
        capa.add_action(
            new, world.supervisor, description="x", owner=world.agent_x,
            due_on=dates.today(),
        )  # fmt: skip
    db.session.commit()
    many, shown_many = measure()
    assert shown_many > shown and many == few


def test_actions_board_query_count_does_not_grow(client, auth, world, db, count_queries):
    login(client, auth, world.supervisor)

    def measure():
        client.get("/console/investigations/actions")
        with count_queries() as q:
            response = client.get("/console/investigations/actions")
        assert response.status_code == 200
        return q.count

    few = measure()
    for i in range(5):
        capa.add_action(
            world.inv, world.supervisor, description=f"Late {i}", owner=world.agent_y,
            due_on=dates.today() - timedelta(days=i + 1),
        )  # fmt: skip
    db.session.commit()
    assert measure() == few


def test_detail_query_count_does_not_grow(
    client, auth, world, db, make_ticket, make_user, count_queries
):
    from tests.conftest import customer_of

    login(client, auth, world.supervisor)
    page = f"/console/investigations/{world.number}"

    def measure():
        client.get(page)
        with count_queries() as q:
            assert client.get(page).status_code == 200
        return q.count

    few = measure()
    for _i in range(5):
        customer = customer_of(make_user("customer", password=None))
        operations.link_ticket(world.inv, make_ticket(customer=customer), by=world.supervisor)
        whys.add_why(world.inv, world.agent_x, "Why?")
    db.session.commit()
    assert measure() == few


def test_scheduler_runs_the_overdue_job(app):
    from helpdesk.scheduler import build_scheduler

    scheduler = build_scheduler(app)
    assert "overdue_actions" in {job.id for job in scheduler.get_jobs()}


def test_open_from_a_ticket_and_edit_the_record(client, auth, world, db):
    login(client, auth, world.supervisor)
    page = f"/console/investigations/new?ticket={world.ticket_b.protocol}"
    html = client.get(page).get_data(as_text=True)
    assert world.ticket_b.protocol in html and 'value="Entrega não chegou"' in html
    response = _post(
        client, page,
        {"title": "Lost parcels", "impact": "2", "urgency": "3", "keywords": "chegou; extravio",
         "tickets": str(world.ticket_b.id), "owner": str(world.supervisor.id)},
        page,
    )  # fmt: skip
    assert response.status_code == 302
    created = db.session.scalar(
        sa.select(Investigation).where(Investigation.title == "Lost parcels")
    )
    assert created.keywords == "chegou, extravio" and created.urgency == 3
    edit = f"/console/investigations/{created.number}/edit"
    assert 'value="Lost parcels"' in client.get(edit).get_data(as_text=True)
    response = _post(
        client, edit,
        {"title": "Lost parcels (South)", "impact": "3", "urgency": "3", "ishikawa": "people",
         "owner": str(world.supervisor.id)},
        edit,
    )  # fmt: skip
    assert response.status_code == 302
    html = client.get(f"/console/investigations/{created.number}").get_data(as_text=True)
    assert (
        "Lost parcels (South)" in html
        and "changed “Ishikawa category” from — to Manpower (people)" in html
    )
    bad = _post(client, edit, {"title": "", "impact": "3", "urgency": "3"}, edit)
    assert bad.status_code == 200 and "This field is required" in bad.get_data(as_text=True)


def test_cancel_and_reopen_need_a_reason(client, auth, world, db):
    login(client, auth, world.supervisor)
    page = f"/console/investigations/{world.number}"
    _post(client, f"{page}/status", {"status": "cancelled"}, page)
    db.session.expire_all()
    assert db.session.get(Investigation, world.inv.id).status == "open"
    _post(client, f"{page}/status", {"status": "cancelled", "reason": "Duplicate"}, page)
    db.session.expire_all()
    assert db.session.get(Investigation, world.inv.id).status == "cancelled"
    html = client.get(page).get_data(as_text=True)
    assert "Cancelled: Duplicate" in html
    _post(client, f"{page}/status", {"status": "open", "reason": "Not a duplicate"}, page)
    db.session.expire_all()
    found = db.session.get(Investigation, world.inv.id)
    assert found.status == "open" and found.reopened_count == 1
