"""The search service on the database's own engine (SQLite FTS5 / PostgreSQL full-text): what a
ticket is found by, who finds it, ranking, prefixes, phrases, snippets and hostile input."""

import pytest
import sqlalchemy as sa

from helpdesk.customers.documents import format_document, make_cpf
from helpdesk.search import service
from helpdesk.search.indexer import reindex_all
from helpdesk.search.models import SearchDocument
from helpdesk.tickets.queries import TicketFilter, queue_filter
from helpdesk.tickets.services import add_message


def _staff(user, q, **kw):
    flt = queue_filter(user, "department", statuses=())
    return [h.ticket.protocol for h in service.search_tickets(q, flt, staff=True, **kw).items]


def _mine(customer, q):
    flt = TicketFilter(statuses=(), customer_id=customer.id)
    return [h.ticket.protocol for h in service.search_tickets(q, flt, staff=False).items]


@pytest.fixture
def world(db, make_user, make_customer, make_ticket, make_department):
    agent = make_user("agent")
    customer = make_customer(
        name="Joana Prado",
        email="joana.prado@example.com",
        phone="+55 11 98765-4321",
        document=make_cpf("123456789"),
    )
    ticket = make_ticket(
        customer=customer,
        subject="Cobrança indevida na fatura",
        description="Recebi uma cobrança duplicada do plano empresarial.",
    )
    other = make_ticket(subject="Entrega atrasada", description="O pedido não chegou.")
    return agent, customer, ticket, other


def test_found_by_a_word_of_its_description(world):
    agent, _, ticket, other = world
    assert _staff(agent, "duplicada ") == [ticket.protocol]
    assert _staff(agent, "pedido ") == [other.protocol]


def test_found_by_a_word_of_a_later_reply(db, world):
    agent, _, ticket, _ = world
    assert _staff(agent, "estornamos ") == []
    add_message(ticket, actor=agent, body="Estornamos o valor em 48 horas.")
    db.session.commit()
    assert _staff(agent, "estornamos ") == [ticket.protocol]


def test_accent_and_case_insensitive(world):
    agent, _, ticket, _ = world
    assert _staff(agent, "COBRANCA ") == [ticket.protocol]
    assert _staff(agent, "fatúra ") == [ticket.protocol]


@pytest.mark.parametrize(
    "typed", ["11 98765-4321", "+55 11 987654321", "(11) 98765-4321", "11987654321"]
)
def test_found_by_a_phone_typed_any_way(world, typed):
    agent, _, ticket, _ = world
    assert _staff(agent, typed) == [ticket.protocol]


def test_found_by_the_document_with_or_without_punctuation(world):
    agent, customer, ticket, _ = world
    assert _staff(agent, format_document(customer.document)) == [ticket.protocol]
    assert _staff(agent, customer.document) == [ticket.protocol]


def test_found_by_protocol_with_spaces_and_without_check_digit(world):
    agent, _, ticket, _ = world
    p = ticket.protocol
    assert _staff(agent, f"{p[:8]} {p[8:14]} {p[14:]}") == [p]
    assert _staff(agent, p[:-1]) == [p]


def test_found_by_customer_name_and_email(world):
    agent, _, ticket, _ = world
    assert _staff(agent, "joana prado") == [ticket.protocol]
    assert _staff(agent, "joana.prado@example.com") == [ticket.protocol]


def test_internal_note_found_by_staff_never_by_the_customer(db, world, make_user):
    agent, customer, ticket, _ = world
    add_message(ticket, actor=agent, body="Suspeita de fraude interna.", internal=True)
    db.session.commit()
    assert _staff(agent, "fraude ") == [ticket.protocol]
    assert _mine(customer, "fraude ") == []
    assert _mine(customer, "duplicada ") == [ticket.protocol]


def test_an_agent_of_another_department_does_not_find_it(world, make_user, make_department):
    _, _, ticket, _ = world
    stranger = make_user("agent", departments=[make_department("Ouvidoria")])
    assert _staff(stranger, "duplicada ") == []
    assert _staff(stranger, ticket.protocol) == []


def test_prefix_of_the_last_word_while_typing(world):
    agent, _, ticket, _ = world
    assert _staff(agent, "cobr") == [ticket.protocol]
    assert _staff(agent, "cobr ") == []  # a finished word is a word


def test_phrase_in_quotes(world):
    agent, _, ticket, _ = world
    assert _staff(agent, '"cobrança duplicada"') == [ticket.protocol]
    assert _staff(agent, '"duplicada cobrança"') == []


def test_ranked_by_relevance_then_recency(db, make_user, make_ticket):
    agent = make_user("agent")
    once = make_ticket(subject="Pedido", description="Um reembolso pendente.")
    often = make_ticket(subject="Reembolso", description="Reembolso, reembolso e reembolso.")
    newer = make_ticket(subject="Pedido", description="Um reembolso pendente.")
    assert _staff(agent, "reembolso ") == [often.protocol, newer.protocol, once.protocol]


