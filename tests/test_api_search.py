"""`GET /api/v1/tickets?q=`: the search service through the API, scoped like the list.

A ticket registered through the API is found by a word of its description, a word of a later
reply, the customer's CPF typed with punctuation, a phone typed another way and words without
their accents; an agent of another department and another customer do not find it.
"""

from __future__ import annotations

import pytest

from helpdesk.customers.documents import format_document, make_cpf
from tests import test_api_support as support
from tests.test_api_support import API, assert_problem, headers

cast = support.cast
token_for = support.token_for

CPF = make_cpf("529982247")


@pytest.fixture
def registered(client, db, cast):
    """A demand the agent of department X registers by phone for a caller, then answers."""
    body = {
        "kind": "complaint",
        "channel": "phone",
        "subject": "Cobrança em duplicidade",
        "description": "A fatura de novembro veio com a mensalidade cobrada duas vezes.",
        "customer": {
            "name": "Joana Prado",
            "email": "joana.prado@example.com",
            "phone": "+55 11 98765-4321",
            "document": CPF,
        },
    }
    response = client.post(f"{API}/tickets", json=body, headers=headers(cast, "admin"))
    assert response.status_code == 201, response.get_data(as_text=True)
    protocol = response.get_json()["protocol"]
    from helpdesk.tickets.services import get_ticket_by_protocol

    support.move_ticket(db, get_ticket_by_protocol(protocol), cast.dept_x)
    return protocol


def _found(client, cast, who, q, **params):
    response = client.get(
        f"{API}/tickets", query_string={"q": q, **params}, headers=headers(cast, who)
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["protocol"] for item in response.get_json()["items"]]


@pytest.mark.parametrize(
    "q",
    [
        "mensalidade",  # a word of the description
        "MENSALIDADE cobrada",  # case, two words
        "cobranca duplicidade",  # without accents
        "mensali",  # a prefix, while typing
        '"cobrada duas vezes"',  # a phrase
        format_document(CPF),  # CPF with punctuation
        CPF,  # and without
        "(11) 98765 4321",  # the phone, written another way
        "11987654321",
        "joana.prado@example.com",
        "Joana",
    ],
)
def test_the_agent_of_the_department_finds_it(client, cast, registered, q):
    assert _found(client, cast, "agent_x", q) == [registered]


def test_found_by_a_word_of_a_later_reply_and_its_protocol(client, cast, registered):
    assert _found(client, cast, "agent_x", "boleto") == []
    reply = {"body": "Vamos estornar a segunda cobrança e enviar um novo boleto."}
    response = client.post(
        f"{API}/tickets/{registered}/messages", json=reply, headers=headers(cast, "agent_x")
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert _found(client, cast, "agent_x", "boleto") == [registered]
    spaced = f"{registered[:8]} {registered[8:14]} {registered[14:]}"
    assert _found(client, cast, "agent_x", spaced) == [registered]


def test_internal_notes_are_found_by_staff_only(client, cast):
    ticket = cast.ticket_a.protocol
    note = {"body": "Cliente recorrente: conferir o contrato antigo.", "internal": True}
    response = client.post(
        f"{API}/tickets/{ticket}/messages", json=note, headers=headers(cast, "agent_x")
    )
    assert response.status_code == 201
    assert _found(client, cast, "agent_x", "contrato antigo") == [ticket]
    assert _found(client, cast, "customer_a", "contrato antigo") == []


@pytest.mark.parametrize("who", ["agent_y", "customer_a", "customer_b"])
def test_others_do_not_find_it(client, cast, registered, who):
    assert _found(client, cast, who, "mensalidade") == []
    assert _found(client, cast, who, format_document(CPF)) == []


def test_results_carry_an_escaped_snippet_and_combine_with_filters(client, cast, registered):
    response = client.get(
        f"{API}/tickets", query_string={"q": "mensalidade"}, headers=headers(cast, "admin")
    )
    (item,) = response.get_json()["items"]
    assert "<mark>mensalidade</mark>" in item["snippet"]
    assert _found(client, cast, "admin", "mensalidade", status="closed") == []
    assert _found(client, cast, "admin", "mensalidade", channel="phone") == [registered]
    assert _found(client, cast, "admin", "mensalidade", channel="email") == []
    assert _found(client, cast, "admin", "mensalidade", department="Department Y") == []


def test_pages_follow_the_cursor(client, db, cast, make_ticket):
    from tests.conftest import customer_of

    made = {
        make_ticket(customer=customer_of(cast.customer_a), subject=f"Reembolso {n}").protocol
        for n in range(5)
    }
    seen, cursor = [], None
    while True:
        params = {"q": "reembolso", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get(
            f"{API}/tickets", query_string=params, headers=headers(cast, "admin")
        ).get_json()
        seen += [item["protocol"] for item in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert len(seen) == 5 and set(seen) == made


@pytest.mark.parametrize(
    ("params", "field"),
    [({"q": "x" * 501}, "q"), ({"q": "reembolso", "cursor": "not-a-cursor"}, "cursor")],
)
def test_bad_searches_are_400_naming_the_field(client, cast, params, field):
    response = client.get(f"{API}/tickets", query_string=params, headers=headers(cast, "admin"))
    body = assert_problem(response, 400)
    assert field in body["errors"]


@pytest.mark.parametrize("q", ['"', "*", "NEAR(a b)", "-", "a:b", "'); DROP", "\u00a0"])
def test_query_syntax_is_never_an_error(client, cast, q):
    response = client.get(f"{API}/tickets", query_string={"q": q}, headers=headers(cast, "admin"))
    assert response.status_code == 200
