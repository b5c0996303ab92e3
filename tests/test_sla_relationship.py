"""SLA policies match the customer record's relationship type, lifecycle stage and value tier
(like routing rules): a key account's demand gets the stricter policy; invalid values are refused
by the service (with the field) and by the admin form; the admin list shows the conditions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from helpdesk.core.clock import as_utc
from helpdesk.core.errors import ValidationError
from helpdesk.customers.profile import update_profile
from helpdesk.sla import policies
from helpdesk.sla.models import SlaPolicy, TicketSla

from .test_admin_support import ac, admin, new_client, post, text  # noqa: F401 - fixtures


def _resolution(db, ticket) -> TicketSla:
    return db.session.scalar(
        sa.select(TicketSla).where(
            TicketSla.ticket_id == ticket.id, TicketSla.target == "resolution"
        )
    )


def test_key_account_relationship_gets_the_stricter_policy(db, make_customer, make_ticket):
    everyone = policies.create_policy(name="Todos", position=100, resolution_minutes=7 * 24 * 60)
    key = policies.create_policy(
        name="Conta-chave",
        position=10,
        relationship_type="dedicated_assistance",
        resolution_minutes=8 * 60,
    )
    loyal_high = policies.create_policy(
        name="Fiéis de alto valor",
        position=20,
        lifecycle_stage="commitment",
        value_tier="high",
        resolution_minutes=24 * 60,
    )
    db.session.commit()

    dedicated = make_customer(name="Conta Grande")
    update_profile(dedicated, None, {"relationship_type": "dedicated_assistance"})
    committed = make_customer(name="Cliente Fiel")
    update_profile(committed, None, {"lifecycle_stage": "commitment", "value_tier": "high"})
    half = make_customer(name="Meio Fiel")
    update_profile(half, None, {"lifecycle_stage": "commitment", "value_tier": "low"})
    plain = make_customer(name="Transacional")
    update_profile(plain, None, {"relationship_type": "transactional"})
    db.session.commit()

    expected = {dedicated: key, committed: loyal_high, half: everyone, plain: everyone}
    for customer, policy in expected.items():
        ticket = make_ticket(customer=customer)
        sla = _resolution(db, ticket)
        assert sla.policy_id == policy.id, customer.name
        assert as_utc(sla.due_at) - as_utc(ticket.created_at) == timedelta(
            minutes=policy.resolution_minutes
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("relationship_type", "friend"),
        ("lifecycle_stage", "growth"),
        ("value_tier", "gold"),
        ("value_tier", 3),
    ],
)
def test_invalid_relationship_conditions_are_refused_with_the_field(db, field, value):
    with pytest.raises(ValidationError) as caught:
        policies.create_policy(name="P", resolution_minutes=60, **{field: value})
    assert caught.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(SlaPolicy.id))) == 0


def test_admin_sets_relationship_conditions_and_the_list_shows_them(ac, db):  # noqa: F811
    page = text(ac.get("/admin/policies/new"))
    assert 'for="relationship_type"' in page and 'for="value_tier"' in page
    response = post(
        ac,
        "/admin/policies/new",
        {
            "name": "Key accounts",
            "active": "y",
            "relationship_type": "dedicated_assistance",
            "lifecycle_stage": "expansion",
            "value_tier": "high",
            "resolution_minutes": "8",
            "resolution_unit": "hours",
            "resolution_calendar_id": "",
        },
    )
    assert response.status_code == 302
    policy = db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.name == "Key accounts"))
    assert (policy.relationship_type, policy.lifecycle_stage, policy.value_tier) == (
        "dedicated_assistance",
        "expansion",
        "high",
    )
    listing = text(ac.get("/admin/policies"))
    assert "Dedicated assistance (key account)" in listing and "Value: High" in listing
    edit = text(ac.get(f"/admin/policies/{policy.id}"))
    assert '<option selected value="dedicated_assistance">' in edit

    bad = post(
        ac,
        "/admin/policies/new",
        {"name": "Broken", "value_tier": "gold", "resolution_minutes": "1"},
    )
    assert bad.status_code == 200 and "Not a valid choice." in text(bad)
    assert db.session.scalar(sa.select(sa.func.count(SlaPolicy.id))) == 1
