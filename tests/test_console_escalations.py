"""The supervisors' escalation queue, one escalation's page with its decisions, and the agent's
"Escalate" on the ticket workspace: permissions, CSRF, filters, keyset pages, query count, what a
supervisor sees and what each decision changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.escalations import services as esc
from helpdesk.escalations.models import Escalation
from helpdesk.tickets.models import Message, Ticket

from .test_console_support import *  # noqa: F403 - fixtures and helpers
from .test_console_support import login_as, place, post_form

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, 09:00 in São Paulo


@pytest.fixture
def other_supervisor(make_user, world):
    return make_user("supervisor", departments=[world.dept_y], name="Sergio Supervisor Y")


def raise_escalation(db, ticket, agent, *, at=T0, reason="complex_case", level=None):
    with time_machine.travel(at, tick=False):
        escalation = esc.escalate_by_agent(
            ticket, agent, reason=reason, note="Cliente muito insatisfeito.", level=level
        )
        db.session.commit()
    return escalation


@pytest.fixture
def escalation_x(db, world):
    return raise_escalation(db, world.ticket_x, world.agent_x)


def fresh(db, model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def html(response) -> str:
    return response.get_data(as_text=True)


def rows_in(page: str) -> list[str]:
    return re.findall(r'<a class="protocol-inline" href="/console/escalations/(\d+)"', page)


def user_for(world, other_supervisor, who):
    return {
        "anonymous": None,
        "customer": world.customer_user,
        "agent": world.agent_x,
        "supervisor": world.supervisor,
        "other_supervisor": other_supervisor,
        "admin": world.admin,
    }[who]


# permissions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "list_status", "detail_status"),
    [
        ("anonymous", 302, 302),
        ("customer", 403, 403),
        ("agent", 403, 403),
        ("supervisor", 200, 200),
        ("other_supervisor", 200, 403),
        ("admin", 200, 200),
    ],
)
def test_permission_matrix_for_pages(
    client, app, world, other_supervisor, escalation_x, who, list_status, detail_status
):
    login_as(client, app, user_for(world, other_supervisor, who))
    listing = client.get("/console/escalations")
    assert listing.status_code == list_status
    if list_status == 200:
        shown = rows_in(html(listing))
        assert (str(escalation_x.id) in shown) == (who != "other_supervisor")
    detail = client.get(f"/console/escalations/{escalation_x.id}")
    assert detail.status_code == detail_status
    if detail_status == 302:
        assert "/login" in detail.headers["Location"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("customer", 403),
        ("agent", 403),
        ("other_supervisor", 403),
        ("supervisor", 302),
        ("admin", 302),
    ],
)
def test_permission_matrix_for_acknowledge(
    client, app, db, world, other_supervisor, escalation_x, who, status
):
    login_as(client, app, user_for(world, other_supervisor, who))
    csrf_path = "/" if who == "customer" else "/console/"
    response = post_form(
        client, f"/console/escalations/{escalation_x.id}/acknowledge", {}, csrf_path=csrf_path
    )
    assert response.status_code == status
    acknowledged = fresh(db, Escalation, escalation_x.id).acknowledged_at is not None
    assert acknowledged == (status == 302)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("customer", 403),
        ("agent", 403),
        ("other_supervisor", 403),
        ("supervisor", 302),
        ("admin", 302),
    ],
)
def test_permission_matrix_for_decide(
    client, app, db, world, other_supervisor, escalation_x, who, status
):
    login_as(client, app, user_for(world, other_supervisor, who))
    csrf_path = "/" if who == "customer" else "/console/"
    response = post_form(
        client,
        f"/console/escalations/{escalation_x.id}/decide/instruct",
        {"instruct-note": "Ligue para o cliente."},
        csrf_path=csrf_path,
    )
    assert response.status_code == status
    assert (fresh(db, Escalation, escalation_x.id).state == "closed") == (status == 302)


def test_anonymous_post_goes_to_login(client, app, db, world, escalation_x):
    login_as(client, app, None)
    response = post_form(
        client, f"/console/escalations/{escalation_x.id}/acknowledge", {}, "/login"
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert fresh(db, Escalation, escalation_x.id).state == "open"


@pytest.mark.csrf
def test_csrf_and_methods(client, app, db, world, escalation_x):
    login_as(client, app, world.supervisor)
    base = f"/console/escalations/{escalation_x.id}"
    assert client.post(f"{base}/acknowledge").status_code == 400
    assert client.post(f"{base}/decide/instruct", data={"instruct-note": "x"}).status_code == 400
    assert client.get(f"{base}/acknowledge").status_code == 405
    assert client.get(f"{base}/decide/instruct").status_code == 405
    assert fresh(db, Escalation, escalation_x.id).state == "open"


def test_unknown_ids_and_decisions_are_404(client, app, world, escalation_x):
    login_as(client, app, world.supervisor)
    assert client.get("/console/escalations/999999").status_code == 404
    assert (
        post_form(client, "/console/escalations/999999/acknowledge", {}, "/console/").status_code
        == 404
    )
    response = post_form(
        client, f"/console/escalations/{escalation_x.id}/decide/shrug", {}, "/console/"
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"tab": "everything"},
        {"level": "7"},
        {"level": "one"},
        {"trigger": "robot"},
        {"department": "abc"},
        {"cursor": "not-a-cursor"},
        {"cursor": "W10"},
    ],
)
def test_bad_filters_are_400(client, app, world, escalation_x, params):
    login_as(client, app, world.supervisor)
    assert client.get("/console/escalations", query_string=params).status_code == 400


def test_department_filter_limited_to_own_departments(client, app, world, escalation_x):
    login_as(client, app, world.supervisor)
    ok = client.get("/console/escalations", query_string={"department": world.dept_x.id})
    assert ok.status_code == 200 and rows_in(html(ok)) == [str(escalation_x.id)]
    other = client.get("/console/escalations", query_string={"department": world.dept_y.id})
    assert other.status_code == 400


def test_wrong_protocol_filter_is_an_error_next_to_the_field(client, app, world, escalation_x):
    login_as(client, app, world.supervisor)
    wrong = world.ticket_x.protocol[:-1] + str((int(world.ticket_x.protocol[-1]) + 1) % 10)
    response = client.get("/console/escalations", query_string={"protocol": wrong})
    assert response.status_code == 400
    page = html(response)
    assert 'id="f-protocol-error"' in page
    assert 'aria-invalid="true"' in page
    good = client.get("/console/escalations", query_string={"protocol": world.ticket_x.protocol})
    assert rows_in(html(good)) == [str(escalation_x.id)]
    other = client.get("/console/escalations", query_string={"protocol": world.ticket_y.protocol})
    assert rows_in(html(other)) == []


# the queue --------------------------------------------------------------------------------------


def test_to_acknowledge_is_oldest_deadline_first_with_overdue_highlighted(
    client, app, db, world, make_ticket
):
    tickets = [place(make_ticket(subject=f"Escalado {i}"), world.dept_x) for i in range(3)]
    # raised 1 h apart: deadlines (4 h later) 16:00, 17:00, 18:00 UTC
    escalations = [
        raise_escalation(db, t, world.agent_x, at=T0 + timedelta(hours=i))
        for i, t in enumerate(tickets)
    ]
    with time_machine.travel(T0 + timedelta(hours=4, minutes=30), tick=False):
        login_as(client, app, world.supervisor)
        response = client.get("/console/escalations")
    page = html(response)
    assert response.status_code == 200, page[:3000]
    assert rows_in(page) == [str(e.id) for e in escalations]
    assert page.count('class="row-overdue"') == 1
    assert ">30 min overdue<" in page and ">in 30 min<" in page and ">in 1 h 30 min<" in page
    assert 'class="due due-overdue"' in page
    assert 'class="due due-soon"' in page  # 30 min and 1 h 30 left
    assert "Complex case" in page and "Supervision" in page
    assert "Billing" in page


def test_tabs_move_with_acknowledge_and_decide(client, app, db, world, escalation_x):
    login_as(client, app, world.supervisor)

    def tab(name):
        return rows_in(html(client.get("/console/escalations", query_string={"tab": name})))

    assert tab("open") == [str(escalation_x.id)]
    assert tab("acknowledged") == [] and tab("closed") == []
    tabs = html(client.get("/console/escalations"))
    assert "To acknowledge" in tabs and "Acknowledged" in tabs and "Decided" in tabs
    base = f"/console/escalations/{escalation_x.id}"
    response = post_form(client, f"{base}/acknowledge", {}, csrf_path=base)
    assert response.status_code == 302
    assert "Escalation acknowledged" in html(client.get(base))
    assert tab("open") == [] and tab("acknowledged") == [str(escalation_x.id)]
    response = post_form(
        client, f"{base}/decide/instruct", {"instruct-note": "Ligue para o cliente hoje."}, base
    )
    assert response.status_code == 302
    assert tab("acknowledged") == [] and tab("closed") == [str(escalation_x.id)]
    closed = html(client.get("/console/escalations", query_string={"tab": "closed"}))
    assert "Instruct the agent" in closed
    detail = html(client.get(base))
    assert "Sofia Supervisor acknowledged the escalation (Supervision)." in detail
    assert "Sofia Supervisor decided the escalation: Instruct the agent." in detail
    # acknowledging twice is refused with a message
    response = post_form(client, f"{base}/acknowledge", {}, csrf_path=base)
    assert response.status_code == 302
    assert "already been decided" in html(client.get(base))


def test_filters_by_level_and_trigger(client, app, db, world, make_ticket):
    level_two = raise_escalation(db, world.ticket_x, world.agent_x, level=2)
    other = place(make_ticket(subject="Outro"), world.dept_x)
    level_one = raise_escalation(db, other, world.agent_x)
    login_as(client, app, world.admin)

    def rows(**params):
        return rows_in(html(client.get("/console/escalations", query_string=params)))

    assert rows(level=2) == [str(level_two.id)]
    assert rows(level=1) == [str(level_one.id)]
    assert set(rows(trigger="agent")) == {str(level_two.id), str(level_one.id)}
    assert rows(trigger="customer") == []


def test_keyset_pages_walk_every_row_once(client, app, db, world, make_ticket, monkeypatch):
    monkeypatch.setitem(app.config, "QUEUE_PAGE_SIZE", 3)
    made = set()
    for i in range(7):
        ticket = place(make_ticket(subject=f"Página {i}"), world.dept_x)
        # two share a deadline: the id breaks the tie
        made.add(
            str(raise_escalation(db, ticket, world.agent_x, at=T0 + timedelta(hours=i // 2)).id)
        )
    login_as(client, app, world.supervisor)
    seen, url, pages = [], "/console/escalations", 0
    while url:
        page = html(client.get(url))
        seen += rows_in(page)
        pages += 1
        match = re.search(r'href="([^"]+)" rel="next"', page)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7 and set(seen) == made


def test_queue_query_count_does_not_grow_with_rows(
    client, app, db, world, make_ticket, count_queries
):
    login_as(client, app, world.supervisor)

    def measure():
        client.get("/console/escalations")
        with count_queries() as q:
            response = client.get("/console/escalations")
        assert response.status_code == 200
        return q.count, len(rows_in(html(response)))

    for i in range(2):
        raise_escalation(db, place(make_ticket(subject=f"Q {i}"), world.dept_x), world.agent_x)
    few, n_few = measure()
    for i in range(12):
        ticket = place(make_ticket(subject=f"QQ {i}"), world.dept_x, world.agent_x2)
        raise_escalation(db, ticket, world.agent_x)
    many, n_many = measure()
    assert (n_few, n_many) == (2, 14)
    assert many == few


# one escalation ----------------------------------------------------------------------------------


def test_detail_shows_ticket_deadlines_and_history(client, app, db, world, escalation_x):
    login_as(client, app, world.supervisor)
    page = html(client.get(f"/console/escalations/{escalation_x.id}"))
    assert world.ticket_x.protocol in page and "Cobrança duplicada" in page
    assert "Cliente muito insatisfeito." in page
    assert "Waiting for acknowledgement" in page
    assert "Ana X" in page  # raised by
    assert "Open an investigation" in page
    assert "Ana X escalated it from Not escalated to Supervision." in page
    assert "Why: Complex case" in page


def test_instruct_needs_a_note_shown_next_to_the_field(client, app, db, world, escalation_x):
    login_as(client, app, world.supervisor)
    base = f"/console/escalations/{escalation_x.id}"
    response = post_form(client, f"{base}/decide/instruct", {"instruct-note": "  "}, base)
    assert response.status_code == 400
    page = html(response)
    box = page.split('id="decide-instruct"')[1].split("</details>")[0]
    assert "Please write a few words." in box and " open>" in box
    assert fresh(db, Escalation, escalation_x.id).state == "open"


def test_instruct_adds_an_internal_note(client, app, db, world, escalation_x):
    login_as(client, app, world.supervisor)
    base = f"/console/escalations/{escalation_x.id}"
    response = post_form(
        client, f"{base}/decide/instruct", {"instruct-note": "Devolva o valor hoje."}, base
    )
    assert response.status_code == 302
    note = db.session.scalar(
        sa.select(Message).where(Message.ticket_id == world.ticket_x.id).order_by(Message.id.desc())
    )
    assert note.is_internal and note.body == "Devolva o valor hoje."
    escalation = fresh(db, Escalation, escalation_x.id)
    assert (escalation.state, escalation.decision) == ("closed", "instruct")
    assert "Decision recorded: Instruct the agent." in html(client.get(base))


def test_reassign_to_another_department_and_person(client, app, db, world, escalation_x):
    login_as(client, app, world.supervisor)
    base = f"/console/escalations/{escalation_x.id}"
    response = post_form(
        client,
        f"{base}/decide/reassign",
        {"reassign-department": str(world.dept_y.id), "reassign-assignee": str(world.agent_y.id)},
        base,
    )
    assert response.status_code == 302, html(response)[:2000]
    ticket = fresh(db, Ticket, world.ticket_x.id)
    assert (ticket.department_id, ticket.assignee_id) == (world.dept_y.id, world.agent_y.id)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Please choose a department or a person."),
        ({"reassign-department": "999999"}, "Please choose a department."),
        ({"reassign-assignee": "abc"}, "Please choose a person."),
    ],
)
def test_reassign_errors_are_next_to_their_field(
    client, app, db, world, escalation_x, data, message
):
    login_as(client, app, world.supervisor)
    base = f"/console/escalations/{escalation_x.id}"
    response = post_form(client, f"{base}/decide/reassign", data, base)
    assert response.status_code == 400
    box = html(response).split('id="decide-reassign"')[1].split("</details>")[0]
    assert message in box
    assert fresh(db, Escalation, escalation_x.id).state == "open"


def test_change_priority(client, app, db, world, escalation_x):
    login_as(client, app, world.supervisor)
    base = f"/console/escalations/{escalation_x.id}"
    bad = post_form(
        client, f"{base}/decide/change_priority", {"change_priority-priority": "9"}, base
    )
    assert bad.status_code == 400 and "Please choose a priority." in html(bad)
    response = post_form(
        client, f"{base}/decide/change_priority", {"change_priority-priority": "4"}, base
    )
    assert response.status_code == 302
    assert fresh(db, Ticket, world.ticket_x.id).priority == 4


def test_de_escalate_needs_a_reason_and_lowers_the_level(client, app, db, world, escalation_x):
    login_as(client, app, world.supervisor)
    base = f"/console/escalations/{escalation_x.id}"
    assert fresh(db, Ticket, world.ticket_x.id).escalation_level == 1
    response = post_form(client, f"{base}/decide/de_escalate", {}, base)
    assert response.status_code == 400 and "Please write a few words." in html(response)
    response = post_form(
        client,
        f"{base}/decide/de_escalate",
        {"de_escalate-note": "Já resolvido por telefone."},
        base,
    )
    assert response.status_code == 302
    assert fresh(db, Ticket, world.ticket_x.id).escalation_level == 0


def test_investigate_opens_an_investigation_from_the_ticket(client, app, db, world, escalation_x):
    from helpdesk.investigations.queries import link_of

    login_as(client, app, world.supervisor)
    base = f"/console/escalations/{escalation_x.id}"
    response = post_form(
        client, f"{base}/decide/investigate", {"investigate-note": "Atrasos na entrega"}, base
    )
    assert response.status_code == 302
    assert fresh(db, Escalation, escalation_x.id).decision == "investigate"
    link = link_of(fresh(db, Ticket, world.ticket_x.id))
    assert link is not None and link.investigation.title == "Atrasos na entrega"


def test_deciding_twice_is_refused(client, app, db, world, escalation_x):
    login_as(client, app, world.supervisor)
    base = f"/console/escalations/{escalation_x.id}"
    post_form(client, f"{base}/decide/instruct", {"instruct-note": "Feito."}, base)
    response = post_form(client, f"{base}/decide/instruct", {"instruct-note": "De novo."}, base)
    assert response.status_code in (400, 409)
    page = html(client.get(base))
    assert "Your decision" not in page  # no more forms on a decided escalation
    assert "Feito." in page


# the agent escalates from the workspace ----------------------------------------------------------


def test_agent_escalates_from_the_workspace(client, app, db, world, sent_mail):
    login_as(client, app, world.agent_x)
    url = f"/console/tickets/{world.ticket_x.protocol}"
    page = html(client.get(url))
    assert 'action="/console/tickets/' in page and "Escalate" in page
    assert "Legal threat (Procon, court, regulator)" in page
    response = post_form(
        client,
        f"{url}/escalate",
        {"reason": "legal_threat", "note": "Ameaçou ir ao Procon.", "level": ""},
        csrf_path=url,
    )
    assert response.status_code == 302
    escalation = db.session.scalar(sa.select(Escalation))
    assert (escalation.level, escalation.trigger, escalation.reason) == (1, "agent", "legal_threat")
    page = html(client.get(url))
    assert "Escalated. The supervisors were told." in page
    assert 'class="badge esc-1"' in page and "Legal threat" in page
    assert any(world.supervisor.email in m["To"] for m in sent_mail)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "bored", "note": "x"}, "Not a valid choice"),
        ({"reason": "", "note": "x"}, "Please choose a reason."),
        ({"reason": "other", "note": ""}, "Please write a few words."),
        ({"reason": "other", "note": "x", "level": "9"}, "Not a valid choice"),
    ],
)
def test_workspace_escalate_errors_are_shown(client, app, db, world, data, message):
    login_as(client, app, world.agent_x)
    url = f"/console/tickets/{world.ticket_x.protocol}"
    response = post_form(client, f"{url}/escalate", data, csrf_path=url, follow_redirects=True)
    assert message in html(response)
    assert db.session.scalar(sa.select(sa.func.count(Escalation.id))) == 0


@pytest.mark.csrf
def test_workspace_escalate_permissions_and_csrf(client, app, db, world):
    url = f"/console/tickets/{world.ticket_x.protocol}"
    login_as(client, app, world.agent_y)
    data = {"reason": "other", "note": "x"}
    assert post_form(client, f"{url}/escalate", data, csrf_path="/console/").status_code == 403
    login_as(client, app, world.agent_x)
    assert client.post(f"{url}/escalate", data=data).status_code == 400
    assert client.get(f"{url}/escalate").status_code == 405
    assert client.post("/console/tickets/000/escalate", data=data).status_code in (400, 404)
    assert db.session.scalar(sa.select(sa.func.count(Escalation.id))) == 0


def test_workspace_hides_escalate_at_the_ombudsman_level(client, app, db, world, make_department):
    make_department("Ouvidoria", is_ombudsman=True)
    raise_escalation(db, world.ticket_x, world.agent_x, level=3)
    login_as(client, app, world.admin)
    page = html(client.get(f"/console/tickets/{world.ticket_x.protocol}"))
    assert 'id="escalate"' not in page
    assert "Ombudsman" in page


def test_workspace_statements_do_not_grow_with_escalations(
    client, app, db, world, make_department, count_queries
):
    login_as(client, app, world.supervisor)
    url = f"/console/tickets/{world.ticket_x.protocol}"

    def measure():
        client.get(url)
        with count_queries() as q:
            response = client.get(url)
        assert response.status_code == 200
        return q.count, html(response).count('class="badge esc-')

    raise_escalation(db, world.ticket_x, world.agent_x)
    one, badges_one = measure()
    make_department("Ouvidoria", is_ombudsman=True)
    for level in (2, 3):
        raise_escalation(db, world.ticket_x, world.agent_x2, level=level)
    db.session.expire_all()
    place(db.session.get(Ticket, world.ticket_x.id), world.dept_x)  # back where X can see it
    three, badges_three = measure()
    assert badges_three > badges_one
    assert three == one
