"""Customers look-up, departments, categories and routing rules through the API."""

from __future__ import annotations

import pytest

from helpdesk.customers.documents import make_cpf
from tests import test_api_support as support
from tests.test_api_support import API, assert_problem, headers

cast = support.cast
token_for = support.token_for


# customers -----------------------------------------------------------------------------------


def test_find_customer_by_phone_email_document(client, cast, make_customer):
    cpf = make_cpf("123456789")
    customer = make_customer(
        name="Paulo", email="paulo@example.com", phone="11933332222", document=cpf
    )
    hdrs = headers(cast, "agent_y")
    for query in (
        "phone=(11) 93333-2222",
        "email=PAULO@example.com",
        f"document={cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}",
    ):
        response = client.get(f"{API}/customers?{query}", headers=hdrs)
        assert response.status_code == 200, query
        items = response.get_json()["items"]
        assert [c["id"] for c in items] == [customer.id]
        assert items[0]["emails"] == ["paulo@example.com"]
        assert items[0]["document"] == cpf
    empty = client.get(f"{API}/customers?email=nobody@example.com", headers=hdrs)
    assert empty.get_json() == {"items": []}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("phone=123", "phone"),
        ("email=not-an-email", "email"),
        ("document=111.111.111-11", "document"),
        ("document=123", "document"),
        ("", "phone"),
        ("phone=11933332222&email=a@example.com", "phone"),
    ],
)
def test_find_customer_bad_input_is_400_with_field(client, cast, query, field):
    body = assert_problem(
        client.get(f"{API}/customers?{query}", headers=headers(cast, "agent_x")), 400
    )
    assert field in body["errors"]


# departments and categories ------------------------------------------------------------------


def test_departments_list_and_create(client, cast):
    names = [
        d["name"]
        for d in client.get(f"{API}/departments", headers=headers(cast, "agent_x")).get_json()[
            "items"
        ]
    ]
    assert {"Department X", "Department Y", "SAC"} <= set(names)
    admin = headers(cast, "admin")
    created = client.post(
        f"{API}/departments", json={"name": "  Ouvidoria  ", "is_ombudsman": True}, headers=admin
    )
    assert created.status_code == 201
    assert created.get_json()["name"] == "Ouvidoria" and created.get_json()["is_ombudsman"] is True
    dup = client.post(f"{API}/departments", json={"name": "Ouvidoria"}, headers=admin)
    assert "name" in assert_problem(dup, 409)["errors"]
    assert (
        "name"
        in assert_problem(client.post(f"{API}/departments", json={"name": ""}, headers=admin), 400)[
            "errors"
        ]
    )
    assert (
        "is_default"
        in assert_problem(
            client.post(
                f"{API}/departments", json={"name": "Z", "is_default": "yes"}, headers=admin
            ),
            422,
        )["errors"]
    )


def test_categories_list_and_create(client, cast):
    admin = headers(cast, "admin")
    created = client.post(
        f"{API}/categories",
        json={
            "name": "Billing",
            "name_pt_br": "Cobrança",
            "name_es": "Facturación",
            "kinds": ["complaint"],
        },
        headers=admin,
    )
    assert created.status_code == 201
    assert created.get_json()["kinds"] == ["complaint"]
    listed = client.get(f"{API}/categories", headers=headers(cast, "supervisor")).get_json()[
        "items"
    ]
    assert [c["name"] for c in listed] == ["Billing"]
    assert_problem(client.post(f"{API}/categories", json={"name": "billing"}, headers=admin), 409)
    bad_kind = client.post(
        f"{API}/categories", json={"name": "X", "kinds": ["praise"]}, headers=admin
    )
    assert "kinds" in assert_problem(bad_kind, 400)["errors"]
    not_list = client.post(
        f"{API}/categories", json={"name": "X", "kinds": "complaint"}, headers=admin
    )
    assert "kinds" in assert_problem(not_list, 422)["errors"]


# routing rules -------------------------------------------------------------------------------


def test_routing_rule_create_applies_and_update(client, db, cast):
    admin = headers(cast, "admin")
    created = client.post(
        f"{API}/routing-rules",
        json={
            "name": "Fatura",
            "keywords": ["fatura", "boleto"],
            "department": "Department Y",
            "priority": "high",
            "agent": cast.agent_y.email,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    rule = created.get_json()
    assert rule["department"]["name"] == "Department Y"
    assert rule["keywords"] == ["fatura", "boleto"]
    assert created.headers["Location"] == f"{API}/routing-rules/{rule['id']}"

    ticket = client.post(
        f"{API}/tickets",
        json={
            "kind": "complaint",
            "subject": "Boleto errado",
            "customer": {"email": "c@example.com"},
        },
        headers=admin,
    ).get_json()
    assert ticket["department"]["name"] == "Department Y"
    assert ticket["priority"] == "high"
    assert ticket["assignee"]["id"] == cast.agent_y.id

    patched = client.patch(
        f"{API}/routing-rules/{rule['id']}", json={"active": False}, headers=admin
    )
    assert patched.status_code == 200
    assert patched.get_json()["active"] is False
    assert patched.get_json()["name"] == "Fatura"  # fields left out keep their value
    listed = client.get(f"{API}/routing-rules", headers=admin).get_json()["items"]
    assert [r["active"] for r in listed] == [False]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "R"}, 400, "department"),
        ({"name": "R", "department": "Nowhere"}, 400, "department"),
        ({"name": "R", "department": "Department X", "agent": "agent-y"}, 400, "agent"),
        ({"name": "R", "department": "Department X", "category": 999}, 400, "category"),
        ({"name": "R", "department": "Department X", "segment": "vip"}, 422, "segment"),
        ({"name": "R", "department": "Department X", "priority": "max"}, 422, "priority"),
        ({"name": "R", "department": "Department X", "kind": "praise"}, 400, "kind"),
        ({"name": "", "department": "Department X"}, 400, "name"),
        ({"name": "R", "department": "Department X", "key_account": "no"}, 422, "key_account"),
    ],
)
def test_routing_rule_validation(client, cast, body, status, field):
    if body.get("agent") == "agent-y":
        body = {**body, "agent": cast.agent_y.id}  # not a member of department X
    response = client.post(f"{API}/routing-rules", json=body, headers=headers(cast, "admin"))
    assert field in assert_problem(response, status)["errors"]


def test_unknown_routing_rule_is_404(client, cast):
    assert_problem(
        client.patch(f"{API}/routing-rules/999", json={}, headers=headers(cast, "admin")), 404
    )
