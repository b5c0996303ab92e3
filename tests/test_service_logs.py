"""Services log what they did at INFO (who, what, which ticket or investigation), one line per
state change, under their own module's logger, with ids and protocols only: never the customer's
name, email or the texts they wrote."""

from __future__ import annotations

import logging

from helpdesk.investigations import operations
from helpdesk.tickets import services as tickets


def _lines(caplog, logger: str) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == logger and r.levelno == logging.INFO
    ]


def test_ticket_operations_log_who_what_and_which_ticket(
    caplog, db, make_user, make_customer, make_ticket, default_department
):
    agent = make_user("agent", departments=[default_department])
    customer = make_customer(name="Maria Secreta", email="maria.secreta@example.com")
    caplog.set_level(logging.INFO, logger="helpdesk")
    ticket = make_ticket(customer=customer, subject="Cobrança indevida da Maria")
    registered = _lines(caplog, "helpdesk.tickets.services")
    assert any(ticket.protocol in line and "registered via web" in line for line in registered)
    assert any(ticket.protocol in line for line in _lines(caplog, "helpdesk.routing.services"))
    caplog.clear()

    tickets.add_message(ticket, agent, "Olá Maria, estamos verificando.")
    tickets.change_status(ticket, agent, "resolved", outcome="Estorno feito")
    lines = _lines(caplog, "helpdesk.tickets.services")
    assert any(
        ticket.protocol in line and f"by user {agent.id}" in line and "message" in line
        for line in lines
    )
    assert any(
        f"Ticket {ticket.protocol} status pending_customer -> resolved by user {agent.id}" == line
        for line in lines
    )
    sla = _lines(caplog, "helpdesk.sla.clocks")
    assert sla == [] or all(ticket.protocol in line for line in sla)
    everything = " ".join(r.getMessage() for r in caplog.records)
    for private in ("Maria", "maria.secreta", "Cobrança", "verificando", "Estorno"):
        assert private not in everything


def test_investigation_operations_log_the_number_and_the_actor(
    caplog, db, make_user, make_ticket, default_department
):
    supervisor = make_user("supervisor", departments=[default_department])
    ticket = make_ticket()
    caplog.set_level(logging.INFO, logger="helpdesk.investigations")
    inv = operations.open_investigation(by=supervisor, title="Atrasos na região Sul")
    operations.link_ticket(inv, ticket, by=supervisor)
    operations.change_status(inv, supervisor, "analysing")
    lines = _lines(caplog, "helpdesk.investigations.operations")
    assert f"Investigation {inv.number} opened by user {supervisor.id}" in lines
    assert (
        f"Investigation {inv.number}: ticket {ticket.protocol} linked by user {supervisor.id}"
        in lines
    )
    assert f"Investigation {inv.number} status open -> analysing by user {supervisor.id}" in lines
    assert not any("Atrasos" in line for line in lines)
