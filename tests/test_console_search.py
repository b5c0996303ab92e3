"""The console's search page: results, filters, scope, the jump to a ticket or a customer, the
header's search box on every console page, query count, hostile input."""

import pytest

from helpdesk.customers.documents import format_document, make_cpf
from helpdesk.tickets.services import add_message


@pytest.fixture
def cast(db, make_user, make_customer, make_ticket, make_department):
    agent = make_user("agent")
    customer = make_customer(
        name="Rita Alves",
        email="rita@example.com",
        phone="+55 21 99876-5432",
        document=make_cpf("987654321"),
    )
    ticket = make_ticket(
        customer=customer,
        subject="Cobrança <b>indevida</b>",
        description="Cobraram a tarifa de manutenção duas vezes.",
    )
    add_message(ticket, actor=agent, body="Nota: cliente ligou três vezes.", internal=True)
    db.session.commit()
    stranger = make_user("agent", departments=[make_department("Ouvidoria")])
    return agent, stranger, customer, ticket


def test_results_list_protocol_subject_snippet_status_department(client, auth, cast):
    agent, _, _, ticket = cast
    auth.login(agent)
    html = client.get("/console/search?q=cobranca").get_data(as_text=True)
    assert ticket.protocol in html
    assert "Cobrança &lt;b&gt;indevida&lt;/b&gt;" in html  # the subject, escaped
    assert "<mark>Cobrança</mark>" in html or "<mark>Cobraram</mark>" in html
    assert "SAC" in html  # department


def test_internal_words_found_by_staff(client, auth, cast):
    agent, _, _, ticket = cast
    auth.login(agent)
    assert ticket.protocol in client.get("/console/search?q=ligou").get_data(as_text=True)


def test_another_departments_agent_finds_nothing(client, auth, cast):
    _, stranger, _, ticket = cast
    auth.login(stranger)
    response = client.get("/console/search?q=tarifa")
    assert response.status_code == 200
    assert ticket.protocol not in response.get_data(as_text=True)
    # nor does the protocol jump take them there
    response = client.get(f"/console/search?q={ticket.protocol}")
    assert response.status_code == 200


def test_a_ticket_assigned_to_an_agent_outside_their_departments_is_found(db, client, auth, cast):
    """They may open it (it is in their "assigned to me" queue), so search finds it too."""
    _, stranger, _, ticket = cast
    ticket.assignee_id = stranger.id
    db.session.commit()
    auth.login(stranger)
    html = client.get("/console/search?q=tarifa").get_data(as_text=True)
    assert ticket.protocol in html
    response = client.get(f"/console/search?q={ticket.protocol}")
    assert response.status_code == 302 and ticket.protocol in response.headers["Location"]


def test_filters_combine(client, auth, cast):
    agent, _, _, ticket = cast
    auth.login(agent)
    assert ticket.protocol in client.get(
        "/console/search?q=tarifa&status=new&kind=complaint"
    ).get_data(as_text=True)
    assert ticket.protocol not in client.get("/console/search?q=tarifa&status=closed").get_data(
        as_text=True
    )
    assert ticket.protocol not in client.get("/console/search?q=tarifa&from=2999-01-01").get_data(
        as_text=True
    )
    assert client.get("/console/search?q=tarifa&status=nope").status_code == 400
    assert client.get("/console/search?q=tarifa&from=yesterday").status_code == 400


def test_a_protocol_jumps_to_the_ticket(client, auth, cast):
    agent, _, _, ticket = cast
    auth.login(agent)
    p = ticket.protocol
    response = client.get(f"/console/search?q={p[:8]}+{p[8:14]}+{p[14:]}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/console/tickets/{p}")


@pytest.mark.parametrize("typed", ["(21) 99876-5432", "rita@example.com", "document"])
def test_a_contact_jumps_to_the_customer(client, auth, cast, typed):
    agent, _, customer, _ = cast
    auth.login(agent)
    if typed == "document":
        typed = format_document(customer.document)
    response = client.get("/console/search", query_string={"q": typed})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/console/customers/{customer.id}")


def test_the_header_has_a_labelled_search_box_on_console_pages(client, auth, cast):
    agent, _, _, _ = cast
    auth.login(agent)
    for path in ("/console/", "/console/phone", "/console/search"):
        html = client.get(path).get_data(as_text=True)
        assert 'id="console-search"' in html and 'for="console-search"' in html, path
        assert 'aria-keyshortcuts="/"' in html


def test_query_count_does_not_grow_with_rows(
    client, auth, db, make_user, make_ticket, count_queries
):
    agent = make_user("agent")
    auth.login(agent)
    make_ticket(description="Fatura em atraso.")
    client.get("/console/search?q=fatura")  # warm up
    with count_queries() as few:
        client.get("/console/search?q=fatura")
    for _ in range(6):
        make_ticket(description="Fatura em atraso.")
    with count_queries() as many:
        html = client.get("/console/search?q=fatura").get_data(as_text=True)
    assert html.count("protocol-inline") == 7
    assert many.count == few.count


@pytest.mark.parametrize(
    "q", ["x" * 5000, "a\x00b", '"', "*", "NEAR(a b)", "-x", "a:b", "{keys}:1", "'", "\\", "%", "_"]
)
def test_hostile_queries_never_fail(client, auth, cast, q):
    agent, _, _, _ = cast
    auth.login(agent)
    assert client.get("/console/search", query_string={"q": q}).status_code in (200, 302, 400)


def test_customers_and_anonymous_are_kept_out(client, auth, make_user):
    assert client.get("/console/search?q=x").status_code == 302
    auth.login(make_user("customer"))
    assert client.get("/console/search?q=x").status_code == 403


def test_search_page_is_translated(client, auth, make_user):
    auth.login(make_user("agent"))
    client.post("/language", data={"lang": "pt_BR"})
    html = client.get("/console/search").get_data(as_text=True)
    assert "Buscar (tecle /)" in html and "Buscar demandas e clientes" in html
    client.post("/language", data={"lang": "es"})
    html = client.get("/console/search?q=nada").get_data(as_text=True)
    assert "Ninguna demanda" in html
