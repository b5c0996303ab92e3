"""Chat/WhatsApp/social connectors: create or continue a conversation, the same person found
again, Idempotency-Key replays, closed demands, validation and the permission matrix."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from helpdesk.channels.models import ContactHandle, Conversation
from helpdesk.customers.models import Customer, CustomerPhone
from helpdesk.tickets.models import Message, Ticket

API = "/api/v1"


def bearer(token, **extra):
    return {"Authorization": f"Bearer {token}", **extra}


@pytest.fixture
def connector(db, make_user):
    from helpdesk.accounts.services import issue_api_token

    user = make_user("integration", password=None, name="WhatsApp connector")
    token = issue_api_token(user, "wa")
    db.session.commit()
    return token


def send(client, token, key=None, **payload):
    headers = bearer(token, **({"Idempotency-Key": key} if key else {}))
    return client.post(f"{API}/conversations", json=payload, headers=headers)


def wa(conversation="wa-1", contact="+55 11 98765-4321", text="Minha internet caiu.", **kw):
    return {
        "channel": "whatsapp",
        "conversation_id": conversation,
        "contact": contact,
        "text": text,
        **kw,
    }


def count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_new_conversation_registers_a_demand_then_continues_it(client, db, connector):
    r = send(client, connector, **wa(name="Maria Silva"))
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    protocol = body["protocol"]
    assert body["message_id"] is None and body["customer"]["name"] == "Maria Silva"
    assert body["conversation"]["contact"] == "+5511987654321"
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.protocol == protocol))
    assert ticket.channel == "whatsapp" and ticket.description == "Minha internet caiu."
    assert ticket.subject == "Minha internet caiu."

    r = send(client, connector, **wa(text="Já reiniciei o modem."))
    assert r.status_code == 200 and r.get_json()["protocol"] == protocol
    db.session.expire_all()
    messages = db.session.scalars(sa.select(Message).where(Message.ticket_id == ticket.id)).all()
    assert [(m.author_kind, m.channel, m.body) for m in messages] == [
        ("customer", "whatsapp", "Já reiniciei o modem.")
    ]
    assert messages[0].author_name == "Maria Silva"
    assert count(db, Ticket) == 1 and count(db, Conversation) == 1


def test_same_whatsapp_number_finds_the_same_customer(client, db, connector, make_customer):
    known = make_customer(name="Carla", phone="(11) 98765-4321")
    first = send(client, connector, **wa(conversation="wa-a", contact="5511987654321"))
    second = send(client, connector, **wa(conversation="wa-b", contact="+55 (11) 98765-4321"))
    assert first.status_code == second.status_code == 201
    assert first.get_json()["customer"]["id"] == known.id == second.get_json()["customer"]["id"]
    assert first.get_json()["protocol"] != second.get_json()["protocol"]  # two conversations
    assert count(db, Customer) == 1 and count(db, CustomerPhone) == 1


def test_other_handles_are_remembered_per_channel(client, db, connector):
    a = send(
        client,
        connector,
        channel="instagram",
        conversation_id="ig-1",
        contact="@Maria.Souza",
        text="Oi",
    )
    b = send(
        client,
        connector,
        channel="instagram",
        conversation_id="ig-2",
        contact="maria.souza",
        text="Oi de novo",
    )
    assert a.status_code == b.status_code == 201
    assert a.get_json()["customer"]["id"] == b.get_json()["customer"]["id"]
    handle = db.session.scalar(sa.select(ContactHandle))
    assert (handle.channel, handle.handle) == ("instagram", "maria.souza")
    # the same name on another channel is another person until told otherwise
    c = send(
        client,
        connector,
        channel="facebook",
        conversation_id="fb-1",
        contact="maria.souza",
        text="Oi",
    )
    assert c.get_json()["customer"]["id"] != a.get_json()["customer"]["id"]


def test_resolved_demand_reopens_and_closed_one_starts_a_new_demand(client, db, connector):
    from helpdesk.tickets.services import change_status

    protocol = send(client, connector, **wa()).get_json()["protocol"]
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.protocol == protocol))
    change_status(ticket, None, "resolved", notify_customer=False)
    db.session.commit()
    r = send(client, connector, **wa(text="Voltou a cair."))
    assert r.status_code == 200 and r.get_json()["status"] == "reopened"
    change_status(ticket, None, "closed")
    db.session.commit()
    r = send(client, connector, **wa(text="Caiu outra vez, semanas depois."))
    assert r.status_code == 201 and r.get_json()["protocol"] != protocol
    db.session.expire_all()
    conversation = db.session.scalar(sa.select(Conversation))
    assert conversation.ticket.protocol == r.get_json()["protocol"]


def test_idempotency_key_replays_and_conflicts(client, db, connector):
    first = send(client, connector, key="msg-1", **wa())
    again = send(client, connector, key="msg-1", **wa())
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["protocol"] == first.get_json()["protocol"]
    follow = send(client, connector, key="msg-2", **wa(text="Segunda mensagem"))
    replay = send(client, connector, key="msg-2", **wa(text="Segunda mensagem"))
    assert follow.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert count(db, Ticket) == 1 and count(db, Message) == 1
    conflict = send(client, connector, key="msg-1", **wa(text="Outro texto"))
    assert conflict.status_code == 409
    assert conflict.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "payload, status, field",
    [
        (wa(contact="123"), 400, "contact"),
        (wa(text="   "), 400, "text"),
        (wa(conversation=""), 400, "conversation_id"),
        ({**wa(), "channel": "pigeon"}, 422, "channel"),
        ({**wa(), "kind": "praise"}, 422, "kind"),
        ({**wa(), "text": 5}, 422, "text"),
        (wa(text="x" * 20001), 400, "text"),
    ],
)
def test_bad_messages_are_refused(client, db, connector, payload, status, field):
    r = send(client, connector, **payload)
    assert r.status_code == status, r.get_data(as_text=True)
    assert field in r.get_json()["errors"]
    assert count(db, Ticket) == 0


@pytest.mark.parametrize(
    "role, status",
    [
        (None, 401),
        ("customer", 403),
        ("agent", 403),
        ("supervisor", 403),
        ("admin", 201),
        ("integration", 201),
    ],
)
def test_conversations_permission_matrix(client, db, make_user, role, status):
    from helpdesk.accounts.services import issue_api_token

    headers = {}
    if role:
        headers = bearer(issue_api_token(make_user(role, password=None), "t"))
        db.session.commit()
    r = client.post(f"{API}/conversations", json=wa(), headers=headers)
    assert r.status_code == status
    assert client.get(f"{API}/conversations", headers=headers).status_code == 405


def test_integration_token_reads_no_ticket_and_registers_none(client, db, connector, make_ticket):
    ticket = make_ticket()
    headers = bearer(connector)
    assert client.get(f"{API}/tickets", headers=headers).get_json()["items"] == []
    assert client.get(f"{API}/tickets/{ticket.protocol}", headers=headers).status_code == 404
    r = client.post(
        f"{API}/tickets",
        json={"kind": "request", "subject": "x", "customer": {"email": "a@example.com"}},
        headers=headers,
    )
    assert r.status_code == 403
    assert client.get(f"{API}/customers?phone=11987654321", headers=headers).status_code == 403


def test_integration_account_cannot_sign_in_or_open_the_console(client, app, db, make_user):
    from helpdesk.accounts.services import authenticate

    user = make_user("integration", password=None)
    assert authenticate(user.email, "") is None
    from .conftest import session_cookie_id
    from .test_console_support import login_as

    with client.session_transaction() as session:
        session["_user_id"] = session_cookie_id(user)
        session["_fresh"] = True
    assert client.get("/console/").status_code == 403
    assert client.get("/admin/").status_code == 403
    login_as(client, app, None)
