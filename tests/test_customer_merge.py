"""Merging two customer records found to be the same person: a supervisor finds the duplicate
by email or CPF, confirms, and its demands, contacts, calls, conversations, surveys and history
move to the kept record in one transaction; the duplicate is kept, marked merged; audited."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from helpdesk.channels.models import Call, Conversation
from helpdesk.core.errors import DomainError
from helpdesk.customers.merge import merge_customers
from helpdesk.customers.models import Customer, CustomerEmail, CustomerEvent, CustomerPhone
from helpdesk.customers.profile import update_profile
from helpdesk.search.models import SearchDocument
from helpdesk.surveys.models import Survey
from helpdesk.tickets.models import Ticket, TicketEvent
from tests.conftest import csrf_from

CPF = "52998224725"


def _pair(db, make_customer, make_ticket, make_user):
    kept = make_customer(name="Maria Souza", email="maria@example.com")
    dup = make_customer(
        name="Maria S.", email="maria.s@example.com", phone="11987654321", document=CPF
    )
    agent = make_user("agent")
    update_profile(dup, agent, {"value_tier": "high", "customer_notes": "Prefere WhatsApp"})
    ticket = make_ticket(customer=dup, subject="Cobrança em dobro")
    db.session.add_all(
        [
            Call(call_id="m-1", customer_id=dup.id, ticket_id=ticket.id),
            Conversation(
                channel="whatsapp",
                external_id="m-w",
                contact_handle="+5511987654321",
                customer_id=dup.id,
            ),
            Survey(ticket_id=ticket.id, customer_id=dup.id, status="sent"),
        ]
    )
    db.session.commit()
    return kept, dup, ticket


def _count(db, model, customer_id) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(model).where(model.customer_id == customer_id)
    )


def test_supervisor_finds_and_merges_a_duplicate(
    db, client, auth, make_user, make_customer, make_ticket
):
    supervisor = make_user("supervisor")
    kept, dup, ticket = _pair(db, make_customer, make_ticket, make_user)
    auth.login(supervisor)
    page = client.get(f"/console/customers/{kept.id}").get_data(as_text=True)
    assert f'href="/console/customers/{kept.id}/merge"' in page

    url = f"/console/customers/{kept.id}/merge"
    found = client.get(url, query_string={"q": "529.982.247-25"}).get_data(as_text=True)
    assert "Maria S." in found and 'name="duplicate_id"' in found
    assert 'for="merge-q"' in found  # the search field is labelled
    by_email = client.get(url, query_string={"q": "MARIA.S@example.com"}).get_data(as_text=True)
    assert "Maria S." in by_email
    itself = client.get(url, query_string={"q": "maria@example.com"}).get_data(as_text=True)
    assert "No other record has this email or document." in itself
    bad = client.get(url, query_string={"q": "123"})
    assert bad.status_code == 422 and "not valid" in bad.get_data(as_text=True)

    token = csrf_from(client, url)
    unconfirmed = client.post(url, data={"csrf_token": token, "duplicate_id": str(dup.id)})
    assert unconfirmed.status_code == 422
    assert "Please confirm first." in unconfirmed.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).customer_id == dup.id  # nothing moved

    response = client.post(
        url, data={"csrf_token": token, "duplicate_id": str(dup.id), "confirm": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    kept, dup = db.session.get(Customer, kept.id), db.session.get(Customer, dup.id)
    assert db.session.get(Ticket, ticket.id).customer_id == kept.id
    for model in (Ticket, CustomerEmail, CustomerPhone, Call, Conversation, Survey):
        assert _count(db, model, dup.id) == 0, model
    assert {e.email for e in kept.emails} == {"maria@example.com", "maria.s@example.com"}
    assert [p.number for p in kept.phones] == ["+5511987654321"]
    assert kept.document == CPF and dup.document is None
    assert kept.value_tier == "high" and "Prefere WhatsApp" in kept.customer_notes
    # the duplicate is kept, marked merged, and says so
    assert dup.merged_into_id == kept.id and dup.merged_at is not None
    dup_page = client.get(f"/console/customers/{dup.id}").get_data(as_text=True)
    from helpdesk.accounts.services import issue_api_token

    token = issue_api_token(db.session.merge(supervisor), "merge")
    db.session.commit()
    api = client.get(
        f"/api/v1/customers/{dup.id}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert api["merged_into_id"] == kept.id
    assert f'href="/console/customers/{kept.id}">Open the kept record' in dup_page
    # audited: the record's events moved, a merge event on each, one per moved demand
    kept_events = db.session.scalars(
        sa.select(CustomerEvent).where(CustomerEvent.customer_id == kept.id)
    ).all()
    assert {e.action for e in kept_events} == {"changed", "merged"}
    merged = next(e for e in kept_events if e.action == "merged")
    assert (merged.actor_id, merged.old_value) == (supervisor.id, "Maria S.")
    assert db.session.scalar(
        sa.select(CustomerEvent.action).where(CustomerEvent.customer_id == dup.id)
    ) == ("merged_into")
    event = db.session.scalar(
        sa.select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.action == "customer_merged"
        )
    )
    assert (event.old_value, event.new_value) == ("Maria S.", "Maria Souza")
    page = client.get(f"/console/customers/{kept.id}").get_data(as_text=True)
    assert "Cobrança em dobro" in page and "merged record “Maria S.” into this one" in page
    # the search index follows: the moved demand is found by the kept record's email too
    keys = db.session.scalar(
        sa.select(SearchDocument.keys).where(SearchDocument.ticket_id == ticket.id)
    )
    assert "maria@example.com" in keys


def test_merge_is_for_supervisors_and_refuses_what_cannot_be_merged(
    db, client, auth, make_user, make_customer, make_ticket
):
    kept, dup, ticket = _pair(db, make_customer, make_ticket, make_user)
    auth.login(make_user("agent"))
    url = f"/console/customers/{kept.id}/merge"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"duplicate_id": str(dup.id), "confirm": "y"}).status_code == 403
    page = client.get(f"/console/customers/{kept.id}").get_data(as_text=True)
    assert f"/console/customers/{kept.id}/merge" not in page
    auth.logout()

    auth.login(make_user("supervisor"))
    itself = client.post(url, data={"duplicate_id": str(kept.id), "confirm": "y"})
    assert itself.status_code == 400
    unknown = client.post(url, data={"duplicate_id": "99999999", "confirm": "y"})
    assert unknown.status_code == 404
    junk = client.post(url, data={"duplicate_id": "x' OR 1=1", "confirm": "y"})
    assert junk.status_code == 404
    assert client.post(url, data={"duplicate_id": str(dup.id), "confirm": "y"}).status_code == 302
    again = client.post(url, data={"duplicate_id": str(dup.id), "confirm": "y"})
    assert again.status_code == 409
    assert "already merged" in again.get_data(as_text=True)

    # two portal logins: refused, nothing moves
    a, b = make_user(role="customer"), make_user(role="customer")
    ca = db.session.scalar(sa.select(Customer).where(Customer.user_id == a.id))
    cb = db.session.scalar(sa.select(Customer).where(Customer.user_id == b.id))
    t = make_ticket(customer=cb)
    refused = client.post(
        f"/console/customers/{ca.id}/merge", data={"duplicate_id": str(cb.id), "confirm": "y"}
    )
    assert refused.status_code == 409
    db.session.expire_all()
    assert db.session.get(Ticket, t.id).customer_id == cb.id
    assert db.session.get(Customer, cb.id).merged_into_id is None


@pytest.mark.commits
def test_two_supervisors_merging_the_pair_both_ways_at_once_merge_it_once(
    app, db, make_user, make_customer, make_ticket
):
    supervisor = make_user("supervisor")
    a = make_customer(name="Registro A")
    b = make_customer(name="Registro B")
    make_ticket(customer=a)
    make_ticket(customer=b)
    ids = (a.id, b.id, supervisor.id)
    db.session.rollback()
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def merge(kept_id, duplicate_id):
        try:
            with app.app_context():
                from helpdesk.accounts.models import User
                from helpdesk.extensions import db as _db

                session = _db.session
                kept = session.get(Customer, kept_id)
                duplicate = session.get(Customer, duplicate_id)
                actor = session.get(User, ids[2])
                barrier.wait(10)
                try:
                    merge_customers(kept, duplicate, actor)
                    session.commit()
                    outcomes.append("merged")
                except DomainError:
                    session.rollback()
                    outcomes.append("refused")
                session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=merge, args=(ids[0], ids[1])),
        threading.Thread(target=merge, args=(ids[1], ids[0])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(outcomes) == ["merged", "refused"]
    db.session.expire_all()
    merged = [c for c in (db.session.get(Customer, ids[0]), db.session.get(Customer, ids[1]))]
    assert sorted(c.merged_into_id is None for c in merged) == [False, True]
    survivor = next(c for c in merged if c.merged_into_id is None)
    assert _count(db, Ticket, survivor.id) == 2
