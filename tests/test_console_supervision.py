"""Supervision pages and the deadline in queues: the about-to-breach board, SLA compliance (with
CSV), the notifications bell, the queue's "Due" column and its default "due" sort.

Times: 2026-03-02 is a Monday; São Paulo is UTC-3. The SAC default policy gives a first response
within one business day (Mon-Fri 08-12 and 13-18 local) and a resolution within 7 calendar days."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.escalations import services as esc
from helpdesk.escalations.models import Notification
from helpdesk.sla.policies import ensure_default_policy
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.queries import TicketFilter, ticket_page

from .test_console_support import *  # noqa: F403 - fixtures and helpers
from .test_console_support import login_as, place, post_form, protocols_in


def utc(*args):
    return datetime(*args, tzinfo=UTC)


MONDAY = utc(2026, 3, 2, 12, 0)  # 09:00 local


@pytest.fixture
def policy(db, world):
    """The default policy, created after the world's two tickets (which so have no deadline)."""
    ensure_default_policy()
    db.session.commit()


@pytest.fixture
def other_supervisor(make_user, world):
    return make_user("supervisor", departments=[world.dept_y], name="Sergio Supervisor Y")


def registered(db, make_ticket, at, department, assignee=None, subject=None):
    with time_machine.travel(at, tick=False):
        ticket = place(make_ticket(subject=subject), department, assignee)
        db.session.commit()
    return ticket


def html(response) -> str:
    return response.get_data(as_text=True)


def who_is(world, other_supervisor, who):
    return {
        "anonymous": None,
        "customer": world.customer_user,
        "agent": world.agent_x,
        "supervisor": world.supervisor,
        "other_supervisor": other_supervisor,
        "admin": world.admin,
    }[who]


# permissions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/console/sla/board", "/console/sla/compliance"])
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("customer", 403),
        ("agent", 403),
        ("supervisor", 200),
        ("other_supervisor", 200),
        ("admin", 200),
    ],
)
def test_permission_matrix(client, app, world, other_supervisor, path, who, status):
    login_as(client, app, who_is(world, other_supervisor, who))
    response = client.get(path)
    assert response.status_code == status
    if status == 302:
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("customer", 403), ("agent", 200), ("supervisor", 200), ("admin", 200)],
)
def test_notifications_permission_matrix(client, app, world, other_supervisor, who, status):
    login_as(client, app, who_is(world, other_supervisor, who))
    assert client.get("/console/notifications").status_code == status


def test_supervision_links_only_for_supervisors(client, app, world):
    login_as(client, app, world.agent_x)
    page = html(client.get("/console/"))
    assert "Notifications" in page and "About to breach" not in page
    login_as(client, app, world.supervisor)
    page = html(client.get("/console/"))
    assert "Escalations" in page and "About to breach" in page and "SLA compliance" in page


# the board --------------------------------------------------------------------------------------


@pytest.fixture
def board_tickets(db, world, policy, make_ticket):
    """At Tuesday 10:00 UTC (07:00 local): `late` missed its first response (due Monday 09:00
    local), `soon` is due at 09:00 local (2 h left), `later` at 14:00 local (7 h left); `other`
    is due soon in department Y; `answered` has met its first response."""
    late = registered(db, make_ticket, utc(2026, 2, 27, 12, 0), world.dept_x, None, "Atrasado")
    soon = registered(db, make_ticket, MONDAY, world.dept_x, world.agent_x, "Vence logo")
    later = registered(
        db, make_ticket, utc(2026, 3, 2, 17, 0), world.dept_x, world.agent_x2, "Vence depois"
    )
    other = registered(db, make_ticket, MONDAY, world.dept_y, world.agent_y, "Outro depto")
    answered = registered(db, make_ticket, MONDAY, world.dept_x, world.agent_x, "Respondido")
    with time_machine.travel(MONDAY + timedelta(hours=1), tick=False):
        tickets.add_message(answered, world.agent_x, "Resolvendo.")
        db.session.commit()
    return {"late": late, "soon": soon, "later": later, "other": other, "answered": answered}


TUESDAY_10 = utc(2026, 3, 3, 10, 0)


def board_protocols(page: str) -> list[str]:
    return protocols_in(page)


