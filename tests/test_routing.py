"""Routing: first matching rule wins, decisions recorded, fewest-open assignment, key accounts."""

import pytest

from helpdesk.routing.services import Sample, create_rule, preview_routing


@pytest.fixture
def billing(make_department):
    return make_department("Financeiro")


@pytest.fixture
def logistics(make_department):
    return make_department("Logística")


def test_keyword_rule_routes_and_history_names_the_rule(db, billing, make_ticket):
    rule = create_rule(
        name="Cobranças", keywords="cobrança, fatura", department_id=billing.id, priority=3
    )
    db.session.commit()
    ticket = make_ticket(subject="Cobrança em dobro na FATURA de outubro")
    assert ticket.department_id == billing.id
    assert ticket.priority == 3
    routed = [e for e in ticket.events if e.action == "routed"][0]
    assert routed.new_value == "Financeiro"
    assert routed.detail == f"rule:{rule.id}:Cobranças"


def test_first_matching_rule_in_order_wins(db, billing, logistics, make_ticket):
    create_rule(name="Complaints to billing", kind="complaint", department_id=billing.id)
    create_rule(name="Delivery", keywords="entrega", department_id=logistics.id)
    db.session.commit()
    assert make_ticket(kind="complaint", subject="Atraso na entrega").department_id == billing.id
    assert make_ticket(kind="request", subject="Atraso na entrega").department_id == logistics.id


def test_no_rule_goes_to_default_department(db, default_department, make_ticket):
    ticket = make_ticket(subject="Sem regra")
    assert ticket.department_id == default_department.id
    assert [e for e in ticket.events if e.action == "routed"][0].detail == "default"


def test_conditions_on_channel_segment_and_key_account(
    db, billing, logistics, make_customer, make_ticket
):
    create_rule(
        name="Phone business", channel="phone", segment="business", department_id=billing.id
    )
    create_rule(name="Key accounts", key_account=True, department_id=logistics.id)
    db.session.commit()
    business = make_customer(segment="business")
    vip = make_customer(is_key_account=True)
    assert make_ticket(customer=business, channel="phone").department_id == billing.id
    assert make_ticket(customer=business, channel="web").department_id != billing.id
    assert make_ticket(customer=vip).department_id == logistics.id


def test_assignment_goes_to_active_agent_with_fewest_open_tickets(
    db, billing, make_user, make_ticket
):
    create_rule(name="All to billing", department_id=billing.id)
    db.session.commit()
    busy = make_user(role="agent", departments=[billing])
    idle = make_user(role="agent", departments=[billing])
    away = make_user(role="agent", departments=[billing])
    away.active = False
    db.session.commit()
    first = make_ticket()
    second = make_ticket()
    assert {first.assignee_id, second.assignee_id} == {busy.id, idle.id}
    assert make_ticket().assignee_id in {busy.id, idle.id}
    event = [e for e in first.events if e.action == "assigned"][0]
    assert event.detail == "least_loaded"


def test_key_account_goes_to_dedicated_agent(
    db, default_department, make_user, make_customer, make_ticket
):
    make_user(role="agent")
    dedicated = make_user(role="agent")
    vip = make_customer(is_key_account=True, key_account_agent_id=dedicated.id)
    ticket = make_ticket(customer=vip)
    assert ticket.assignee_id == dedicated.id
    assert [e for e in ticket.events if e.action == "assigned"][0].detail == "key_account"


def test_rule_with_agent_assigns_that_agent(db, billing, make_user, make_ticket):
    agent = make_user(role="agent", departments=[billing])
    make_user(role="agent", departments=[billing])
    create_rule(
        name="Ana takes charges", keywords="estorno", department_id=billing.id, agent_id=agent.id
    )
    db.session.commit()
    assert make_ticket(subject="Pedido de estorno").assignee_id == agent.id


def test_preview_shows_rule_without_writing(db, billing, default_department):
    from helpdesk.tickets.models import Ticket, TicketEvent

    rule = create_rule(name="Faturas", keywords="fatura", department_id=billing.id)
    db.session.commit()
    hit = preview_routing(
        Sample(kind="complaint", channel="web", subject="Minha fatura veio errada")
    )
    miss = preview_routing(Sample(kind="complaint", channel="web", subject="Outra coisa"))
    assert hit["rule"].id == rule.id and hit["department"].id == billing.id
    assert miss["rule"] is None and miss["department"].id == default_department.id
    assert db.session.query(Ticket).count() == 0 and db.session.query(TicketEvent).count() == 0


def test_rule_validation_rejects_agent_outside_department(db, billing, make_user):
    from helpdesk.core.errors import ValidationError

    outsider = make_user(role="agent")
    with pytest.raises(ValidationError) as info:
        create_rule(name="x", department_id=billing.id, agent_id=outsider.id)
    assert info.value.field == "agent_id"
