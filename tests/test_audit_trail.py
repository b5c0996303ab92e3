"""The tamper-evident trail: every ticket's events form one hash chain that `audit verify` checks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from helpdesk.core.hashchain import GENESIS
from helpdesk.tickets import trail
from helpdesk.tickets.events import event_row, record_event, record_events
from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.services import change_status


def _verify(db):
    db.session.flush()
    return trail.verify_events(db.session.connection())


def _events(db, ticket):
    return db.session.scalars(
        sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    ).all()


def test_events_are_chained_in_order_and_verify(db, make_ticket, make_user):
    agent = make_user(role="agent")
    ticket = make_ticket()
    change_status(ticket, actor=agent, status="open")
    record_event(ticket, agent, "note", detail="first")
    record_event(ticket, agent, "note", detail="second")  # two in one flush
    db.session.commit()
    events = _events(db, ticket)
    assert len(events) >= 4
    prev = None
    for event in events:
        assert event.chain_hash == trail.event_hash(event, prev)
        prev = event.chain_hash
    assert trail.final_hash(ticket.id) == events[-1].chain_hash
    checked, broken = _verify(db)
    assert checked >= len(events) and broken == []


def test_a_row_changed_in_the_database_is_named_with_its_ticket(db, make_ticket, make_user):
    agent = make_user(role="agent")
    ticket, other = make_ticket(), make_ticket()
    change_status(ticket, actor=agent, status="open")
    change_status(ticket, actor=agent, status="resolved")
    db.session.commit()
    events = _events(db, ticket)
    target = events[1]
    db.session.execute(
        sa.text("UPDATE ticket_events SET new_value = 'closed' WHERE id = :id"), {"id": target.id}
    )
    checked, broken = _verify(db)
    assert [(b.protocol, b.event_id, b.reason) for b in broken] == [
        (ticket.protocol, target.id, "altered")
    ]
    assert other.protocol not in {b.protocol for b in broken}


def test_a_deleted_row_breaks_the_chain_at_the_next_one(db, make_ticket, make_user):
    agent = make_user(role="agent")
    ticket = make_ticket()
    change_status(ticket, actor=agent, status="open")
    change_status(ticket, actor=agent, status="resolved")
    db.session.commit()
    events = _events(db, ticket)
    db.session.execute(sa.text("DELETE FROM ticket_events WHERE id = :id"), {"id": events[1].id})
    _, broken = _verify(db)
    assert [(b.event_id, b.reason) for b in broken] == [(events[2].id, "altered")]


def test_the_sweeps_bulk_events_continue_each_chain(db, make_ticket, make_user):
    tickets = [make_ticket() for _ in range(3)]
    at = datetime.now(UTC)
    rows = [event_row(t.id, "sla_breached", at, field="first_response") for t in tickets]
    rows += [event_row(t.id, "escalated", at, field="level", old=0, new=2) for t in tickets]
    assert record_events(rows) == 6
    db.session.commit()
    for ticket in tickets:
        events = _events(db, ticket)
        assert [e.action for e in events][-2:] == ["sla_breached", "escalated"]
        assert events[-2].chain_hash == trail.event_hash(events[-2], events[-3].chain_hash)
    assert _verify(db)[1] == []


def test_anonymised_text_still_verifies_once_its_digest_is_frozen(db, make_ticket, make_user):
    agent = make_user(role="agent", name="Maria Silva")
    ticket = make_ticket()
    record_event(ticket, agent, "assigned", field="assignee", new="Maria Silva", detail="call her")
    db.session.commit()
    assert trail.freeze_text_digests([ticket.id]) >= 1
    db.session.execute(
        sa.update(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .values(new_value="[removed]", detail="[removed]")
    )
    assert _verify(db)[1] == []
    # but a frozen digest does not let the rest of the row change unseen
    db.session.execute(
        sa.update(TicketEvent).where(TicketEvent.ticket_id == ticket.id).values(action="x")
    )
    assert _verify(db)[1][0].protocol == ticket.protocol


def test_seal_computes_the_chain_of_rows_without_one(db, make_ticket, make_user):
    ticket = make_ticket()
    record_event(ticket, None, "note", detail="one")
    db.session.commit()
    db.session.execute(sa.update(TicketEvent).values(chain_hash=None))
    _, broken = _verify(db)
    assert broken and broken[0].reason == "unsealed"
    assert trail.seal_events(db.session.connection()) >= 2
    assert _verify(db)[1] == []
    assert _events(db, ticket)[0].chain_hash != GENESIS


@pytest.mark.commits
def test_audit_verify_command_passes_then_names_the_edited_ticket(app, db, make_ticket, make_user):
    agent = make_user(role="agent")
    ticket = make_ticket()
    change_status(ticket, actor=agent, status="open")
    db.session.commit()
    event_id = _events(db, ticket)[0].id
    protocol = ticket.protocol
    db.session.rollback()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE ticket_events SET detail = 'edited' WHERE id = :id"), {"id": event_id}
        )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"ticket {protocol}" in result.output and f"event {event_id}" in result.output


@pytest.mark.commits
@pytest.mark.postgres_only
def test_concurrent_events_on_one_ticket_keep_one_chain(app, db, make_ticket):
    ticket_id = make_ticket().id
    db.session.commit()
    db.session.rollback()
    start, errors = threading.Barrier(4), []

    def add(n):
        try:
            with app.app_context():
                from helpdesk.extensions import db as _db

                start.wait(10)
                for i in range(5):
                    ticket = _db.session.get(Ticket, ticket_id)
                    record_event(ticket, None, "note", detail=f"thread {n} event {i}")
                    _db.session.commit()
                _db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with db.engine.connect() as conn:
        checked, broken = trail.verify_events(conn)
        hashes = (
            conn.execute(
                sa.select(TicketEvent.chain_hash).where(TicketEvent.ticket_id == ticket_id)
            )
            .scalars()
            .all()
        )
    assert broken == []
    assert len(hashes) >= 21 and len(set(hashes)) == len(hashes)


def test_the_history_document_carries_each_final_hash_and_the_cli_checks_it(
    app, db, make_user, make_ticket
):
    import io

    from pypdf import PdfReader

    from helpdesk.compliance.history import fulfil_history, request_history
    from helpdesk.compliance.models import DataRequest
    from helpdesk.sla.policies import ensure_default_policy
    from tests.conftest import customer_of

    ensure_default_policy()
    agent = make_user(role="agent")
    user = make_user(role="customer")
    customer = customer_of(user)
    ticket = make_ticket(customer=customer)
    change_status(ticket, actor=agent, status="open")
    db.session.commit()
    printed = trail.final_hash(ticket.id)
    assert printed
    row = request_history(customer, actor=agent, channel="phone")
    fulfil_history(row, actor=agent)
    db.session.commit()
    row = db.session.get(DataRequest, row.id)
    assert printed in row.document_html
    pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(row.document_pdf)).pages)
    assert printed in "".join(pdf.split())
    protocol = ticket.protocol

    # later events do not invalidate the printed hash: it is still a link of the chain
    change_status(db.session.get(Ticket, ticket.id), actor=agent, status="pending_customer")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify", "--ticket", protocol, "--hash", printed])
    assert result.exit_code == 0, result.output
    assert "OK: the printed hash" in result.output
    assert "; 0 event(s) recorded after it" not in result.output  # the new events follow it
    wrong = runner.invoke(args=["audit", "verify", "--ticket", protocol, "--hash", "ab" * 32])
    assert wrong.exit_code == 1 and "NOT FOUND" in wrong.output

    first = _events(db, ticket)[0].id
    db.session.execute(
        sa.text("UPDATE ticket_events SET detail = 'edited' WHERE id = :id"), {"id": first}
    )
    db.session.commit()
    result = runner.invoke(args=["audit", "verify", "--ticket", protocol, "--hash", printed])
    assert result.exit_code == 1 and f"event {first}" in result.output


def test_new_events_on_an_unsealed_chain_seal_it_first(db, make_ticket):
    """A bulk loader's rows have no link; the next event written (ORM or the sweep's batch)
    seals the ticket's chain first, so no later --seal is needed and nothing forks."""
    ticket = make_ticket()
    other = make_ticket()
    record_event(ticket, None, "note", detail="one")
    db.session.commit()
    db.session.execute(sa.update(TicketEvent).values(chain_hash=None))
    db.session.commit()
    record_event(db.session.get(Ticket, ticket.id), None, "note", detail="two")
    record_events([event_row(other.id, "note", datetime.now(UTC), detail="bulk")])
    db.session.commit()
    assert _verify(db)[1] == []
    assert all(e.chain_hash for e in _events(db, ticket) + _events(db, other))


def test_anonymising_a_customer_replaces_the_events_free_text_and_the_chain_verifies(
    db, make_user, make_ticket
):
    from helpdesk.compliance.anonymise import anonymise_customer
    from helpdesk.compliance.registry import ANON_TEXT
    from tests.conftest import customer_of

    user = make_user(role="customer", name="Rosa Lima")
    customer = customer_of(user)
    ticket = make_ticket(customer=customer)
    record_event(ticket, user, "verdict", new="resolved", detail="Obrigada, Rosa Lima aqui")
    change_status(ticket, actor=None, status="open")
    db.session.commit()
    before = {e.id: (e.action, e.old_value, e.new_value) for e in _events(db, ticket)}

    anonymise_customer(customer)
    db.session.commit()
    events = _events(db, ticket)
    verdict = next(e for e in events if e.action == "verdict")
    assert verdict.detail == ANON_TEXT and verdict.text_digest
    assert all("Rosa" not in (e.detail or "") for e in events)
    # the codes the reports read are kept
    assert {e.id: (e.action, e.old_value, e.new_value) for e in events} == before
    assert _verify(db)[1] == []