def test_board_lists_breached_and_due_soon_soonest_first(client, app, world, board_tickets):
    t = board_tickets
    with time_machine.travel(TUESDAY_10, tick=False):
        login_as(client, app, world.supervisor)
        page = html(client.get("/console/sla/board"))
        wide = html(client.get("/console/sla/board", query_string={"hours": 24}))
    assert board_protocols(page) == [t["late"].protocol, t["soon"].protocol]
    assert "Atrasado" in page and "Vence logo" in page and "Outro depto" not in page
    assert 'class="row-overdue"' in page and ">22 h overdue<" in page and ">in 2 h<" in page
    assert re.search(
        r"<td>Billing</td><td class=\"right\"><span class=\"badge sla-breached\">1</span></td>"
        r"<td class=\"right\"><span class=\"badge sla-at_risk\">1</span>",
        page,
    )
    assert "Ana X" in page and "Unassigned" in page
    assert board_protocols(wide) == [
        t["late"].protocol,
        t["soon"].protocol,
        t["later"].protocol,
    ]
    assert t["answered"].protocol not in wide


def test_board_admin_sees_every_department_and_filters(client, app, world, board_tickets):
    t = board_tickets
    with time_machine.travel(TUESDAY_10, tick=False):
        login_as(client, app, world.admin)
        page = html(client.get("/console/sla/board"))
        only_y = html(
            client.get("/console/sla/board", query_string={"department": world.dept_y.id})
        )
    assert t["other"].protocol in board_protocols(page)
    assert "Logistics" in page and "Billing" in page
    assert board_protocols(only_y) == [t["other"].protocol]


@pytest.mark.parametrize(
    "params", [{"hours": "3"}, {"hours": "x"}, {"hours": "-1"}, {"department": "abc"}]
)
def test_board_bad_filters_are_400(client, app, world, params):
    login_as(client, app, world.supervisor)
    assert client.get("/console/sla/board", query_string=params).status_code == 400


def test_board_department_of_another_supervisor_is_400(client, app, world):
    login_as(client, app, world.supervisor)
    response = client.get("/console/sla/board", query_string={"department": world.dept_y.id})
    assert response.status_code == 400


def test_board_empty_state(client, app, world, policy):
    login_as(client, app, world.supervisor)
    assert "Nothing about to breach" in html(client.get("/console/sla/board"))


def test_board_query_count_does_not_grow(
    client, app, db, world, policy, make_ticket, count_queries
):
    def measure():
        with time_machine.travel(TUESDAY_10, tick=False):
            login_as(client, app, world.supervisor)
            client.get("/console/sla/board")
            with count_queries() as q:
                response = client.get("/console/sla/board")
        return q.count, len(board_protocols(html(response)))

    for _ in range(2):
        registered(db, make_ticket, MONDAY, world.dept_x, world.agent_x)
    few, n_few = measure()
    for i in range(10):
        agent = world.agent_x2 if i % 2 else None
        registered(db, make_ticket, MONDAY + timedelta(minutes=i), world.dept_x, agent)
    many, n_many = measure()
    assert (n_few, n_many) == (2, 12)
    assert many == few


# compliance ---------------------------------------------------------------------------------------


@pytest.fixture
def outcomes(db, world, policy, make_ticket):
    """Department X: one first response on time (and resolved), one late, one never answered;
    department Y: one on time. Registered Monday 2 March."""
    on_time = registered(db, make_ticket, MONDAY, world.dept_x, world.agent_x, "No prazo")
    late = registered(db, make_ticket, MONDAY, world.dept_x, world.agent_x, "Atrasada")
    silent = registered(db, make_ticket, MONDAY, world.dept_x, None, "Sem resposta")
    other = registered(db, make_ticket, MONDAY, world.dept_y, world.agent_y, "Outro")
    with time_machine.travel(MONDAY + timedelta(hours=3), tick=False):
        tickets.add_message(on_time, world.agent_x, "Resolvido.", new_status="resolved")
        tickets.add_message(other, world.agent_y, "Respondido.")
        db.session.commit()
    with time_machine.travel(utc(2026, 3, 4, 12, 0), tick=False):
        tickets.add_message(late, world.agent_x, "Desculpe a demora.")
        db.session.commit()
    return {"on_time": on_time, "late": late, "silent": silent, "other": other}


def compliance_rows(page: str) -> list[list[str]]:
    body = page.split('class="table compliance-table"')[1].split("</table>")[0]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]:
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        ]
        rows.append(cells)
    return rows


def test_compliance_counts_met_on_time_late_and_breached(client, app, world, outcomes):
    with time_machine.travel(utc(2026, 3, 20, 15, 0), tick=False):
        login_as(client, app, world.supervisor)
        page = html(client.get("/console/sla/compliance"))
    rows = compliance_rows(page)
    assert ["Billing", "First response", "1", "1", "1", "33.3%"] in rows
    # resolution: the first is resolved in time; the others passed 9 March unresolved
    assert ["", "Resolution", "1", "0", "2", "33.3%"] in rows
    assert "Logistics" not in page  # another department's figures are not shown
    assert "Download CSV" in page


