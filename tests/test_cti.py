"""CTI: the phone system posts call events; the agent's console pops the caller; calls join demands.

ringing → pop for that agent only → register (protocol at once, call linked) → hung_up with its
duration in the ticket's thread; unknown callers; events out of order and repeated; the
recording-reference purge never earlier than 90 days; the permission matrix of every new route.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from helpdesk.channels.models import Call
from helpdesk.core.clock import now
from helpdesk.tickets.models import Ticket, TicketEvent

from .conftest import csrf_from
from .test_console_support import login_as

API = "/api/v1"
PHONE = "+5511987654321"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def pbx(db, make_user, make_department, make_customer, make_ticket):
    """An integration account with its token, agents of two departments, a known caller."""
    from helpdesk.accounts.services import issue_api_token

    class P:
        pass

    p = P()
    p.dept_x = make_department("X")
    p.dept_y = make_department("Y")
    p.integration = make_user("integration", password=None, name="PBX")
    p.agent_x = make_user("agent", departments=[p.dept_x], name="Ana Agent")
    p.agent_y = make_user("agent", departments=[p.dept_y], name="Yuri Agent")
    p.supervisor = make_user("supervisor", departments=[p.dept_x])
    p.admin = make_user("admin", departments=[])
    p.customer_user = make_user("customer")
    p.caller = make_customer(name="Carla Caller", phone="(11) 98765-4321")
    p.open_ticket = make_ticket(customer=p.caller, subject="Fatura errada")
    p.open_ticket.department_id = p.dept_x.id
    db.session.commit()
    p.token = issue_api_token(p.integration, "pbx")
    db.session.commit()
    return p


def post_call(client, token, **payload):
    return client.post(f"{API}/calls", json=payload, headers=bearer(token))


def pop_html(client):
    response = client.get("/console/calls/active")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def the_call(db, call_id="c-1") -> Call:
    db.session.expire_all()
    return db.session.scalar(sa.select(Call).where(Call.call_id == call_id))


# the whole flow ---------------------------------------------------------------------------------


def test_ringing_pops_for_that_agent_register_then_hang_up(client, app, db, pbx):
    r = post_call(
        client,
        pbx.token,
        call_id="c-1",
        event="ringing",
        caller="011987654321",
        called="08007771234",
        agent=pbx.agent_x.email,
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    assert body["state"] == "ringing" and body["caller_e164"] == PHONE
    assert body["customer"]["name"] == "Carla Caller"

    # the pop: the caller's record and open demands, for agent X only
    login_as(client, app, pbx.agent_y)
    assert "Carla Caller" not in pop_html(client)
    login_as(client, app, pbx.agent_x)
    html = pop_html(client)
    assert "Carla Caller" in html and pbx.open_ticket.protocol in html
    assert "Register a new demand" in html and "Continue this demand" in html

    # answered, then one click: a new demand with its protocol at once, the call linked
    assert post_call(client, pbx.token, call_id="c-1", event="answered").status_code == 200
    token = csrf_from(client, "/console/phone")
    call = the_call(db)
    r = client.post(f"/console/calls/{call.id}/register", data={"csrf_token": token})
    assert r.status_code == 302
    protocol = re.search(r"/console/phone/(\d+)$", r.headers["Location"]).group(1)
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.protocol == protocol))
    assert ticket.channel == "phone" and ticket.customer_id == pbx.caller.id
    assert the_call(db).ticket_id == ticket.id

    # hung up 3 min 5 s after the answer: duration in the thread with the recording reference
    answered = the_call(db).answered_at
    r = post_call(
        client,
        pbx.token,
        call_id="c-1",
        event="hung_up",
        at=(answered + timedelta(seconds=185)).isoformat(),
        recording_ref="rec/2025/c-1.wav",
    )
    assert r.status_code == 200 and r.get_json()["duration_seconds"] == 185
    assert r.get_json()["ticket"] == protocol
    assert "Carla Caller" not in pop_html(client)  # ended: no more pop
    html = client.get(f"/console/tickets/{protocol}").get_data(as_text=True)
    assert "Phone call" in html and "Duration: 3 min 5 s." in html
    assert "rec/2025/c-1.wav" in html
    assert "The phone call ended (185 s)." in html


def test_continue_an_existing_demand_attaches_the_call(client, app, db, pbx):
    post_call(
        client, pbx.token, call_id="c-2", event="answered", caller=PHONE, agent=pbx.agent_x.id
    )
    login_as(client, app, pbx.agent_x)
    call = the_call(db, "c-2")
    r = client.post(
        f"/console/calls/{call.id}/attach",
        data={
            "csrf_token": csrf_from(client, "/console/phone"),
            "protocol": pbx.open_ticket.protocol,
        },
    )
    assert r.status_code == 302 and r.headers["Location"].endswith(pbx.open_ticket.protocol)
    assert the_call(db, "c-2").ticket_id == pbx.open_ticket.id
    html = client.get(f"/console/tickets/{pbx.open_ticket.protocol}").get_data(as_text=True)
    assert "Phone call" in html and "In progress." in html


def test_attach_refuses_another_customers_demand(client, app, db, pbx, make_ticket):
    other = make_ticket(subject="Outro cliente")
    other.department_id = pbx.dept_x.id
    db.session.commit()
    post_call(client, pbx.token, call_id="c-3", event="ringing", caller=PHONE, agent=pbx.agent_x.id)
    login_as(client, app, pbx.agent_x)
    call = the_call(db, "c-3")
    r = client.post(
        f"/console/calls/{call.id}/attach",
        data={"csrf_token": csrf_from(client, "/console/phone"), "protocol": other.protocol},
        follow_redirects=True,
    )
    assert "This demand belongs to another customer." in r.get_data(as_text=True)
    assert the_call(db, "c-3").ticket_id is None


def test_unknown_caller_is_registered_with_a_name(client, app, db, pbx):
    r = post_call(
        client,
        pbx.token,
        call_id="c-4",
        event="ringing",
        caller="+55 21 99876-5432",
        agent=pbx.agent_x.email,
    )
    assert r.get_json()["customer"] is None
    login_as(client, app, pbx.agent_x)
    html = pop_html(client)
    assert "Unknown caller" in html and "+55 21 99876-5432" in html
    call = the_call(db, "c-4")
    token = csrf_from(client, "/console/phone")
    # no name: nothing registered
    r = client.post(f"/console/calls/{call.id}/register", data={"csrf_token": token})
    assert r.status_code == 302 and the_call(db, "c-4").ticket_id is None
    r = client.post(
        f"/console/calls/{call.id}/register", data={"csrf_token": token, "name": "Rafa Novo"}
    )
    assert r.status_code == 302 and "/console/phone/" in r.headers["Location"]
    call = the_call(db, "c-4")
    assert call.customer.name == "Rafa Novo"
    assert [p.number for p in call.customer.phones] == ["+5521998765432"]
    assert call.ticket.customer_id == call.customer_id


def test_withheld_number_is_accepted(client, db, pbx):
    r = post_call(client, pbx.token, call_id="c-5", event="ringing", caller="anonymous")
    assert r.status_code == 201
    assert r.get_json()["caller_e164"] is None and r.get_json()["customer"] is None


# order and repetition ---------------------------------------------------------------------------


def test_events_out_of_order(client, db, pbx):
    t0 = now().replace(microsecond=0)
    hang = post_call(
        client,
        pbx.token,
        call_id="c-6",
        event="hung_up",
        caller=PHONE,
        at=(t0 + timedelta(seconds=100)).isoformat(),
    )
    assert hang.status_code == 201 and hang.get_json()["state"] == "ended"
    assert hang.get_json()["duration_seconds"] == 0  # not (yet) known to be answered
    answered = post_call(
        client,
        pbx.token,
        call_id="c-6",
        event="answered",
        at=(t0 + timedelta(seconds=10)).isoformat(),
        agent=pbx.agent_x.email,
    )
    assert answered.get_json()["state"] == "ended"  # never moves backwards
    assert answered.get_json()["duration_seconds"] == 90
    ringing = post_call(
        client,
        pbx.token,
        call_id="c-6",
        event="ringing",
        at=t0.isoformat(),
    )
    body = ringing.get_json()
    assert body["state"] == "ended" and body["duration_seconds"] == 90
    assert body["started_at"].startswith(t0.strftime("%Y-%m-%dT%H:%M:%S"))
    assert body["agent"]["email"] == pbx.agent_x.email


def test_repeated_events_are_idempotent(client, db, pbx):
    for _ in range(3):
        post_call(client, pbx.token, call_id="c-7", event="ringing", caller=PHONE)
    assert db.session.scalar(sa.select(sa.func.count(Call.id))) == 1
    call = the_call(db, "c-7")
    call.ticket_id = pbx.open_ticket.id
    db.session.commit()
    first = post_call(client, pbx.token, call_id="c-7", event="hung_up")
    again = post_call(client, pbx.token, call_id="c-7", event="hung_up")
    assert first.get_json()["ended_at"] == again.get_json()["ended_at"]
    ended_notes = db.session.scalar(
        sa.select(sa.func.count(TicketEvent.id)).where(
            TicketEvent.ticket_id == pbx.open_ticket.id, TicketEvent.action == "call"
        )
    )
    assert ended_notes == 1
    # the same call id from another provider is another call
    other = client.post(
        f"{API}/calls",
        json={"call_id": "c-7", "event": "ringing", "provider": "cloud"},
        headers=bearer(pbx.token),
    )
    assert other.status_code == 201


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"event": "ringing"}, "call_id"),
        ({"call_id": "x", "event": "transferred"}, "event"),
        ({"call_id": "x" * 121, "event": "ringing"}, "call_id"),
        ({"call_id": "x", "event": "ringing", "at": "yesterday"}, "at"),
        ({"call_id": "x", "event": "ringing", "duration": -1}, "duration"),
        ({"call_id": 5, "event": "ringing"}, "call_id"),
    ],
)
def test_bad_payloads_are_422(client, db, pbx, payload, field):
    r = client.post(f"{API}/calls", json=payload, headers=bearer(pbx.token))
    assert r.status_code == 422 and field in r.get_json()["errors"]


def test_unknown_or_non_staff_agent_is_refused(client, db, pbx):
    for agent in ("nobody@example.com", pbx.customer_user.email):
        r = post_call(client, pbx.token, call_id="c-8", event="ringing", agent=agent)
        assert r.status_code == 400 and "agent" in r.get_json()["errors"]
    assert the_call(db, "c-8") is None


# retention --------------------------------------------------------------------------------------


def test_recording_references_are_kept_at_least_90_days(app, db, pbx):
    from helpdesk.channels.calls import purge_recording_refs
    from helpdesk.scheduler import purge_recordings_job

    def call(days, ref):
        row = Call(call_id=f"r-{days}", started_at=now() - timedelta(days=days), recording_ref=ref)
        db.session.add(row)
        return row

    old, young = call(91, "old.wav"), call(89, "young.wav")
    db.session.commit()
    app.config["CALL_RECORDING_RETENTION_DAYS"] = 30  # below the floor: still 90
    try:
        assert purge_recordings_job() == {"purged": 1}
        db.session.commit()
    finally:
        app.config["CALL_RECORDING_RETENTION_DAYS"] = 90
    db.session.expire_all()
    assert old.recording_ref is None and old.recording_purged_at is not None
    assert young.recording_ref == "young.wav"
    app.config["CALL_RECORDING_RETENTION_DAYS"] = 365
    try:
        assert purge_recording_refs() == 0
    finally:
        app.config["CALL_RECORDING_RETENTION_DAYS"] = 90


# permissions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, status",
    [
        ("anonymous", 401),
        ("customer_user", 403),
        ("agent_x", 403),
        ("supervisor", 403),
        ("admin", 201),
        ("integration", 201),
    ],
)
def test_call_api_permission_matrix(client, db, pbx, who, status):
    from helpdesk.accounts.services import issue_api_token

    headers = {}
    if who != "anonymous":
        headers = bearer(issue_api_token(getattr(pbx, who), "t"))
        db.session.commit()
    r = client.post(f"{API}/calls", json={"call_id": "p-1", "event": "ringing"}, headers=headers)
    assert r.status_code == status
    assert client.get(f"{API}/calls", headers=headers).status_code == 405


@pytest.mark.parametrize(
    "who, pop, act",
    [
        ("anonymous", 302, 302),
        ("customer_user", 403, 403),
        ("agent_y", 200, 403),
        ("supervisor", 200, 403),
        ("admin", 200, 403),
        ("agent_x", 200, 302),
    ],
)
def test_console_call_routes_permission_matrix(client, app, db, pbx, who, pop, act):
    post_call(client, pbx.token, call_id="m-1", event="ringing", caller=PHONE, agent=pbx.agent_x.id)
    call = the_call(db, "m-1")
    login_as(client, app, None if who == "anonymous" else getattr(pbx, who))
    r = client.get("/console/calls/active")
    assert r.status_code == pop
    if pop == 200:
        assert ("Carla Caller" in r.get_data(as_text=True)) == (who == "agent_x")
    token = csrf_from(client, "/login" if who == "anonymous" else "/account")
    r = client.post(
        f"/console/calls/{call.id}/attach",
        data={"csrf_token": token, "protocol": pbx.open_ticket.protocol},
    )
    assert r.status_code == act
    if who != "anonymous":
        assert client.get(f"/console/calls/{call.id}/register").status_code == 405
        r = client.post("/console/calls/999999/register", data={"csrf_token": token})
        assert r.status_code == (403 if who == "customer_user" else 404)


@pytest.mark.csrf
def test_console_call_posts_need_csrf(client, app, db, pbx):
    post_call(client, pbx.token, call_id="m-2", event="ringing", caller=PHONE, agent=pbx.agent_x.id)
    login_as(client, app, pbx.agent_x)
    call = the_call(db, "m-2")
    assert client.post(f"/console/calls/{call.id}/register").status_code == 400
    assert the_call(db, "m-2").ticket_id is None


def test_console_pages_carry_the_pop_container(client, app, db, pbx):
    login_as(client, app, pbx.agent_x)
    html = client.get("/console/phone").get_data(as_text=True)
    assert 'data-call-pop="/console/calls/active"' in html
    assert "<script>" not in html


def test_pop_offers_continue_only_on_workable_demands_and_shrinks_once_linked(
    client, app, db, pbx, make_ticket
):
    elsewhere = make_ticket(customer=pbx.caller, subject="No outro departamento")
    elsewhere.department_id = pbx.dept_y.id
    db.session.commit()
    post_call(client, pbx.token, call_id="w-1", event="ringing", caller=PHONE, agent=pbx.agent_x.id)
    login_as(client, app, pbx.agent_x)
    html = pop_html(client)
    assert elsewhere.protocol in html and html.count("Continue this demand") == 1
    call = the_call(db, "w-1")
    r = client.post(
        f"/console/calls/{call.id}/attach",
        data={"csrf_token": csrf_from(client, "/console/phone"), "protocol": elsewhere.protocol},
    )
    assert r.status_code == 403 and the_call(db, "w-1").ticket_id is None
    client.post(
        f"/console/calls/{call.id}/attach",
        data={
            "csrf_token": csrf_from(client, "/console/phone"),
            "protocol": pbx.open_ticket.protocol,
        },
    )
    html = pop_html(client)
    assert "Linked to demand" in html and "Register a new demand" not in html


def test_calls_sit_in_the_thread_in_time_order(client, db, make_user, make_ticket, auth):
    """A call made between two messages shows between them, not after the whole conversation."""
    from datetime import UTC, datetime, timedelta

    import time_machine

    from helpdesk.channels.calls import link_call, record_call_event
    from helpdesk.tickets.services import add_message

    agent = make_user("agent")
    start = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        ticket = make_ticket()
        add_message(ticket, agent, "Primeira resposta por escrito.")
        db.session.commit()
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        call, _created = record_call_event(
            provider="pbx",
            call_id="order-1",
            event="answered",
            caller="+5511987654321",
            agent=agent,
        )
        link_call(call, ticket, agent)
        db.session.commit()
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        add_message(ticket, agent, "Conforme conversamos por telefone.")
        db.session.commit()
    auth.login(agent)
    html = client.get(f"/console/tickets/{ticket.protocol}").get_data(as_text=True)
    first, phone, second = (
        html.index("Primeira resposta por escrito."),
        html.index(f'id="call-{call.id}"'),
        html.index("Conforme conversamos por telefone."),
    )
    assert first < phone < second
