"""Bulk changes: each ticket through the ticket services (one event per change), refusals with
their reason (another department, an impossible status), the bound, the API and the console."""

from __future__ import annotations

import sqlalchemy as sa

from tests import test_api_support as support
from tests.test_api_support import API, assert_problem, headers

cast = support.cast
token_for = support.token_for


def _actions(db, ticket) -> list[str]:
    from helpdesk.tickets.models import TicketEvent

    return list(
        db.session.scalars(
            sa.select(TicketEvent.action)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.id)
        )
    )


def test_api_bulk_summary_with_refusals(client, db, cast, make_ticket):
    from helpdesk.tickets.services import change_status
    from tests.conftest import customer_of

    second = support.move_ticket(
        db, make_ticket(customer=customer_of(cast.customer_a)), cast.dept_x
    )
    change_status(second, cast.agent_x, "resolved", notify_customer=False)
    db.session.commit()
    before_a, before_second = len(_actions(db, cast.ticket_a)), len(_actions(db, second))
    response = client.post(
        f"{API}/tickets/bulk",
        json={
            "protocols": [cast.ticket_a.protocol, cast.ticket_b.protocol, second.protocol],
            "changes": {"status": "pending_customer", "priority": "urgent", "add_tags": ["lote"]},
        },
        headers=headers(cast, "agent_x"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["changed"] == [cast.ticket_a.protocol]
    refused = {r["protocol"]: r["reason"] for r in body["refused"]}
    assert set(refused) == {cast.ticket_b.protocol, second.protocol}  # foreign; resolved→pending
    assert "not possible" in refused[second.protocol]
    db.session.expire_all()
    assert _actions(db, cast.ticket_a)[before_a:] == ["priority", "tagged", "status"]
    assert len(_actions(db, second)) == before_second  # rolled back alone, nothing half-done
    assert db.session.get(type(second), second.id).priority != 4


def test_api_bulk_by_filter_and_bound(client, db, cast, monkeypatch):
    from helpdesk.bulk import services

    hdrs = headers(cast, "admin")
    response = client.post(
        f"{API}/tickets/bulk",
        json={"filter": {"department": "Department Y"}, "changes": {"add_tags": ["y"]}},
        headers=hdrs,
    )
    assert response.get_json()["changed"] == [cast.ticket_b.protocol]
    monkeypatch.setattr(services, "MAX_TICKETS", 1)
    monkeypatch.setattr("helpdesk.api.macros.MAX_TICKETS", 1)
    too_many = client.post(
        f"{API}/tickets/bulk", json={"filter": {}, "changes": {"priority": "low"}}, headers=hdrs
    )
    assert_problem(too_many, 400, "/problems/too-many-tickets")
    nothing = client.post(
        f"{API}/tickets/bulk",
        json={"protocols": [cast.ticket_b.protocol], "changes": {}},
        headers=hdrs,
    )
    assert_problem(nothing, 400)


def test_bulk_applies_a_macro_and_links_an_investigation(db, cast, make_ticket):
    from helpdesk.bulk.services import BulkChanges, bulk_update
    from helpdesk.investigations.operations import open_investigation
    from helpdesk.macros.services import MacroValues, create_macro
    from tests.conftest import customer_of

    other = support.move_ticket(db, make_ticket(customer=customer_of(cast.customer_a)), cast.dept_x)
    macro = create_macro(
        cast.admin,
        MacroValues(name="Aviso", scope="global", body_pt_br="Olá {{ customer.first_name }}"),
    )
    inv = open_investigation(by=cast.supervisor, title="Boletos")
    db.session.commit()
    result = bulk_update(
        [cast.ticket_a.id, other.id],
        BulkChanges(macro_id=macro.id, investigation=inv.number),
        cast.supervisor,
    )
    db.session.commit()
    assert sorted(result.changed) == sorted([cast.ticket_a.protocol, other.protocol])
    from helpdesk.investigations.queries import link_of
    from helpdesk.notifications.models import OutboxMessage

    answers = db.session.scalars(
        sa.select(OutboxMessage.body_text).where(
            OutboxMessage.kind == "answer",
            OutboxMessage.ticket_id.in_([cast.ticket_a.id, other.id]),
        )
    ).all()
    assert len(answers) == 2 and all("Olá Ana" in text for text in answers)
    assert link_of(other).investigation_id == inv.id


def test_console_bulk_flow(client, db, auth, make_user, make_ticket, default_department):
    agent = make_user("agent")
    tickets = [make_ticket() for _ in range(3)]
    auth.login(agent)
    page = client.get("/console/?queue=department").get_data(as_text=True)
    assert 'name="ticket"' in page and "bulk-bar" in page
    response = client.post(
        "/console/tickets/bulk",
        data={"ticket": [str(t.id) for t in tickets[:2]], "priority": "high", "add_tags": "lote 1"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "2 changed" in text
    db.session.expire_all()
    assert [t.name for t in db.session.get(type(tickets[0]), tickets[0].id).tags] == ["lote 1"]
    queue = client.get("/console/?queue=department&tag=lote 1").get_data(as_text=True)
    assert tickets[0].protocol in queue and tickets[2].protocol not in queue