def test_keyset_pages(db, make_user, make_ticket):
    agent = make_user("agent")
    made = [make_ticket(description="Tarifa de manutenção.").protocol for _ in range(5)]
    flt = queue_filter(agent, "department", statuses=())
    first = service.search_tickets("tarifa ", flt, staff=True, limit=2)
    seen = [h.ticket.protocol for h in first.items]
    cursor = first.next_cursor
    while cursor:
        page = service.search_tickets("tarifa ", flt, staff=True, limit=2, cursor=cursor)
        seen += [h.ticket.protocol for h in page.items]
        cursor = page.next_cursor
    assert sorted(seen) == sorted(made) and len(seen) == 5


def test_snippet_is_escaped_and_marked(db, make_user, make_ticket):
    agent = make_user("agent")
    make_ticket(description="<script>alert(1)</script> cobrança & juros")
    flt = queue_filter(agent, "department", statuses=())
    (hit,) = service.search_tickets("cobranca ", flt, staff=True).items
    html = str(hit.snippet)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<mark>cobrança</mark>" in html and "&amp; juros" in html


@pytest.mark.parametrize(
    "q",
    [
        "x" * 5000,
        "a\x00b",
        '"',
        'cobran"ça',
        '"""',
        "*",
        "NEAR(a b)",
        "-cobranca",
        "public_text:cobranca",
        "{keys}: 1",
        "a AND OR NOT",
        "^ ( ) : ' \\",
        "!!! &&& ||| <->",
        "",
        "   ",
    ],
)
def test_hostile_queries_never_fail(world, q):
    agent, customer, _, _ = world
    _staff(agent, q)
    _mine(customer, q)


def test_exact_identifiers_jump(world):
    _, customer, ticket, _ = world
    assert service.exact_match(ticket.protocol).protocol == ticket.protocol
    assert service.exact_match(f" {ticket.protocol[:8]} {ticket.protocol[8:]} ").kind == "ticket"
    for typed in ("(11) 98765-4321", "joana.prado@example.com", format_document(customer.document)):
        jump = service.exact_match(typed)
        assert jump.kind == "customer" and jump.customer_id == customer.id, typed
    assert service.exact_match("cobrança") is None
    assert service.exact_match("x" * 5000) is None


def test_customer_changes_reach_the_index(db, world):
    from helpdesk.customers.services import add_contacts

    agent, customer, ticket, _ = world
    add_contacts(customer, phone="+552133334444")
    db.session.commit()
    assert _staff(agent, "(21) 3333-4444") == [ticket.protocol]


def test_reindex_rebuilds_every_row(db, world):
    agent, _, ticket, other = world
    db.session.execute(sa.delete(SearchDocument))
    assert _staff(agent, "duplicada ") == []
    assert reindex_all(db.session.connection()) == 2
    assert _staff(agent, "duplicada ") == [ticket.protocol]


