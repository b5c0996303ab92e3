"""Investigation rules: status machine, closing checks, recurrence, notices, suggestions, CAPA job."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from helpdesk.core.clock import now
from helpdesk.core.errors import Conflict, NotAllowed, ValidationError
from helpdesk.investigations import capa, operations, queries, whys
from helpdesk.investigations.capa import add_action, complete_action, notify_overdue_actions
from helpdesk.investigations.dates import today
from helpdesk.investigations.models import InvestigationEvent, NoticeDelivery
from helpdesk.investigations.notices import notify_customers
from helpdesk.investigations.operations import (
    CloseRefused,
    TransitionRefused,
    change_status,
    link_ticket,
    open_investigation,
    unlink_ticket,
    update_investigation,
)
from helpdesk.investigations.suggestions import suggestions_for
from helpdesk.tickets.models import Message, TicketEvent


@pytest.fixture
def supervisor(make_user):
    return make_user(role="supervisor")


@pytest.fixture
def agent(make_user):
    return make_user(role="agent")


def ready_to_verify(inv, by, owner):
    update_investigation(inv, by, root_cause="Courier skips the building", ishikawa="method")
    change_status(inv, by, "analysing")
    change_status(inv, by, "acting")
    action = add_action(
        inv, by, description="New route", owner=owner, due_on=today() + timedelta(days=3)
    )
    update_investigation(
        inv, by, metric="Delivery complaints per week", baseline="12", target="2",
        check_on=today() + timedelta(days=30),
    )  # fmt: skip
    change_status(inv, by, "verifying")
    return action


def test_status_machine_follows_the_steps(db, supervisor):
    inv = open_investigation(by=supervisor, title="Late deliveries")
    assert inv.number == f"INV-{inv.id:05d}" and inv.status == "open"
    assert inv.owner_id == supervisor.id
    with pytest.raises(ValidationError):
        change_status(inv, supervisor, "verifying")  # skipping steps
    change_status(inv, supervisor, "analysing")
    with pytest.raises(TransitionRefused) as refused:
        change_status(inv, supervisor, "acting")  # no root cause yet
    assert set(refused.value.errors) == {"root_cause", "ishikawa"}
    with pytest.raises(ValidationError):
        change_status(inv, supervisor, "cancelled")  # a reason is required
    change_status(inv, supervisor, "cancelled", reason="Duplicate of another one")
    assert inv.status == "cancelled" and inv.cancel_reason == "Duplicate of another one"
    actions = [e.action for e in inv.events]
    assert actions.count("status") == 2 and actions[0] == "created"


def test_close_refused_while_an_action_is_open(db, supervisor, agent):
    inv = open_investigation(by=supervisor, title="Late deliveries")
    action = ready_to_verify(inv, supervisor, agent)
    update_investigation(inv, supervisor, result="1 complaint per week", verdict="effective")
    with pytest.raises(CloseRefused) as refused:
        change_status(inv, supervisor, "closed")
    assert "actions" in refused.value.errors
    assert "still open" in str(refused.value)
    complete_action(action, agent, "Route changed on 3 May, see log")
    change_status(inv, supervisor, "closed")
    assert inv.status == "closed" and inv.closed_at is not None


@pytest.mark.parametrize("result", ["", "N/A", "n/a", "-", "—", "  ", "TBD", "...", "ok"])
def test_close_refused_without_a_real_result(db, supervisor, agent, result):
    inv = open_investigation(by=supervisor, title="Late deliveries")
    action = ready_to_verify(inv, supervisor, agent)
    complete_action(action, agent, "done, see evidence")
    update_investigation(inv, supervisor, result=result, verdict="effective")
    with pytest.raises(CloseRefused) as refused:
        change_status(inv, supervisor, "closed")
    assert set(refused.value.errors) == {"result"}
    assert inv.status == "verifying"


def test_close_refused_when_not_effective(db, supervisor, agent):
    inv = open_investigation(by=supervisor, title="Late deliveries")
    action = ready_to_verify(inv, supervisor, agent)
    complete_action(action, agent, "done")
    update_investigation(inv, supervisor, result="11 per week", verdict="not_effective")
    with pytest.raises(CloseRefused) as refused:
        change_status(inv, supervisor, "closed")
    assert set(refused.value.errors) == {"verdict"}
    change_status(inv, supervisor, "acting")  # back to work


def test_agents_propose_and_cannot_manage(db, supervisor, agent):
    inv = open_investigation(by=supervisor, title="Late deliveries")
    with pytest.raises(NotAllowed):
        open_investigation(by=agent, title="Mine")
    with pytest.raises(NotAllowed):
        change_status(inv, agent, "analysing")
    with pytest.raises(NotAllowed):
        update_investigation(inv, agent, title="x")
    proposal = add_action(inv, agent, description="Call the courier")
    assert proposal.status == "proposed"
    why = whys.add_why(inv, agent, "Because the address is incomplete")
    assert why.accepted is False
    whys.accept_why(inv, supervisor, why.id)
    assert why.accepted is True
    with pytest.raises(ValidationError):
        capa.accept_action(proposal, supervisor)  # needs an owner and a due date
    capa.accept_action(proposal, supervisor, owner=agent, due_on=today())
    assert proposal.status == "open"


def test_recurrence_is_a_ticket_linked_after_close_and_reopen(db, supervisor, agent, make_ticket):
    first, second, third = make_ticket(), make_ticket(), make_ticket()
    inv = open_investigation(by=supervisor, title="Late deliveries", from_ticket=first)
    link_ticket(inv, second, by=agent)
    action = ready_to_verify(inv, supervisor, agent)
    complete_action(action, agent, "done")
    update_investigation(inv, supervisor, result="0 per week", verdict="effective")
    change_status(inv, supervisor, "closed")
    link_ticket(inv, third, by=agent)
    db.session.commit()
    assert queries.recurrence_count(inv) == 1
    assert [link.is_recurrence for link in inv.links] == [False, False, True]
    events = db.session.scalars(
        sa.select(TicketEvent.action).where(TicketEvent.ticket_id == third.id)
    ).all()
    assert "investigation_linked" in events
    with pytest.raises(ValidationError):
        operations.reopen_investigation(inv, supervisor, "")
    operations.reopen_investigation(inv, supervisor, "It came back")
    assert inv.status == "analysing" and inv.reopened_count == 1 and inv.verdict is None


def test_a_ticket_belongs_to_one_investigation_at_a_time(db, supervisor, make_ticket):
    ticket = make_ticket()
    a = open_investigation(by=supervisor, title="A", from_ticket=ticket)
    b = open_investigation(by=supervisor, title="B")
    assert link_ticket(a, ticket, by=supervisor) is a.links[0]  # linking twice is harmless
    with pytest.raises(Conflict):
        link_ticket(b, ticket, by=supervisor)
    unlink_ticket(a, ticket, by=supervisor)
    link_ticket(b, ticket, by=supervisor)
    assert [link.investigation_id for link in b.links] == [b.id] and not a.links


def test_agent_links_only_tickets_they_can_work(db, supervisor, make_user, make_department):
    other = make_department("Finance")
    outsider = make_user(role="agent", departments=[other])
    inv = open_investigation(by=supervisor, title="A")
    from helpdesk.tickets.services import register_ticket

    customer = __import__("helpdesk.customers.services", fromlist=["x"]).create_customer(
        name="Ana", email="ana@example.com"
    )
    ticket = register_ticket(
        actor=None, customer=customer, channel="web", kind="complaint", subject="Late"
    )
    with pytest.raises(NotAllowed):
        link_ticket(inv, ticket, by=outsider)


def test_notice_one_message_per_customer_in_their_language_no_duplicates(
    db, supervisor, make_customer, make_ticket, sent_mail
):
    from helpdesk.core.unit import commit

    customers = {
        "pt_BR": make_customer(name="Paulo", locale="pt_BR"),
        "es": make_customer(name="Elena", locale="es"),
        "en": make_customer(name="Emma", locale="en"),
    }
    tickets = {lang: make_ticket(customer=c) for lang, c in customers.items()}
    inv = open_investigation(
        by=supervisor, title="Late deliveries", tickets_to_link=list(tickets.values())
    )
    commit()
    templates = {
        "pt_BR": "Olá {name}, corrigimos o problema ({protocol}).",
        "es": "Hola {name}, corregimos el problema ({protocol}).",
        "en": "Hello {name}, we fixed it ({protocol}).",
    }
    with pytest.raises(ValidationError) as missing:
        notify_customers(inv, supervisor, templates={"pt_BR": templates["pt_BR"]})
    assert missing.value.field in ("notice_es", "notice_en")
    db.session.rollback()
    sent_mail.clear()
    counts = notify_customers(inv, supervisor, templates=templates, resolve=True)
    commit()
    assert counts == {"sent": 3, "skipped": 0, "already": 0}
    for lang, ticket in tickets.items():
        bodies = db.session.scalars(
            sa.select(Message.body).where(Message.ticket_id == ticket.id)
        ).all()
        expected = templates[lang].format(name=customers[lang].name, protocol=ticket.protocol)
        assert bodies == [expected]
        assert ticket.status == "resolved"
    assert len(sent_mail) == 3
    # a retry (double submit, or the same texts again) tells nobody twice
    again = notify_customers(inv, supervisor, templates=templates, resolve=True)
    commit()
    assert again == {"sent": 0, "skipped": 0, "already": 3}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NoticeDelivery)) == 3
    assert len(sent_mail) == 3
    history = db.session.scalars(
        sa.select(TicketEvent.action).where(TicketEvent.ticket_id == tickets["es"].id)
    ).all()
    assert "investigation_notice" in history


def test_notice_skips_closed_tickets_and_needs_links(db, supervisor, make_ticket):
    inv = open_investigation(by=supervisor, title="Nothing linked")
    with pytest.raises(ValidationError):
        notify_customers(inv, supervisor, templates={"en": "x", "es": "x", "pt_BR": "x"})
    ticket = make_ticket()
    from helpdesk.tickets.services import change_status as ticket_status

    ticket_status(ticket, supervisor, "closed")
    link_ticket(inv, ticket, by=supervisor)
    counts = notify_customers(inv, supervisor, templates={"en": "x", "es": "x", "pt_BR": "x"})
    assert counts["skipped"] == 1 and counts["sent"] == 0


def test_suggestions_by_category_and_keywords(db, supervisor, make_ticket):
    from helpdesk.tickets.categories import create_category

    delivery = create_category(name="Delivery", kinds=["complaint"])
    billing = create_category(name="Billing", kinds=["complaint"])
    late = open_investigation(
        by=supervisor, title="Late", category=delivery.id, keywords="atraso, entrega atrasada"
    )
    charge = open_investigation(
        by=supervisor, title="Double charge", category=billing.id, keywords="cobrança dupla"
    )
    uncategorised = open_investigation(by=supervisor, title="Any billing", category=billing.id)
    cancelled = open_investigation(by=supervisor, title="Old", keywords="atraso")
    change_status(cancelled, supervisor, "cancelled", reason="dup")
    ticket = make_ticket(
        subject="Entrega ATRASADA de novo", description="Houve atraso", category_id=delivery.id
    )
    found = suggestions_for(ticket)
    assert [inv for inv, _ in found] == [late]
    assert set(found[0][1]) == {"atraso", "entrega atrasada"}
    bill = make_ticket(subject="Cobranca dupla no cartão", category_id=billing.id)
    assert [inv for inv, _ in suggestions_for(bill)] == [charge, uncategorised]
    nothing = make_ticket(subject="Elogio")
    assert suggestions_for(nothing) == []


def test_overdue_actions_are_notified_once(db, supervisor, agent, sent_mail, time_machine):
    from helpdesk.core.unit import commit

    inv = open_investigation(by=supervisor, title="Late deliveries")
    overdue = add_action(
        inv, supervisor, description="Fix the route", owner=agent, due_on=today() - timedelta(1)
    )
    add_action(inv, supervisor, description="Later", owner=agent, due_on=today() + timedelta(5))
    commit()
    sent_mail.clear()
    assert notify_overdue_actions() == 1
    commit()
    assert notify_overdue_actions() == 0  # idempotent: once per action
    commit()
    assert len(sent_mail) == 1
    assert agent.email in str(sent_mail[0]["To"]) and inv.number in str(sent_mail[0]["Subject"])
    assert overdue.overdue_notified_at is not None
    events = db.session.scalars(
        sa.select(InvestigationEvent.action).where(InvestigationEvent.investigation_id == inv.id)
    ).all()
    assert events.count("action_overdue_notified") == 1
    # a week later the other one is overdue too, and only it is notified
    time_machine.move_to(now() + timedelta(days=7))
    assert notify_overdue_actions() == 1


def test_open_investigation_for_escalation_hook(db, make_ticket):
    """The SLA escalation calls these with by=None (the system)."""
    ticket = make_ticket()
    inv = open_investigation(by=None, title="Escalated", from_ticket=ticket)
    assert inv.links[0].ticket_id == ticket.id and inv.owner_id is None
    assert inv.department_id == ticket.department_id


def test_cli_notify_overdue(app, db, supervisor, agent):
    inv = open_investigation(by=supervisor, title="Late deliveries")
    add_action(inv, supervisor, description="Fix", owner=agent, due_on=today() - timedelta(1))
    db.session.commit()
    runner = app.test_cli_runner()
    assert (
        "1 overdue action(s) notified"
        in runner.invoke(args=["investigations", "notify-overdue"]).output
    )
    assert (
        "0 overdue action(s) notified"
        in runner.invoke(args=["investigations", "notify-overdue"]).output
    )
