"""Macros: placeholders filled in the customer's language (the SLA date in their locale), the
sandbox refusing anything else, scopes, and a macro applied through the API that changes the
ticket and emails the filled reply after the commit, counted in its usage."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import test_api_support as support
from tests.test_api_support import API, assert_problem, headers

cast = support.cast
token_for = support.token_for


def _macro(actor, **kw):
    from helpdesk.macros.services import MacroValues, create_macro

    values = MacroValues(name=kw.pop("name", "Segunda via"), scope=kw.pop("scope", "global"), **kw)
    return create_macro(actor, values)


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__ }}",
        "{{ customer.__class__ }}",
        "{{ customer.name|upper }}",
        "{{ config }}",
        "{% for x in range(3) %}x{% endfor %}",
        "{{ customer.first_name() }}",
        "{{ ticket.protocol",
    ],
)
def test_only_known_placeholders_are_accepted(db, make_user, text):
    from helpdesk.core.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        _macro(make_user("admin"), body_pt_br=f"Olá {text}")
    assert err.value.field == "body_pt_br"


def test_placeholders_filled_in_the_customers_language_and_zone(
    app, db, make_user, make_customer, make_ticket
):
    from datetime import UTC, datetime

    import time_machine

    from helpdesk.macros.services import render_macro
    from helpdesk.sla.models import TicketSla
    from helpdesk.tickets.protocol import display

    admin = make_user("admin", name="Paula Andrade")
    customer = make_customer(name="María José Pérez", locale="es")
    ticket = make_ticket(customer=customer, subject="Factura duplicada")
    macro = _macro(
        admin,
        body_pt_br="Olá {{ customer.first_name }}",
        body_es=(
            "Hola {{ customer.first_name }} ({{ customer.name }}): protocolo "
            "{{ ticket.protocol }}, «{{ ticket.subject }}». Plazo: {{ sla.resolution_due }}. "
            "{{ agent.first_name }} / {{ agent.name }}"
        ),
    )
    db.session.query(TicketSla).filter_by(ticket_id=ticket.id).delete()
    db.session.add(
        TicketSla(
            ticket_id=ticket.id,
            target="resolution",
            started_at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
            due_at=datetime(2026, 3, 5, 20, 30, tzinfo=UTC),
            total_seconds=3600,
        )
    )
    db.session.flush()
    with time_machine.travel(datetime(2026, 3, 3, tzinfo=UTC)), app.test_request_context():
        text = render_macro(macro, ticket, admin)
    assert text.startswith("Hola María (María José Pérez): protocolo ")
    assert display(ticket.protocol) in text and "«Factura duplicada»" in text
    # 20:30 UTC is 17:30 in São Paulo (the default zone), written the Spanish way
    assert "Plazo: 5/3/26, 17:30." in text
    assert text.endswith("Paula / Paula Andrade")


def test_language_falls_back_and_missing_sla_is_empty(
    app, db, make_user, make_customer, make_ticket
):
    from helpdesk.macros.services import render_macro
    from helpdesk.sla.models import TicketSla

    admin = make_user("admin")
    ticket = make_ticket(customer=make_customer(name="John Smith", locale="en"))
    db.session.query(TicketSla).filter_by(ticket_id=ticket.id).delete()
    macro = _macro(admin, body_pt_br="Olá {{ customer.first_name }}[{{ sla.resolution_due }}]")
    with app.test_request_context():
        assert render_macro(macro, ticket, admin) == "Olá John[]"


def test_scopes_decide_who_sees_and_manages(db, make_user, make_department):
    from helpdesk.core.errors import NotAllowed
    from helpdesk.macros.permissions import can_manage_macro
    from helpdesk.macros.services import macros_for

    x, y = make_department("X"), make_department("Y")
    admin = make_user("admin")
    sup_x = make_user("supervisor", departments=[x])
    agent_x = make_user("agent", departments=[x])
    agent_y = make_user("agent", departments=[y])
    everyone = _macro(admin, name="Global", body_pt_br="a")
    dept = _macro(sup_x, name="Dept X", scope="department", department_id=x.id, body_pt_br="b")
    mine = _macro(agent_x, name="Mine", scope="personal", body_pt_br="c")
    with pytest.raises(NotAllowed):
        _macro(agent_x, name="Nope", scope="global", body_pt_br="d")
    with pytest.raises(NotAllowed):
        _macro(sup_x, name="Nope", scope="department", department_id=y.id, body_pt_br="d")
    assert {m.name for m in macros_for(agent_x)} == {"Global", "Dept X", "Mine"}
    assert {m.name for m in macros_for(agent_y)} == {"Global"}
    assert can_manage_macro(sup_x, dept) and not can_manage_macro(agent_x, dept)
    assert not can_manage_macro(sup_x, everyone) and not can_manage_macro(agent_y, mine)


# API ----------------------------------------------------------------------------------------------


def test_apply_through_the_api_changes_the_ticket_and_emails_the_reply(client, db, cast, sent_mail):
    from helpdesk.macros.models import Macro
    from helpdesk.tickets.models import TicketEvent

    macro = _macro(
        cast.admin,
        name="Segunda via de boleto",
        body_pt_br="Olá, {{ customer.first_name }}! Segue a segunda via ({{ ticket.protocol }}).",
        actions={"priority": "high", "tags": ["boleto"], "note": "Enviado pelo macro"},
    )
    db.session.commit()
    protocol = cast.ticket_a.protocol
    hdrs = headers(cast, "agent_x")
    listed = client.get(f"{API}/macros", headers=hdrs).get_json()["items"]
    assert [m["name"] for m in listed] == ["Segunda via de boleto"]
    sent_mail.clear()

    response = client.post(f"{API}/tickets/{protocol}/macros/{macro.id}", json={}, headers=hdrs)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["priority"] == "high" and body["tags"] == ["boleto"]
    assert body["status"] == "pending_customer"  # answered: waits for the customer
    replies = [m for m in sent_mail if "ana@example.com" in m["To"]]
    assert len(replies) == 1
    text = replies[0].get_body(("plain",)).get_content()
    assert "Olá, Ana! Segue a segunda via" in text
    db.session.expire_all()
    assert db.session.get(Macro, macro.id).usage_count == 1
    actions = list(
        db.session.scalars(
            sa.select(TicketEvent.action)
            .where(TicketEvent.ticket_id == cast.ticket_a.id)
            .order_by(TicketEvent.id)
        )
    )[-5:]
    assert actions == ["priority", "tagged", "note", "answered", "status"]


def test_apply_with_edited_body(client, db, cast, sent_mail):
    macro = _macro(cast.admin, body_pt_br="Texto original")
    db.session.commit()
    sent_mail.clear()
    response = client.post(
        f"{API}/tickets/{cast.ticket_a.protocol}/macros/{macro.id}",
        json={"body": "Editado para {{ customer.name }}"},
        headers=headers(cast, "agent_x"),
    )
    assert response.status_code == 200
    text = sent_mail[-1].get_body(("plain",)).get_content()
    assert "Editado para Ana" in text and "Texto original" not in text


def test_apply_refusals_are_problems(client, db, cast):
    from helpdesk.tickets.services import change_status

    personal = _macro(cast.agent_y, scope="personal", body_pt_br="Meu")
    closing = _macro(cast.admin, name="Fechar", body_pt_br="Tchau", actions={"status": "closed"})
    db.session.commit()
    protocol = cast.ticket_a.protocol
    hdrs = headers(cast, "agent_x")
    foreign = client.post(f"{API}/tickets/{protocol}/macros/{personal.id}", headers=hdrs)
    assert_problem(foreign, 404, "/problems/macro-not-found")
    unknown = client.post(f"{API}/tickets/{protocol}/macros/99999", headers=hdrs)
    assert_problem(unknown, 404)
    customer = client.post(
        f"{API}/tickets/{protocol}/macros/{closing.id}", headers=headers(cast, "customer_a")
    )
    assert_problem(customer, 403)
    change_status(cast.ticket_a, cast.agent_x, "closed")
    db.session.commit()
    closed = client.post(f"{API}/tickets/{protocol}/macros/{closing.id}", headers=hdrs)
    assert_problem(closed, 409, "/problems/ticket-closed")


def test_macro_crud_and_bad_placeholder(client, db, cast):
    admin = headers(cast, "admin")
    bad = client.post(
        f"{API}/macros",
        json={"name": "Mau", "body_pt_br": "{{ ''.__class__.__mro__ }}"},
        headers=admin,
    )
    body = assert_problem(bad, 400)
    assert "body_pt_br" in body["errors"]
    created = client.post(
        f"{API}/macros",
        json={
            "name": "Pedido de documentos",
            "body_pt_br": "Olá {{ customer.first_name }}, envie o RG.",
            "actions": {"status": "pending_customer", "tags": ["documentos"]},
        },
        headers=admin,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    macro_id = created.get_json()["id"]
    agent = headers(cast, "agent_x")
    assert_problem(
        client.patch(f"{API}/macros/{macro_id}", json={"active": False}, headers=agent), 403
    )
    patched = client.patch(f"{API}/macros/{macro_id}", json={"active": False}, headers=admin)
    assert patched.get_json()["active"] is False
    assert client.get(f"{API}/macros", headers=agent).get_json()["items"] == []
    assert client.delete(f"{API}/macros/{macro_id}", headers=admin).status_code == 204
    supervisor = client.post(
        f"{API}/macros",
        json={
            "name": "Dept",
            "scope": "department",
            "department": "Department X",
            "body_es": "Hola",
        },
        headers=headers(cast, "supervisor"),
    )
    assert supervisor.status_code == 201