def test_compliance_admin_sees_every_department_and_csv(client, app, world, outcomes):
    with time_machine.travel(utc(2026, 3, 20, 15, 0), tick=False):
        login_as(client, app, world.admin)
        page = html(client.get("/console/sla/compliance"))
        response = client.get(
            "/console/sla/compliance",
            query_string={"date_from": "2026-03-01", "date_to": "2026-03-20", "format": "csv"},
        )
    assert ["Logistics", "First response", "1", "0", "0", "100.0%"] in compliance_rows(page)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Department"
    assert ["Billing", "First response", "1", "1", "1", "33.3"] in rows
    assert ["Logistics", "First response", "1", "0", "0", "100.0"] in rows


def test_compliance_period_excludes_deadlines_outside_it(client, app, world, outcomes):
    with time_machine.travel(utc(2026, 3, 20, 15, 0), tick=False):
        login_as(client, app, world.supervisor)
        page = html(
            client.get(
                "/console/sla/compliance",
                query_string={"date_from": "2026-03-10", "date_to": "2026-03-20"},
            )
        )
    assert ["Billing", "First response", "0", "0", "0", "—"] in compliance_rows(page)


def test_compliance_csv_cells_cannot_be_formulas(
    client, app, db, world, make_department, policy, make_ticket
):
    evil = make_department("=HYPERLINK(1)")
    registered(db, make_ticket, MONDAY, evil)
    with time_machine.travel(utc(2026, 3, 20, 15, 0), tick=False):
        login_as(client, app, world.admin)
        response = client.get("/console/sla/compliance", query_string={"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert ["'=HYPERLINK(1)", "First response", "0", "0", "1", "0.0"] in rows


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-13-01"}, "Not a valid date value."),
        ({"date_to": "yesterday"}, "Not a valid date value."),
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "The end must be on or after"),
        ({"date_from": "2020-01-01", "date_to": "2026-03-01"}, "Please choose at most 366 days."),
    ],
)
def test_compliance_bad_dates_are_errors_next_to_the_field(client, app, world, params, message):
    login_as(client, app, world.supervisor)
    response = client.get("/console/sla/compliance", query_string=params)
    assert response.status_code == 400
    page = html(response)
    field = page.split(message)[0].rsplit('<div class="field', 1)[1]
    assert "has-error" in field  # the error sits in its field's box
    assert 'role="alert"' in page


def test_compliance_bad_format_is_400(client, app, world):
    login_as(client, app, world.supervisor)
    response = client.get("/console/sla/compliance", query_string={"format": "xlsx"})
    assert response.status_code == 400


def test_compliance_statement_count_does_not_grow(
    client, app, db, world, policy, make_ticket, count_queries
):
    def measure():
        with time_machine.travel(utc(2026, 3, 20, 15, 0), tick=False):
            login_as(client, app, world.supervisor)
            client.get("/console/sla/compliance")
            with count_queries() as q:
                assert client.get("/console/sla/compliance").status_code == 200
        return q.count

    registered(db, make_ticket, MONDAY, world.dept_x)
    few = measure()
    for i in range(10):
        registered(db, make_ticket, MONDAY + timedelta(hours=i), world.dept_x)
    assert measure() == few


# notifications -------------------------------------------------------------------------------------


@pytest.fixture
def notified(db, world):
    """Two escalations by agent X: the supervisor of X gets a notification for each."""
    first = esc.escalate_by_agent(world.ticket_x, world.agent_x, reason="other", note="Um")
    db.session.commit()
    second = esc.escalate_by_agent(world.ticket_x, world.agent_x, reason="other", note="Dois")
    db.session.commit()
    return first, second


def unread(db, user) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


def test_bell_shows_the_unread_count_and_the_list(client, app, db, world, notified):
    login_as(client, app, world.supervisor)
    page = html(client.get("/console/"))
    assert re.search(r'class="tag bell-count"[^>]*>2<', page)
    listing = html(client.get("/console/notifications"))
    assert "Escalated to Supervision" in listing and "Escalated to Management" in listing
    assert f'href="/console/escalations/{notified[0].id}"' in listing
    assert listing.count('class="notif-unread"') == 2


def test_mark_one_and_all_as_read(client, app, db, world, notified):
    login_as(client, app, world.supervisor)
    mine = db.session.scalars(
        sa.select(Notification.id).where(Notification.user_id == world.supervisor.id)
    ).all()
    response = post_form(
        client, "/console/notifications/read", {"id": str(mine[0])}, "/console/notifications"
    )
    assert response.status_code == 302
    assert unread(db, world.supervisor) == 1
    page = html(client.get("/console/notifications"))
    assert "Notification marked as read." in page
    assert re.search(r'class="tag bell-count"[^>]*>1<', page)
    post_form(client, "/console/notifications/read", {}, "/console/notifications")
    assert unread(db, world.supervisor) == 0
    page = html(client.get("/console/notifications"))
    assert "All notifications marked as read." in page and "bell-count" not in page


