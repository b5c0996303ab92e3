"""Bodies parsed by their models: strict types, every field's error named, in the user's language."""

from __future__ import annotations

import pytest

from tests import test_api_support as support
from tests.test_api_support import API, headers

cast = support.cast
token_for = support.token_for


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", {"internal": "true or false", "channel": "must be a string"}),
        ("pt-BR", {"internal": "true ou false", "channel": "precisa ser um texto"}),
        ("es", {"internal": "true o false", "channel": "debe ser un texto"}),
    ],
)
def test_wrong_types_are_named_in_the_users_language(client, cast, language, texts):
    response = client.post(
        f"{API}/tickets/{cast.ticket_a.protocol}/messages",
        json={"body": "Oi", "internal": 0, "channel": 5},
        headers={**headers(cast, "agent_x"), "Accept-Language": language},
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "/problems/unprocessable" and problem["status"] == 422
    for field, text in texts.items():
        assert text in problem["errors"][field].lower(), problem["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"priority": "very"}, "priority"),  # not one of the values
        ({"assignee": True}, "assignee"),  # a bool is no id
        ({"assignee": 2**31}, "assignee"),  # no id is that large
        ({"department": "  "}, "department"),  # no name is blank
        ({"reason": ["x"]}, "reason"),
    ],
)
def test_strict_fields_of_a_change(client, cast, body, field):
    response = client.patch(
        f"{API}/tickets/{cast.ticket_a.protocol}", json=body, headers=headers(cast, "supervisor")
    )
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_the_valid_values_are_listed_in_the_users_language(client, cast):
    response = client.patch(
        f"{API}/tickets/{cast.ticket_a.protocol}",
        json={"priority": "very"},
        headers={**headers(cast, "supervisor"), "Accept-Language": "es"},
    )
    message = response.get_json()["errors"]["priority"]
    assert message == "Use uno de estos: low, normal, high, urgent."


def test_a_customer_token_ignores_the_customer_field(client, cast):
    response = client.post(
        f"{API}/tickets",
        json={"kind": "request", "subject": "Oi", "customer": "not an object"},
        headers=headers(cast, "customer_a"),
    )
    assert response.status_code == 201
