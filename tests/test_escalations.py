"""The escalation engine: levels fire at the right instants, once, in order; pauses and next
response move the clocks; the sweep is set-based, idempotent, catches up and is safe twice at once.

Times: 2026-03-02 is a Monday; São Paulo is UTC-3 (no DST since 2019). The default policy gives a
first response within one business day (9 h of Mon-Fri 08-12 + 13-18) and a resolution within 7
calendar days."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.escalations import services as esc
from helpdesk.escalations.models import Escalation, Notification
from helpdesk.escalations.sweep import sweep
from helpdesk.notifications.models import OutboxMessage
from helpdesk.sla.business_calendars import create_calendar
from helpdesk.sla.models import TicketSla
from helpdesk.sla.policies import create_policy, ensure_default_policy
from helpdesk.tickets.models import Ticket, TicketEvent

MONDAY_9_LOCAL = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def ombudsman(make_department):
    return make_department("Ouvidoria", is_ombudsman=True)


@pytest.fixture
def ladder(db, default_department, ombudsman):
    """The SAC default policy and three levels: 75 % of the first response, its breach (raise to
    urgent), one hour after the resolution deadline (to the ombudsman)."""
    ensure_default_policy()
    rules = [
        esc.create_rule(
            name="75% da primeira resposta",
            target="first_response",
            trigger="elapsed",
            percent=75,
            level=1,
        ),
        esc.create_rule(
            name="Primeira resposta vencida",
            target="first_response",
            trigger="after_breach",
            offset_minutes=0,
            level=2,
            set_priority=4,
        ),
        esc.create_rule(
            name="Prazo legal vencido",
            target="resolution",
            trigger="after_breach",
            offset_minutes=60,
            level=3,
            to_ombudsman=True,
        ),
    ]
    db.session.commit()
    return rules


@pytest.fixture
def staff(make_user, default_department):
    supervisor = make_user("supervisor", name="Sônia Supervisora")
    agent = make_user("agent", name="Ana Agente")
    return supervisor, agent


def _registered(make_ticket, at=MONDAY_9_LOCAL, **kw):
    with time_machine.travel(at, tick=False):
        return make_ticket(**kw)


def _levels(db, ticket):
    return [
        (e.level, e.trigger, e.reason)
        for e in db.session.scalars(
            sa.select(Escalation).where(Escalation.ticket_id == ticket.id).order_by(Escalation.id)
        )
    ]


def test_levels_fire_at_their_instants_once_each(db, ladder, staff, ombudsman, make_ticket):
    supervisor, agent = staff
    ticket = _registered(make_ticket)
    first = db.session.scalar(
        sa.select(TicketSla).where(
            TicketSla.ticket_id == ticket.id, TicketSla.target == "first_response"
        )
    )
    # due Tue 09:00 local; 75 % of 9 h = 6 h 45 of working time = Mon 16:45 local = 19:45 UTC
    assert first.due_at.replace(tzinfo=UTC) == utc(2026, 3, 3, 12, 0)
    assert first.next_check_at.replace(tzinfo=UTC) == utc(2026, 3, 2, 19, 45)
    assert ticket.sla_due_at.replace(tzinfo=UTC) == utc(2026, 3, 3, 12, 0)

    assert sweep(utc(2026, 3, 2, 19, 44)) == {}
    assert _levels(db, ticket) == []

    result = sweep(utc(2026, 3, 2, 19, 46))
    assert result["escalated"] == 1 and result["level_1"] == 1
    db.session.refresh(ticket)
    assert ticket.escalation_level == 1 and ticket.priority == 2
    assert _levels(db, ticket) == [(1, "sla", "first_response")]
    notified = set(
        db.session.scalars(
            sa.select(Notification.user_id).where(Notification.ticket_id == ticket.id)
        )
    )
    assert supervisor.id in notified
    mail = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "escalation"))
    assert supervisor.email in {m.to_addr.split("<")[-1].rstrip(">") for m in mail}

    assert sweep(utc(2026, 3, 2, 19, 50)) == {}  # idempotent: nothing new

    result = sweep(utc(2026, 3, 3, 12, 1))  # the first-response deadline passed
    assert result["breached"] == 1 and result["level_2"] == 1
    db.session.refresh(ticket)
    assert ticket.escalation_level == 2 and ticket.priority == 4  # raised to urgent
    first = db.session.get(TicketSla, first.id)
    assert first.breached_at.replace(tzinfo=UTC) == utc(2026, 3, 3, 12, 0)

    result = sweep(utc(2026, 3, 9, 13, 1))  # 7 days + 1 hour: the ombudsman
    assert result["level_3"] == 1
    db.session.refresh(ticket)
    assert ticket.escalation_level == 3
    assert ticket.department_id == ombudsman.id and ticket.assignee_id is None
    assert [level for level, *_ in _levels(db, ticket)] == [1, 2, 3]
    breaches = db.session.scalars(
        sa.select(TicketEvent.field).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.action == "sla_breached"
        )
    ).all()
    assert sorted(breaches) == ["first_response", "resolution"]
    assert sweep(utc(2026, 3, 20)) == {}  # nothing left to look at
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(TicketSla)
            .where(TicketSla.ticket_id == ticket.id, TicketSla.next_check_at.is_not(None))
        )
        == 0
    )


def test_catch_up_after_downtime_lands_on_the_right_level_without_replaying(
    db, ladder, staff, make_ticket
):
    ticket = _registered(make_ticket)
    result = sweep(utc(2026, 3, 9, 13, 30))  # the scheduler was down for a week
    assert result["breached"] == 2 and result["escalated"] == 1 and result["level_3"] == 1
    assert _levels(db, ticket) == [(3, "sla", "resolution")]
    assert sweep(utc(2026, 3, 9, 13, 31)) == {}


def test_answer_in_time_meets_the_target_and_nothing_fires(db, ladder, staff, make_ticket):
    from helpdesk.tickets.services import add_message

    supervisor, agent = staff
    ticket = _registered(make_ticket)
    with time_machine.travel(utc(2026, 3, 2, 14, 0), tick=False):
        add_message(ticket, agent, "Olá, estamos verificando.")
        db.session.commit()
    assert sweep(utc(2026, 3, 3, 15, 0)) == {}
    assert _levels(db, ticket) == []


@pytest.mark.commits
def test_two_sweeps_at_once_raise_each_escalation_exactly_once(app, db, ladder, staff, make_ticket):
    tickets = [_registered(make_ticket) for _ in range(12)]
    at = utc(2026, 3, 3, 12, 30)  # first response breached: level 2 for every ticket
    results, errors = [], []

    def run():
        try:
            with app.app_context():
                results.append(sweep(at, batch=5))
                from helpdesk.extensions import db as _db

                _db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(r.get("escalated", 0) for r in results) == len(tickets)
    rows = db.session.execute(
        sa.select(Escalation.ticket_id, sa.func.count()).group_by(Escalation.ticket_id)
    ).all()
    assert sorted(rows) == sorted((t.id, 1) for t in tickets)
    events = db.session.scalar(sa.select(sa.func.count()).where(TicketEvent.action == "escalated"))
    breaches = db.session.scalar(
        sa.select(sa.func.count()).where(TicketEvent.action == "sla_breached")
    )
    assert events == len(tickets) and breaches == len(tickets)


def test_sweep_statements_do_not_grow_with_due_tickets(
    db, default_department, staff, make_ticket, count_queries
):
    ensure_default_policy()
    esc.create_rule(
        name="Vencida",
        target="first_response",
        trigger="after_breach",
        level=1,
        notify_assignee=False,
    )
    db.session.commit()

    def measure(n, at):
        for _ in range(n):
            _registered(make_ticket, at=at - timedelta(days=2))
        with count_queries() as q:
            result = sweep(at)
        assert result["escalated"] == n
        return q.count

    small = measure(2, utc(2026, 3, 10, 12))
    large = measure(9, utc(2026, 3, 20, 12))
    assert large == small
    # one digest email per recipient and sweep, however many tickets it escalated
    mails = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "escalation"))
    assert sorted(m.body_text.count("\n- ") for m in mails) == [2, 9]


def test_sweep_reads_due_rows_by_the_partial_index(db):
    from helpdesk.escalations.sweep import _DUE_COLUMNS

    query = (
        sa.select(*_DUE_COLUMNS)
        .join(Ticket, Ticket.id == TicketSla.ticket_id)
        .where(TicketSla.next_check_at.is_not(None), TicketSla.next_check_at <= utc(2026, 1, 1))
        .order_by(TicketSla.next_check_at, TicketSla.id)
        .limit(1000)
    )
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "postgresql":
        # On a test database PostgreSQL plans the join by whatever statistics autovacuum left
        # from earlier tests (a few hundred rows, all due: then a nested loop over the tickets
        # is cheaper, and CI saw it). What must hold at any size is that the due rows can be
        # read, in the sweep's filter, through the partial index and no other: ask that of the
        # table the index is on, with full scans priced out.
        query = (
            sa.select(TicketSla.id)
            .where(TicketSla.next_check_at.is_not(None), TicketSla.next_check_at <= utc(2026, 1, 1))
            .order_by(TicketSla.next_check_at, TicketSla.id)
            .limit(1000)
        )
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        db.session.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
        plan = "\n".join(db.session.scalars(sa.text(f"EXPLAIN {compiled}")))
    else:
        plan = "\n".join(
            str(row[-1]) for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
    assert "ix_ticket_slas_next_check" in plan


def test_rule_change_asks_the_sweep_to_look_again(db, default_department, staff, make_ticket):
    ensure_default_policy()
    db.session.commit()
    ticket = _registered(make_ticket)
    assert sweep(utc(2026, 3, 2, 20, 0)) == {}  # no rules: nothing at 75 %
    with time_machine.travel(utc(2026, 3, 2, 20, 0), tick=False):
        esc.create_rule(
            name="Metade", target="first_response", trigger="elapsed", percent=50, level=1
        )
        db.session.commit()
    assert sweep(utc(2026, 3, 2, 20, 1))["level_1"] == 1
    assert _levels(db, ticket) == [(1, "sla", "first_response")]


# pauses and next response ----------------------------------------------------------------------


@pytest.fixture
def internal_policy(db, default_department):
    calendar = create_calendar(
        name="Comercial",
        timezone="America/Sao_Paulo",
        intervals=[(d, s, e) for d in range(5) for s, e in ((_t(8), _t(12)), (_t(13), _t(18)))],
    )
    policy = create_policy(
        name="Interno",
        position=1,
        first_response_minutes=240,
        first_response_calendar_id=calendar.id,
        next_response_minutes=60,
        next_response_calendar_id=calendar.id,
        resolution_minutes=16 * 60,
        resolution_calendar_id=calendar.id,
        pause_statuses=["pending_customer"],
        resolution_is_legal=False,
    )
    db.session.commit()
    return policy


def _t(hour):
    from datetime import time

    return time(hour)


def _row(db, ticket, target):
    return db.session.scalar(
        sa.select(TicketSla).where(TicketSla.ticket_id == ticket.id, TicketSla.target == target)
    )


def test_pending_customer_pauses_and_resuming_moves_the_due_instant(
    db, internal_policy, staff, make_ticket
):
    from helpdesk.sla.clocks import sla_state
    from helpdesk.tickets.services import add_message

    supervisor, agent = staff
    ticket = _registered(make_ticket)  # Mon 09:00 local
    # 16 working hours from Mon 09:00 local: Tue 17:00 local
    assert _row(db, ticket, "resolution").due_at.replace(tzinfo=UTC) == utc(2026, 3, 3, 20, 0)
    with time_machine.travel(utc(2026, 3, 2, 13, 0), tick=False):  # Mon 10:00 local
        add_message(ticket, agent, "Pode nos enviar a nota fiscal?")  # -> pending customer
        db.session.commit()
    resolution = _row(db, ticket, "resolution")
    assert ticket.status == "pending_customer" and resolution.paused_at is not None
    assert sla_state(resolution, utc(2026, 3, 4)) == "paused"  # never breached while paused
    assert sweep(utc(2026, 3, 4)) == {}
    assert ticket.sla_due_at is None  # nothing running: the queue shows no clock
    with time_machine.travel(utc(2026, 3, 3, 13, 0), tick=False):  # Tue 10:00 local
        add_message(ticket, None, "Segue a nota.")  # the customer answers -> open
        db.session.commit()
    resolution = _row(db, ticket, "resolution")
    # paused Mon 10-12, 13-18 and Tue 08-10: 9 working hours; due moves to Wed 17:00 local
    assert resolution.paused_at is None
    assert resolution.due_at.replace(tzinfo=UTC) == utc(2026, 3, 4, 20, 0)
    # the customer's message started the next-response clock: 1 working hour, Tue 11:00 local
    nxt = _row(db, ticket, "next_response")
    assert nxt.due_at.replace(tzinfo=UTC) == utc(2026, 3, 3, 14, 0) and nxt.met_at is None
    assert ticket.sla_due_at.replace(tzinfo=UTC) == utc(2026, 3, 3, 14, 0)
    with time_machine.travel(utc(2026, 3, 3, 13, 30), tick=False):
        add_message(ticket, agent, "Recebido, obrigado.", new_status="open")
        db.session.commit()
    assert _row(db, ticket, "next_response").met_at is not None
    actions = db.session.execute(
        sa.select(TicketEvent.action, TicketEvent.field)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action.like("sla_%"))
        .order_by(TicketEvent.id)
    ).all()
    assert ("sla_paused", "resolution") in actions
    assert ("sla_resumed", "resolution") in actions
    assert ("sla_started", "next_response") in actions
    assert ("sla_met", "next_response") in actions


def test_a_legal_deadline_never_pauses(db, default_department, staff, make_ticket):
    from helpdesk.tickets.services import add_message

    ensure_default_policy()
    db.session.commit()
    supervisor, agent = staff
    ticket = _registered(make_ticket)
    with time_machine.travel(utc(2026, 3, 2, 13, 0), tick=False):
        add_message(ticket, agent, "Aguardamos seu retorno.")
        db.session.commit()
    assert ticket.status == "pending_customer"
    resolution = _row(db, ticket, "resolution")
    assert resolution.paused_at is None and resolution.pausable is False
    assert resolution.due_at.replace(tzinfo=UTC) == utc(2026, 3, 9, 12, 0)
    assert ticket.sla_due_at.replace(tzinfo=UTC) == utc(2026, 3, 9, 12, 0)


# by hand ------------------------------------------------------------------------------------------


def test_agent_escalates_one_level_up_with_a_reason(db, ladder, staff, make_ticket, make_user):
    from helpdesk.core.errors import Conflict, NotAllowed, ValidationError

    supervisor, agent = staff
    ticket = _registered(make_ticket)
    with pytest.raises(ValidationError) as exc:
        esc.escalate_by_agent(ticket, agent, reason="bored", note="x")
    assert exc.value.field == "reason"
    with pytest.raises(ValidationError) as exc:
        esc.escalate_by_agent(ticket, agent, reason="legal_threat", note="  ")
    assert exc.value.field == "note"
    outsider = make_user("agent", departments=[esc.ombudsman_department()])
    with pytest.raises(NotAllowed):
        esc.escalate_by_agent(ticket, outsider, reason="legal_threat", note="Procon")
    escalation = esc.escalate_by_agent(
        ticket, agent, reason="legal_threat", note="Cliente citou o Procon."
    )
    db.session.commit()
    assert (escalation.level, escalation.trigger, escalation.raised_by_id) == (1, "agent", agent.id)
    assert ticket.escalation_level == 1
    assert escalation.ack_due_at > escalation.raised_at
    assert supervisor.id in set(
        db.session.scalars(
            sa.select(Notification.user_id).where(Notification.ticket_id == ticket.id)
        )
    )
    with pytest.raises(ValidationError):
        esc.escalate_by_agent(ticket, agent, reason="other", note="again", level=1)
    esc.escalate_by_agent(ticket, agent, reason="other", note="Sem solução.", level=3)
    # the ticket went to the ombudsman's department: its agents work it now, one level is the top
    with pytest.raises(NotAllowed):
        esc.escalate_by_agent(ticket, agent, reason="other", note="mais")
    with pytest.raises(Conflict):
        esc.escalate_by_agent(ticket, outsider, reason="other", note="mais")
    # a deadline level below the ticket's level does not fire
    assert sweep(utc(2026, 3, 3, 13, 0)).get("escalated", 0) == 0


def test_customer_escalates_after_the_deadline_only(db, ladder, staff, ombudsman, make_ticket):
    from helpdesk.core.errors import Conflict

    ticket = _registered(make_ticket)
    with time_machine.travel(utc(2026, 3, 5), tick=False):
        assert not esc.customer_can_escalate(ticket)
        with pytest.raises(Conflict):
            esc.escalate_by_customer(ticket, None, reason="deadline_passed")
    with time_machine.travel(utc(2026, 3, 9, 12, 30), tick=False):
        assert esc.customer_can_escalate(ticket)
        escalation = esc.escalate_by_customer(ticket, None, reason="deadline_passed", note="!")
        db.session.commit()
    assert (escalation.level, escalation.trigger) == (3, "customer")
    assert ticket.department_id == ombudsman.id
    assert not esc.customer_can_escalate(ticket)


def test_supervisor_acknowledges_and_decides(
    db, ladder, staff, make_ticket, make_user, make_department
):
    from helpdesk.core.errors import Conflict, NotAllowed, ValidationError

    supervisor, agent = staff
    other = make_user("supervisor", departments=[make_department("Financeiro")])
    ticket = _registered(make_ticket)
    escalation = esc.escalate_by_agent(ticket, agent, reason="complex_case", note="Ajuda")
    db.session.commit()
    for who in (agent, other):
        with pytest.raises(NotAllowed):
            esc.acknowledge(escalation, who)
    esc.acknowledge(escalation, supervisor)
    with pytest.raises(Conflict):
        esc.acknowledge(escalation, supervisor)
    assert escalation.state == "acknowledged"
    with pytest.raises(ValidationError) as exc:
        esc.decide(escalation, supervisor, decision="de_escalate", note="")
    assert exc.value.field == "note"
    esc.decide(escalation, supervisor, decision="de_escalate", note="Resolvido com o agente.")
    db.session.commit()
    assert escalation.state == "closed" and escalation.decision == "de_escalate"
    assert ticket.escalation_level == 0
    with pytest.raises(Conflict):
        esc.decide(escalation, supervisor, decision="instruct", note="x")


def test_investigate_opens_an_investigation_or_links_to_one(db, ladder, staff, make_ticket):
    from helpdesk.investigations.queries import link_of

    supervisor, agent = staff
    first, second = _registered(make_ticket), _registered(make_ticket)
    one = esc.escalate_by_agent(first, agent, reason="repeated_contact", note="De novo")
    esc.decide(one, supervisor, decision="investigate", note="Cobrança duplicada recorrente")
    db.session.commit()
    opened = link_of(first).investigation
    assert opened.title == "Cobrança duplicada recorrente" and one.decision == "investigate"
    two = esc.escalate_by_agent(second, agent, reason="repeated_contact", note="Mesma coisa")
    esc.decide(two, supervisor, decision="investigate", investigation=opened)
    db.session.commit()
    assert link_of(second).investigation_id == opened.id


def test_instruct_leaves_an_internal_note_and_change_priority_recomputes(
    db, ladder, staff, make_ticket
):
    from helpdesk.tickets.models import Message

    supervisor, agent = staff
    ticket = _registered(make_ticket)
    first = esc.escalate_by_agent(ticket, agent, reason="complex_case", note="Ajuda")
    esc.decide(first, supervisor, decision="instruct", note="Ofereça a troca do produto.")
    second = esc.escalate_by_agent(ticket, agent, reason="needs_authority", note="Alçada")
    esc.decide(second, supervisor, decision="change_priority", priority=3)
    db.session.commit()
    note = db.session.scalar(sa.select(Message).where(Message.ticket_id == ticket.id))
    assert note.is_internal and "troca" in note.body
    assert ticket.priority == 3


def test_escalate_command_prints_what_it_did(app, db, ladder, staff, make_ticket):
    _registered(make_ticket, at=datetime.now(UTC) - timedelta(days=10))
    result = app.test_cli_runner().invoke(args=["escalate"])
    assert result.exit_code == 0, result.output
    assert "2 breached, 1 escalated" in result.output and "level 3: 1" in result.output
    again = app.test_cli_runner().invoke(args=["escalate"])
    assert "Nothing due." in again.output


def test_scheduler_keeps_its_jobs_in_memory(app, db):
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from helpdesk import scheduler as module

    sched = module.build_scheduler(app, cls=BackgroundScheduler)
    sched.start(paused=True)
    try:
        assert isinstance(sched._lookup_jobstore("default"), MemoryJobStore)
        jobs = {job.id: job for job in sched.get_jobs()}
        assert set(jobs) == set(module.JOBS)
        assert jobs["escalation_sweep"].trigger.interval == timedelta(seconds=60)
        assert jobs["overdue_actions"].trigger.interval == timedelta(minutes=30)
        # each job runs as soon as the scheduler starts (a restart never delays a daily job)
        due = datetime.now(UTC) + timedelta(seconds=5)
        assert all(job.next_run_time <= due for job in jobs.values())
    finally:
        sched.shutdown(wait=False)
    assert module.run_job("escalation_sweep") is None  # runs in the app, nothing due


def test_sla_init_creates_the_defaults_once(app, db):
    from helpdesk.escalations.models import EscalationRule
    from helpdesk.sla.models import SlaPolicy

    runner = app.test_cli_runner()
    first = runner.invoke(args=["sla", "init"])
    assert first.exit_code == 0 and "Escalation rules created: 3" in first.output
    again = runner.invoke(args=["sla", "init"])
    assert "kept as they are" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaPolicy)) == 1
    levels = db.session.scalars(sa.select(EscalationRule.level).order_by(EscalationRule.position))
    assert list(levels) == [1, 2, 3]


def test_escalations_are_webhook_events(app, db, ladder, staff, make_ticket):
    from helpdesk.webhooks.models import WebhookDelivery
    from helpdesk.webhooks.services import create_subscription

    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.1"]
    create_subscription(None, url="http://127.0.0.1:9/hook", events=["ticket.escalated"])
    db.session.commit()
    supervisor, agent = staff
    by_hand = _registered(make_ticket)
    by_sweep = _registered(make_ticket)
    esc.escalate_by_agent(by_hand, agent, reason="key_account", note="Conta estratégica")
    db.session.commit()
    sweep(utc(2026, 3, 3, 12, 30))  # the other one's first response is overdue: level 2
    bodies: dict[int, list[str]] = {}
    for delivery in db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)):
        bodies.setdefault(delivery.ticket_id, []).append(delivery.body)
    # by hand to level 1, then the deadline rule's level 2; the other ticket straight to level 2
    assert [('"trigger":"agent"' in b, '"level":1' in b) for b in bodies[by_hand.id]] == [
        (True, True),
        (False, False),
    ]
    assert len(bodies[by_sweep.id]) == 1 and '"trigger":"sla"' in bodies[by_sweep.id][0]


def _scheduler_process(env: dict, log_path):
    import subprocess
    import sys

    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "helpdesk.scheduler"], env=env, stdout=log, stderr=log
        )


@contextmanager
def _jobs_wait_at_the_tables(database_url: str):
    """Hold the tables the outbox and the sweep work on while the schedulers start: each one's
    first pass waits at the lock, and both passes go at once when it is released (a start line
    for the race). PostgreSQL: ACCESS EXCLUSIVE (even reads wait); SQLite: the write lock."""
    if database_url.startswith("postgresql"):
        engine = sa.create_engine(database_url)
        try:
            with engine.connect() as conn, conn.begin() as transaction:
                conn.execute(
                    sa.text(
                        "LOCK TABLE outbox_messages, ticket_slas, escalations"
                        " IN ACCESS EXCLUSIVE MODE"
                    )
                )
                yield
                transaction.rollback()
        finally:
            engine.dispose()
    else:
        import sqlite3

        conn = sqlite3.connect(sa.engine.make_url(database_url).database, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.execute("ROLLBACK")
        finally:
            conn.close()


def _stop(processes, timeout=10):
    """SIGTERM (the scheduler shuts down at once), then wait; kill what did not stop."""
    import subprocess

    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in processes:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.commits
def test_two_scheduler_processes_do_each_jobs_work_once(
    app, db, database_url, ladder, staff, make_ticket, smtp_server, tmp_path
):
    """Two `python -m helpdesk.scheduler` at once on one database (the test's: PostgreSQL or a
    SQLite file), their first passes started together: the due escalation is raised once and
    every queued email is sent once. They are stopped as soon as the work is seen done (and one
    more pass of both has run)."""
    import os
    import time
    from email import message_from_bytes

    from tests.mailservers import free_port

    ticket = _registered(make_ticket, at=datetime.now(UTC) - timedelta(days=10))
    db.session.commit()  # the acknowledgement waits in the outbox, the escalation is due
    queued = set(db.session.scalars(sa.select(OutboxMessage.message_id)))
    assert queued and not db.session.scalar(sa.select(sa.func.count()).select_from(Escalation))
    db.session.rollback()  # end the test's read transaction: it would hold the lock up

    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(
        HELPDESK_ENV="development",
        HELPDESK_DATABASE_URL=database_url,
        HELPDESK_INSTANCE_PATH=str(tmp_path),
        HELPDESK_MAIL_TRANSPORT="smtp",
        HELPDESK_SMTP_HOST="127.0.0.1",
        HELPDESK_SMTP_PORT=str(app.config["SMTP_PORT"]),
        HELPDESK_SCHEDULER_OUTBOX_SECONDS="1",  # the emails the escalation queues leave soon
        HELPDESK_SCHEDULER_SWEEP_SECONDS="1",
        HELPDESK_PORT=str(free_port()),
    )
    logs = [tmp_path / "scheduler-1.log", tmp_path / "scheduler-2.log"]
    processes = []

    def done() -> bool:
        db.session.rollback()  # a fresh snapshot
        statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
        escalated = db.session.scalar(sa.select(sa.func.count()).select_from(Escalation))
        return escalated > 0 and all(status == "sent" for status in statuses)

    try:
        deadline = time.monotonic() + 60
        with _jobs_wait_at_the_tables(database_url):
            processes += [_scheduler_process(env, path) for path in logs]
            while not all("scheduler started" in path.read_text() for path in logs):
                assert time.monotonic() < deadline, [p.read_text() for p in logs]
                assert all(p.poll() is None for p in processes), [p.read_text() for p in logs]
                time.sleep(0.05)
            time.sleep(0.5)  # both first passes are now waiting at the lock
        while not done():
            assert time.monotonic() < deadline, [p.read_text() for p in logs]
            assert all(p.poll() is None for p in processes), [p.read_text() for p in logs]
            time.sleep(0.1)
        time.sleep(1.5)  # one more pass of both: nothing is left for the second one to do again
    finally:
        _stop(processes)
    texts = [path.read_text() for path in logs]
    for text in texts:
        assert "scheduler started with jobs" in text, text
        assert "Traceback" not in text and "raised an exception" not in text, text

    assert [(level, trigger) for level, trigger, _ in _levels(db, ticket)] == [(3, "sla")]
    rows = db.session.scalars(sa.select(OutboxMessage)).all()
    assert {row.message_id for row in rows} >= queued
    received = [message_from_bytes(raw)["Message-ID"] for _, raw in smtp_server.messages]
    assert sorted(received) == sorted(row.message_id for row in rows)  # each exactly once
    assert all(row.status == "sent" and row.attempts == 1 for row in rows)
