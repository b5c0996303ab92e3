"""Demo rows of the phone and chat channels: an integration account, a few calls (one in a
demand's thread), a WhatsApp conversation with its demand, and an inactive webhook."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ..accounts.models import User
from ..accounts.services import create_user
from ..channels.calls import link_call, record_call_event
from ..channels.conversations import receive_message
from ..channels.models import ContactHandle, Conversation
from ..core.clock import now
from ..customers.services import add_contacts
from ..extensions import db
from ..notifications.models import OutboxMessage
from ..tickets.models import OPEN_STATUSES, Ticket
from ..tickets.services import add_message
from ..webhooks.models import EVENTS, WebhookSubscription
from ..webhooks.services import new_secret

AGENT = "agente@demo.sac"
PBX = "pbx@demo.sac"
CONNECTOR = "conector@demo.sac"


def load_channels(demo_customer) -> str:
    agent = db.session.scalar(sa.select(User).where(User.email == AGENT))
    pbx = create_user(email=PBX, name="PABX 0800", role="integration", password=None)
    connector = create_user(
        email=CONNECTOR, name="Conector WhatsApp", role="integration", password=None
    )
    at = now() - timedelta(hours=3)

    # a call from the demo customer, linked to their latest open demand, 4 min 12 s, recorded
    ticket = db.session.scalar(
        sa.select(Ticket)
        .where(
            Ticket.customer_id == demo_customer.id,
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.department_id.in_(agent.department_ids),
        )
        .order_by(Ticket.created_at.desc())
        .limit(1)
    )
    common = {"provider": "demo-pbx", "caller": demo_customer.primary_phone, "agent": agent}
    call, _ = record_call_event(call_id="demo-1001", event="ringing", at=at, **common)
    record_call_event(call_id="demo-1001", event="answered", at=at + timedelta(seconds=9), **common)
    record_call_event(
        call_id="demo-1001",
        event="hung_up",
        at=at + timedelta(seconds=261),
        recording_ref="gravacoes/2025/demo-1001.wav",
        **common,
    )
    if ticket is not None:
        link_call(call, ticket, agent)
    # a missed call from an unknown number, and an answered one not linked to any demand
    record_call_event(
        provider="demo-pbx",
        call_id="demo-1002",
        event="hung_up",
        caller="+5521998761234",
        called="08007771234",
        at=at + timedelta(minutes=30),
    )
    record_call_event(
        provider="demo-pbx",
        call_id="demo-1003",
        event="answered",
        caller="+5531987650000",
        agent=agent,
        at=at + timedelta(minutes=40),
    )
    record_call_event(
        provider="demo-pbx", call_id="demo-1003", event="hung_up", at=at + timedelta(minutes=42)
    )

    # a WhatsApp conversation on one of the demo's WhatsApp demands: a follow-up, an answer
    wa_ticket = db.session.scalar(
        sa.select(Ticket)
        .join(Ticket.customer)
        .where(Ticket.channel == "whatsapp", Ticket.status.in_(OPEN_STATUSES))
        .order_by(Ticket.created_at.desc())
        .limit(1)
    )
    if wa_ticket is not None:
        customer = wa_ticket.customer
        handle = customer.primary_phone or "+5511912345678"
        if not customer.primary_phone:
            add_contacts(customer, phone=handle)
        db.session.add(ContactHandle(channel="whatsapp", handle=handle, customer_id=customer.id))
        db.session.add(
            Conversation(
                channel="whatsapp",
                external_id=f"wa-demo-{handle.lstrip('+')}",
                contact_handle=handle,
                customer_id=customer.id,
                ticket_id=wa_ticket.id,
            )
        )
        db.session.flush()
        receive_message(
            actor=connector,
            channel="whatsapp",
            external_id=f"wa-demo-{handle.lstrip('+')}",
            contact=handle,
            text="Consegue verificar, por favor? Mandei foto do comprovante por aqui.",
        )
        add_message(
            wa_ticket,
            agent,
            "Oi! Já verifiquei e abrimos uma ocorrência; retorno em até 24 h por aqui.",
            channel="whatsapp",
        )

    db.session.add(
        WebhookSubscription(
            url="https://hooks.example.com/sac/whatsapp",
            description="Conector WhatsApp (exemplo, inativo)",
            events=list(EVENTS),
            secret=new_secret(),
            active=False,
        )
    )
    db.session.flush()
    # like the rest of the demo: its emails count as sent (running the app sends nothing old)
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == "pending")
        .values(status="sent", sent_at=now())
    )
    return f"{pbx.email} and {connector.email} (integration), 3 calls, 1 WhatsApp conversation"