def test_cannot_mark_someone_elses_notifications(client, app, db, world, notified):
    theirs = db.session.scalar(
        sa.select(Notification.id).where(Notification.user_id == world.supervisor.id)
    )
    login_as(client, app, world.agent_x2)
    response = post_form(
        client, "/console/notifications/read", {"id": str(theirs)}, "/console/notifications"
    )
    assert response.status_code == 302
    assert unread(db, world.supervisor) == 2


@pytest.mark.csrf
def test_notifications_csrf_method_and_bad_ids(client, app, db, world, notified):
    login_as(client, app, world.supervisor)
    assert client.post("/console/notifications/read").status_code == 400
    assert client.get("/console/notifications/read").status_code == 405
    bad = post_form(client, "/console/notifications/read", {"id": "abc"}, "/console/notifications")
    assert bad.status_code == 400
    assert client.get("/console/notifications?cursor=zzz").status_code == 400
    assert unread(db, world.supervisor) == 2


def test_notifications_query_count_does_not_grow(
    client, app, db, world, make_ticket, count_queries
):
    login_as(client, app, world.supervisor)

    def measure():
        client.get("/console/notifications")
        with count_queries() as q:
            response = client.get("/console/notifications")
        return q.count, html(response).count("notif-unread")

    esc.escalate_by_agent(world.ticket_x, world.agent_x, reason="other", note="1")
    db.session.commit()
    few, n_few = measure()
    for i in range(6):
        ticket = place(make_ticket(subject=f"N {i}"), world.dept_x)
        esc.escalate_by_agent(ticket, world.agent_x, reason="other", note=str(i))
        db.session.commit()
    many, n_many = measure()
    assert (n_few, n_many) == (1, 7)
    assert many == few


# the queue: Due column and the due sort ------------------------------------------------------------


def test_queue_due_column_colours_and_level_badge(client, app, db, world, board_tickets):
    t = board_tickets
    esc.escalate_by_agent(t["soon"], world.agent_x, reason="other", note="!", level=2)
    db.session.commit()
    with time_machine.travel(TUESDAY_10, tick=False):
        login_as(client, app, world.agent_x)
        page = html(client.get("/console/?queue=department"))
    # due first by default; the ticket without a deadline comes last
    assert protocols_in(page) == [
        t["late"].protocol,
        t["soon"].protocol,
        t["later"].protocol,
        t["answered"].protocol,
        world.ticket_x.protocol,
    ]
    assert 'class="due due-overdue"' in page and ">22 h overdue<" in page
    assert 'class="due due-soon"' in page and ">in 2 h<" in page
    assert 'class="due due-later"' in page and ">in 7 h<" in page
    assert 'class="due due-none"' in page
    assert 'class="badge esc-2"' in page
    assert "Due first" in page


def test_due_sort_pages_across_tickets_without_a_deadline(
    client, app, db, world, board_tickets, monkeypatch
):
    monkeypatch.setitem(app.config, "QUEUE_PAGE_SIZE", 2)
    t = board_tickets
    with time_machine.travel(TUESDAY_10, tick=False):
        login_as(client, app, world.agent_x)
        seen, url, pages = [], "/console/?queue=department&sort=due", 0
        while url:
            page = html(client.get(url))
            seen += protocols_in(page)
            pages += 1
            match = re.search(r'href="([^"]+)" rel="next"', page)
            url = match.group(1).replace("&amp;", "&") if match else None
    assert pages == 3
    assert seen == [
        t["late"].protocol,
        t["soon"].protocol,
        t["later"].protocol,
        t["answered"].protocol,
        world.ticket_x.protocol,
    ]


def test_due_keyset_condition_for_null_and_dated_cursors(db, world, board_tickets):
    flt = TicketFilter(department_ids=[world.dept_x.id])
    walked, cursor = [], None
    while True:
        page = ticket_page(flt, sort="due", cursor=cursor, limit=1, eager=False)
        walked += [t.id for t in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    everything = ticket_page(flt, sort="due", limit=100, eager=False).items
    assert walked == [t.id for t in everything]
    dues = [t.sla_due_at for t in everything]
    dated = [d for d in dues if d is not None]
    assert dues == dated + [None] * (len(dues) - len(dated))
    assert dated == sorted(dated)
    assert len(walked) == len(set(walked)) == 5  # four with a deadline, ticket_x without
    assert db.session.get(Ticket, walked[-1]).sla_due_at is None
