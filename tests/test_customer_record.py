"""The customer record (customer 360): relationship fields read and changed through the API,
refused when invalid (problem+json 422 in the caller's language), every change audited."""

from __future__ import annotations

import sqlalchemy as sa

from helpdesk.customers.models import CustomerEvent
from tests import test_api_support as support
from tests.test_api_support import API, assert_problem, bearer

token_for = support.token_for


def test_patch_sets_relationship_fields_and_audits_each_change(
    client, db, make_user, make_customer, token_for
):
    agent = make_user("agent")
    manager = make_user("agent", name="Gerente de Conta")
    customer = make_customer(name="Loja Azul")
    hdrs = bearer(token_for(agent))
    body = {
        "relationship_type": "dedicated_assistance",
        "lifecycle_stage": "commitment",
        "value_tier": "high",
        "is_key_account": True,
        "key_account_agent_id": manager.id,
        "preferred_channel": "whatsapp",
        "locale": "es",
        "customer_notes": "Prefere contato pela manhã",
        "customer_important_dates": "Renovação do contrato: março",
    }
    response = client.patch(f"{API}/customers/{customer.id}", json=body, headers=hdrs)
    assert response.status_code == 200, response.get_data(as_text=True)
    read = client.get(f"{API}/customers/{customer.id}", headers=hdrs).get_json()
    for name, value in body.items():
        assert read[name] == value, name
    events = db.session.scalars(
        sa.select(CustomerEvent).where(CustomerEvent.customer_id == customer.id)
    ).all()
    assert {e.field for e in events} == set(body)
    stage = next(e for e in events if e.field == "lifecycle_stage")
    assert (stage.actor_id, stage.old_value, stage.new_value) == (agent.id, None, "commitment")

    # a second change records from what to what; the same value records nothing
    client.patch(
        f"{API}/customers/{customer.id}",
        json={"lifecycle_stage": "dissolution", "value_tier": "high"},
        headers=hdrs,
    )
    latest = db.session.scalars(
        sa.select(CustomerEvent)
        .where(CustomerEvent.customer_id == customer.id)
        .order_by(CustomerEvent.id.desc())
    ).first()
    assert (latest.field, latest.old_value, latest.new_value) == (
        "lifecycle_stage",
        "commitment",
        "dissolution",
    )
    assert len(events) + 1 == db.session.scalar(
        sa.select(sa.func.count(CustomerEvent.id)).where(CustomerEvent.customer_id == customer.id)
    )


def test_invalid_values_are_refused_with_422_translated_and_nothing_changes(
    client, db, make_user, make_customer, token_for
):
    agent = make_user("agent")
    customer = make_customer()
    hdrs = {**bearer(token_for(agent)), "Accept-Language": "pt-BR"}
    for body, field in (
        ({"relationship_type": "friend"}, "relationship_type"),
        ({"lifecycle_stage": "growth", "value_tier": "high"}, "lifecycle_stage"),
        ({"value_tier": 3}, "value_tier"),
        ({"segment": None}, "segment"),
        ({"key_account_agent_id": 999999}, "key_account_agent_id"),
        ({"locale": "fr"}, "locale"),
        ({"customer_notes": "x" * 5000}, "customer_notes"),
    ):
        problem = assert_problem(
            client.patch(f"{API}/customers/{customer.id}", json=body, headers=hdrs), 422
        )
        assert field in problem["errors"], (body, problem)
    problem = assert_problem(
        client.patch(
            f"{API}/customers/{customer.id}", json={"relationship_type": "x"}, headers=hdrs
        ),
        422,
    )
    assert "Input" not in problem["errors"]["relationship_type"]  # pt_BR, not pydantic's English
    db.session.expire_all()
    read = client.get(f"{API}/customers/{customer.id}", headers=hdrs).get_json()
    assert read["value_tier"] is None and read["lifecycle_stage"] is None
    assert db.session.scalar(sa.select(sa.func.count(CustomerEvent.id))) == 0


def test_customer_record_is_for_staff_only(client, db, make_user, make_customer, token_for):
    customer = make_customer()
    customer_user = make_user("customer")
    hdrs = bearer(token_for(customer_user))
    assert client.get(f"{API}/customers/{customer.id}", headers=hdrs).status_code == 403
    assert (
        client.patch(
            f"{API}/customers/{customer.id}", json={"value_tier": "low"}, headers=hdrs
        ).status_code
        == 403
    )
    agent = bearer(token_for(make_user("agent")))
    assert_problem(client.get(f"{API}/customers/999999", headers=agent), 404)


def test_agent_edits_the_record_in_the_console_and_sees_the_change_history(
    client, db, auth, make_user, make_customer
):
    agent = make_user("agent", name="Beatriz")
    customer = make_customer(name="Mercado Sol")
    auth.login(agent)
    page = client.get(f"/console/customers/{customer.id}")
    assert page.status_code == 200 and b"relationship_type" in page.data
    saved = client.post(
        f"/console/customers/{customer.id}/profile",
        data={
            "relationship_type": "long_term",
            "lifecycle_stage": "expansion",
            "value_tier": "medium",
            "segment": "business",
            "customer_notes": "Cliente desde 2010",
        },
    )
    assert saved.status_code == 302
    db.session.expire_all()
    record = db.session.get(type(customer), customer.id)
    assert (record.relationship_type, record.lifecycle_stage, record.segment) == (
        "long_term",
        "expansion",
        "business",
    )
    page = client.get(f"/console/customers/{customer.id}").get_data(as_text=True)
    assert "Beatriz" in page and "expansion" in page
    bad = client.post(
        f"/console/customers/{customer.id}/profile",
        data={"relationship_type": "friend", "segment": "business"},
    )
    assert bad.status_code == 422
    db.session.expire_all()
    assert db.session.get(type(customer), customer.id).relationship_type == "long_term"


def test_routing_rule_matches_the_relationship_type(
    client, db, make_user, make_department, make_customer, make_ticket, token_for
):
    from helpdesk.customers.profile import update_profile
    from helpdesk.routing.services import create_rule

    dedicated = make_department("Contas dedicadas")
    create_rule(
        name="Dedicados", relationship_type="dedicated_assistance", department_id=dedicated.id
    )
    db.session.commit()
    key = make_customer(name="Grande Cliente")
    update_profile(key, None, {"relationship_type": "dedicated_assistance"})
    other = make_customer(name="Cliente comum")
    update_profile(other, None, {"relationship_type": "transactional"})
    db.session.commit()
    assert make_ticket(customer=key).department_id == dedicated.id
    assert make_ticket(customer=other).department_id != dedicated.id

    admin = bearer(token_for(make_user("admin")))
    created = client.post(
        f"{API}/routing-rules",
        json={
            "name": "Em risco",
            "department": "Contas dedicadas",
            "lifecycle_stage": "dissolution",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["lifecycle_stage"] == "dissolution"
    problem = assert_problem(
        client.post(
            f"{API}/routing-rules",
            json={"name": "X", "department": "Contas dedicadas", "value_tier": "gold"},
            headers=admin,
        ),
        422,
    )
    assert "value_tier" in problem["errors"]
