"""Demo email: an inactive mailbox pointing at 127.0.0.1 and a few demands that arrived by email
through the real ingest service — one whose thread has a customer reply with its quoted history
stripped (the original is one click away), one in Spanish sent as HTML only."""

from __future__ import annotations

import sqlalchemy as sa

from ..core.clock import now
from ..extensions import db
from ..notifications.models import OutboxMessage
from .services import create_mailbox, ingest


def _first(name: str, sender: str, subject: str, body: str, mid: str) -> bytes:
    return (
        f"From: {name} <{sender}>\r\nTo: SAC <sac@example.com>\r\nSubject: {subject}\r\n"
        f"Message-ID: {mid}\r\nDate: {now():%a, %d %b %Y %H:%M:%S +0000}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    ).encode()


def load_mail_demo(department=None) -> int:
    """Create the demo mailbox and email demands; flush only. Returns the demands created."""
    box = create_mailbox(
        name="sac-demo",
        host="127.0.0.1",
        port=143,
        tls_mode="none",
        folder="INBOX",
        username="sac@example.com",
        password="env:HELPDESK_DEMO_IMAP_PASSWORD",  # noqa: S106 - a reference, not a secret
        department_id=department.id if department is not None else None,
        active=False,
    )
    first = ingest(
        _first(
            "Renata Campos",
            "renata.campos@example.com",
            "Cobrança em dobro no cartão",
            "Olá,\n\nA assinatura de novembro foi cobrada duas vezes no meu cartão (R$ 59,90 cada)."
            "\nPeço o estorno de uma delas.\n\nRenata\nEnviado do meu iPhone",
            "<demo-renata-1@example.com>",
        ),
        box,
    ).row
    db.session.flush()
    ack = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.ticket_id == first.ticket_id)
    )
    reply = (
        "Ainda não vi o estorno na fatura, podem confirmar a data?\n\nRenata\n\n"
        f"Em {now():%d/%m/%Y}, SAC <sac@example.com> escreveu:\n"
        "> Olá Renata,\n> registramos sua demanda e responderemos em breve.\n"
    )
    ingest(
        (
            f"From: Renata Campos <renata.campos@example.com>\r\nTo: SAC <sac@example.com>\r\n"
            f"Subject: Re: {ack.subject}\r\nMessage-ID: <demo-renata-2@example.com>\r\n"
            f"In-Reply-To: {ack.message_id}\r\nReferences: {ack.message_id}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\n{reply}"
        ).encode(),
        box,
    )
    ingest(
        (
            "From: =?utf-8?q?Mart=C3=ADn_L=C3=B3pez?= <martin.lopez@example.com>\r\n"
            "To: sac@example.com\r\nSubject: =?utf-8?q?Env=C3=ADo_retrasado?=\r\n"
            "Message-ID: <demo-martin-1@example.com>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "<html><body><p>Hola,</p><p>Mi pedido <b>8841</b> lleva 12 días sin moverse.</p>"
            "<p>Saludos,<br>Martín</p><div>-- <br>Enviado desde mi Android</div></body></html>"
        ).encode(),
        box,
    )
    db.session.flush()
    # like the rest of the demo: its notifications count as sent (none leaves the machine)
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == "pending")
        .values(status="sent", sent_at=now())
    )
    return 2