def test_the_reindex_command_rebuilds_and_prints_counts(app, db, world):
    agent, _, ticket, _ = world
    db.session.execute(sa.delete(SearchDocument))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["search", "reindex", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "indexed 1 tickets" in result.output and "reindexed 2 tickets" in result.output
    assert _staff(agent, "duplicada ") == [ticket.protocol]


@pytest.mark.postgres_only
def test_the_reindex_command_leaves_the_planner_statistics_current(app, db, world):
    """Without them PostgreSQL plans a search over a rebuilt index as over an empty table (a
    search over 1M tickets took 45 s instead of 70 ms until autovacuum analysed it)."""
    db.session.execute(sa.delete(SearchDocument))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    estimated = db.session.scalar(
        sa.text("SELECT reltuples FROM pg_class WHERE relname = 'search_documents'")
    )
    assert estimated == 2


@pytest.mark.postgres_only
def test_an_identifier_is_looked_for_in_one_scan_not_window_by_window(
    db, world, make_ticket, count_queries, monkeypatch
):
    """The recency windows serve common words; a CPF, phone or protocol has a handful of
    matches, so looking newest-first window by window only multiplied the scans (4 at 1M)."""
    from helpdesk.search import indexer
    from helpdesk.search import service as search_service

    agent, customer, ticket, _ = world
    for i in range(40):
        make_ticket(subject=f"Outro assunto {i}")
    # one id per recency bucket: 42 tickets are then enough for the windows to start
    monkeypatch.setattr(indexer, "RECENCY_BUCKET", 1)
    monkeypatch.setattr(search_service, "RECENCY_BUCKET", 1)
    reindex_all(db.session.connection())
    db.session.commit()
    typed = {
        "cpf": customer.document[:3] + "." + customer.document[3:6] + "." + customer.document[6:],
        "protocol": f"{ticket.protocol[:4]} {ticket.protocol[4:]}",
        "phone": "(11) 98765-4321",
    }
    for kind, text in typed.items():
        with count_queries() as q:
            found = _staff(agent, text, candidates=2)
        assert found == [ticket.protocol], kind
        scans = [s for s in q.statements if "@@" in s and "ts_rank_cd" not in s]
        assert len(scans) == 1, (kind, len(scans))
    # a common word still starts with the newest window
    with count_queries() as q:
        _staff(agent, "assunto ", candidates=2)
    assert any("recency >=" in s for s in q.statements if "@@" in s)


def test_ranking_looks_at_the_newest_candidates_only_when_bounded(db, make_user, make_ticket):
    agent = make_user("agent")
    oldest = make_ticket(description="Reembolso reembolso reembolso reembolso.")
    made = [make_ticket(description="Um reembolso.") for _ in range(2)]
    flt = queue_filter(agent, "department", statuses=())

    def found(candidates):
        page = service.search_tickets("reembolso ", flt, staff=True, candidates=candidates)
        return {h.ticket.protocol for h in page.items}

    assert found(0) == {oldest.protocol, *(t.protocol for t in made)}
    assert found(2) == {t.protocol for t in made}  # the newest two matches, ranked


def test_bounded_ranking_finds_the_newest_matches_whatever_their_spread(
    db, monkeypatch, make_user, make_ticket, make_department
):
    """PostgreSQL looks among the newest ids first and widens the window until it has the
    candidates; with one id per bucket and windows of 2x, 4x... the candidates, every kind of
    spread is crossed: matches bunched at the top, spread out, only old ones, none at all."""
    from helpdesk.search import indexer

    monkeypatch.setattr(service, "RECENCY_BUCKET", 1)
    monkeypatch.setattr(indexer, "RECENCY_BUCKET", 1)
    monkeypatch.setattr(service, "WINDOW_FACTOR", 2)
    mine, other = make_department("Mine"), make_department("Other")
    agent = make_user("agent", departments=[mine])
    words = ["boleto", "", "", "", "boleto", "", "boleto", "", "", "", "", "boleto"]
    words += ["", "", "", "", "", "", "", "", "", "", "", "boleto", "boleto"]
    made = []
    for i, word in enumerate(words):
        ticket = make_ticket(description=f"Pedido {i} {word}.")
        ticket.department_id = (other if i == len(words) - 1 else mine).id
        made.append(ticket)
    db.session.commit()
    reindex_all(db.session.connection())
    db.session.commit()
    flt = queue_filter(agent, "department", statuses=())
    matching = [t.protocol for t in reversed(made[:-1]) if "boleto" in t.description]

    def found(q, candidates):
        page = service.search_tickets(q, flt, staff=True, candidates=candidates)
        return {h.ticket.protocol for h in page.items}

    for candidates in (1, 2, 3, 5, 50):
        # the newest that many matches the agent may open (not the foreign department's one)
        assert found("boleto ", candidates) == set(matching[:candidates]), candidates
    assert found("pedido ", 3) == {t.protocol for t in made[-4:-1]}
    assert found("inexistente ", 3) == set()


def test_attachment_names_and_detail_edits_reach_the_index(db, world):
    import io

    from werkzeug.datastructures import FileStorage

    from helpdesk.tickets.services import update_details

    agent, customer, ticket, _ = world
    add_message(
        ticket,
        actor=agent,
        body="Segue o documento.",
        attachments=[FileStorage(io.BytesIO(b"%PDF-1.4 x"), filename="comprovante-pix.txt")],
    )
    update_details(
        ticket, agent, kind="complaint", subject="Estorno não creditado", description="Sem valor."
    )
    db.session.commit()
    assert _staff(agent, "comprovante ") == [ticket.protocol]
    assert _staff(agent, "creditado ") == [ticket.protocol]
    assert _staff(agent, "duplicada ") == []  # the old description is gone from the index
    assert _mine(customer, "comprovante ") == [ticket.protocol]


def test_a_registration_is_found_at_once_by_its_files_and_new_contacts(db, make_user):
    """The row of a ticket the flush inserted is built from the objects in memory: its files,
    the contact added in the same transaction (without its collection) and the customer."""
    import io

    from werkzeug.datastructures import FileStorage

    from helpdesk.customers.models import CustomerPhone
    from helpdesk.customers.services import create_customer
    from helpdesk.tickets.services import register_ticket

    agent = make_user("agent")
    customer = create_customer(name="Otávio Brandão", email="otavio@example.com")
    db.session.flush()
    db.session.add(CustomerPhone(customer_id=customer.id, number="+5531988776655"))
    ticket = register_ticket(
        actor=None,
        customer=customer,
        channel="web",
        kind="complaint",
        subject="Boleto pago em dobro",
        description="Paguei duas vezes.",
        attachments=[FileStorage(io.BytesIO(b"x"), filename="extrato-bancario.pdf")],
    )
    db.session.commit()
    for typed in ("extrato ", "(31) 98877-6655", "otavio@example.com", "brandao ", "dobro "):
        assert _staff(agent, typed) == [ticket.protocol], typed
    assert _mine(customer, "extrato ") == [ticket.protocol]


def test_a_file_of_an_internal_note_is_internal(db, world):
    import io

    from werkzeug.datastructures import FileStorage

    agent, customer, ticket, _ = world
    add_message(
        ticket,
        actor=agent,
        body="Anexo interno.",
        internal=True,
        attachments=[FileStorage(io.BytesIO(b"x"), filename="parecer-juridico.txt")],
    )
    db.session.commit()
    assert _staff(agent, "parecer ") == [ticket.protocol]
    assert _mine(customer, "parecer ") == []
