"""Customers at risk and key-account alerts: a second complaint within 30 days or a "not
resolved" verdict flags the customer once and emails the account manager (or the department's
supervisors) once; a key account's complaint alerts its manager; a supervisor clears the flag."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from helpdesk.core.clock import now
from helpdesk.customers.models import Customer, CustomerEvent
from helpdesk.notifications.models import OutboxMessage
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import TicketEvent
from tests.conftest import csrf_from, customer_of

from .test_portal_support import login_as, post, settle_mail


def _mails(db, kind):
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    ).all()


def _events(db, customer, action):
    return db.session.scalars(
        sa.select(CustomerEvent).where(
            CustomerEvent.customer_id == customer.id, CustomerEvent.action == action
        )
    ).all()


def test_second_complaint_in_30_days_flags_once_and_emails_the_manager_once(
    db, make_user, make_customer, make_ticket
):
    manager = make_user("agent", name="Gerente Rita", email="rita@example.com", locale="pt_BR")
    customer = make_customer(name="Loja Azul", key_account_agent_id=manager.id)
    make_ticket(customer=customer, kind="request")
    make_ticket(customer=customer, kind="complaint", subject="Primeira")
    db.session.refresh(customer)
    assert customer.at_risk_since is None
    assert _mails(db, "at_risk") == []

    second = make_ticket(customer=customer, kind="complaint", subject="Segunda")
    db.session.refresh(customer)
    assert customer.at_risk_since is not None
    mails = _mails(db, "at_risk")
    assert len(mails) == 1
    assert mails[0].to_addr.endswith("<rita@example.com>")
    assert "Loja Azul" in mails[0].subject and "risco" in mails[0].subject  # manager's language
    assert f"/console/customers/{customer.id}" in mails[0].body_text
    assert f"/console/tickets/{second.protocol}" in mails[0].body_text
    (event,) = _events(db, customer, "at_risk")
    assert (event.new_value, event.old_value) == ("complaints", str(second.protocol))

    first_flag = customer.at_risk_since
    make_ticket(customer=customer, kind="complaint", subject="Terceira")
    db.session.refresh(customer)
    assert len(_mails(db, "at_risk")) == 1  # not at every complaint
    assert customer.at_risk_since == first_flag
    assert len(_events(db, customer, "at_risk")) == 1


def test_complaints_further_apart_than_30_days_do_not_flag(db, make_customer, make_ticket):
    customer = make_customer()
    with time_machine.travel(now() - timedelta(days=31), tick=False):
        make_ticket(customer=customer, kind="complaint")
    make_ticket(customer=customer, kind="complaint")
    db.session.refresh(customer)
    assert customer.at_risk_since is None


def test_without_a_manager_the_departments_supervisors_are_told(
    app, db, make_user, make_customer, make_ticket, default_department, make_department
):
    app.config["AT_RISK_NOTIFY_EMAILS"] = ["vendas@example.com"]
    boss = make_user("supervisor", email="chefe@example.com")
    other = make_department("Outro")
    make_user("supervisor", email="longe@example.com", departments=[other])
    make_user("agent", email="agente@example.com")
    customer = make_customer()
    make_ticket(customer=customer, kind="complaint")
    make_ticket(customer=customer, kind="complaint")
    mails = _mails(db, "at_risk")
    assert [m.to_addr.split("<")[-1].rstrip(">") for m in mails] == [
        boss.email,
        "vendas@example.com",  # and, when set, sales
    ]
    assert mails[1].body_text.startswith("Hello,")


def test_not_resolved_verdict_flags_the_customer(app, db, client, make_user, make_ticket):
    user = make_user(role="customer")
    supervisor = make_user("supervisor", email="sup@example.com")
    agent = make_user("agent")
    ticket = make_ticket(customer=customer_of(user), kind="request", subject="Fatura")
    tickets.add_message(ticket, agent, "Corrigimos a fatura.")
    db.session.commit()
    settle_mail(app)
    login_as(client, user)
    url = f"/portal/demands/{ticket.protocol}"
    response = post(client, f"{url}/verdict", {"resolved": "no"}, csrf_path=url)
    assert response.status_code == 302
    customer = db.session.get(Customer, customer_of(user).id)
    db.session.refresh(customer)
    assert customer.at_risk_since is not None
    (event,) = _events(db, customer, "at_risk")
    assert event.new_value == "not_resolved"
    mails = _mails(db, "at_risk")
    assert len(mails) == 1 and supervisor.email in mails[0].to_addr
    assert "not resolved" in mails[0].body_text


def test_at_risk_badges_and_a_supervisor_clears_the_flag(
    db, client, auth, make_user, make_customer, make_ticket
):
    agent = make_user("agent")
    supervisor = make_user("supervisor")
    customer = make_customer(name="Cliente Tenso")
    make_ticket(customer=customer, kind="complaint")
    ticket = make_ticket(customer=customer, kind="complaint")

    auth.login(agent)
    page = client.get(f"/console/customers/{customer.id}").get_data(as_text=True)
    assert 'class="badge at-risk"' in page
    assert "Clear the at-risk flag" not in page  # agents cannot
    assert "two complaints within 30 days" in page  # the record's history says why
    ticket_page = client.get(f"/console/tickets/{ticket.protocol}").get_data(as_text=True)
    assert 'class="badge at-risk"' in ticket_page
    token = csrf_from(client, f"/console/customers/{customer.id}")
    denied = client.post(
        f"/console/customers/{customer.id}/at-risk/clear", data={"csrf_token": token}
    )
    assert denied.status_code == 403
    auth.logout()

    auth.login(supervisor)
    url = f"/console/customers/{customer.id}"
    token = csrf_from(client, url)
    response = client.post(f"{url}/at-risk/clear", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).at_risk_since is None
    (cleared,) = _events(db, customer, "at_risk_cleared")
    assert cleared.actor_id == supervisor.id
    page = client.get(url).get_data(as_text=True)
    assert 'class="badge at-risk"' not in page
    assert "cleared the at-risk flag" in page
    # a second clear: nothing to clear, a clear 409
    again = client.post(f"{url}/at-risk/clear", data={"csrf_token": csrf_from(client, url)})
    assert again.status_code == 409

    # after the clearing, only new complaints count: one more is not yet two
    make_ticket(customer=db.session.get(Customer, customer.id), kind="complaint")
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).at_risk_since is None
    make_ticket(customer=db.session.get(Customer, customer.id), kind="complaint")
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).at_risk_since is not None
    assert len(_events(db, customer, "at_risk")) == 2


def test_key_account_complaint_alerts_its_manager_once_per_demand(
    db, make_user, make_customer, make_ticket
):
    manager = make_user("agent", email="gerente@example.com", locale="es")
    key = make_customer(name="Grande Conta", is_key_account=True, key_account_agent_id=manager.id)
    plain = make_customer(name="Conta Comum", key_account_agent_id=manager.id)

    make_ticket(customer=key, kind="request")
    make_ticket(customer=plain, kind="complaint")
    assert _mails(db, "key_account_complaint") == []

    ticket = make_ticket(customer=key, kind="complaint", subject="Cobrança indevida")
    (mail,) = _mails(db, "key_account_complaint")
    assert manager.email in mail.to_addr
    assert "Grande Conta" in mail.subject and "Queja" in mail.subject  # the manager's language
    assert f"/console/tickets/{ticket.protocol}" in mail.body_text
    assert db.session.scalar(
        sa.select(TicketEvent.id).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.action == "key_account_alerted"
        )
    )

    # a call registered as a request and completed as a complaint alerts too, once
    call = make_ticket(customer=key, kind="request", channel="phone", subject="Ligação")
    tickets.update_details(call, manager, kind="complaint", subject="Ligação", description="x")
    tickets.update_details(call, manager, kind="request", subject="Ligação", description="x")
    tickets.update_details(call, manager, kind="complaint", subject="Ligação", description="x")
    db.session.commit()
    assert len(_mails(db, "key_account_complaint")) == 2


@pytest.mark.commits
def test_two_complaints_at_once_flag_and_notify_once(
    app, db, make_user, make_customer, make_ticket
):
    """Two channels register a customer's complaints at the same moment (each in its own
    transaction and connection): one flag, one event, one email."""
    make_user("supervisor", email="chefe@example.com")
    customer = make_customer(name="Cliente Apressado")
    make_ticket(customer=customer, kind="complaint")
    customer_id = customer.id
    db.session.rollback()
    barrier = threading.Barrier(3)
    errors = []

    def register(n):
        try:
            with app.app_context():
                from helpdesk.extensions import db as _db

                barrier.wait(10)
                tickets.register_ticket(
                    actor=None,
                    customer=_db.session.get(Customer, customer_id),
                    channel="web",
                    kind="complaint",
                    subject=f"Ao mesmo tempo {n}",
                )
                _db.session.commit()
                _db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    db.session.expire_all()
    assert db.session.get(Customer, customer_id).at_risk_since is not None
    assert len(_events(db, db.session.get(Customer, customer_id), "at_risk")) == 1
    assert len(_mails(db, "at_risk")) == 1
