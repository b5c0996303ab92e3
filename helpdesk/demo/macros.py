"""Demo tags and macros: what a Brazilian SAC's agents would have on their first day."""

from __future__ import annotations

import sqlalchemy as sa

from ..accounts.models import User
from ..extensions import db
from ..macros.services import MacroValues, create_macro
from ..tickets.tags import create_tag

TAGS = (
    ("boleto", "#2563eb"),
    ("segunda via", "#0891b2"),
    ("documentos", "#7c3aed"),
    ("procon", "#dc2626"),
    ("cliente vip", "#ca8a04"),
)

MACROS = (
    MacroValues(
        name="Segunda via de boleto",
        scope="global",
        body_pt_br=(
            "Olá, {{ customer.first_name }}!\n\nA segunda via do seu boleto foi enviada para o seu "
            "e-mail. Se preferir, ela também está disponível na área do cliente.\n\nProtocolo: "
            "{{ ticket.protocol }}\n\nAtenciosamente,\n{{ agent.name }}"
        ),
        body_es=(
            "¡Hola, {{ customer.first_name }}!\n\nLe enviamos la segunda copia de su boleta por "
            "correo. También está disponible en el área de clientes.\n\nProtocolo: "
            "{{ ticket.protocol }}\n\nSaludos cordiales,\n{{ agent.name }}"
        ),
        actions={"status": "pending_customer", "tags": ["boleto", "segunda via"]},
    ),
    MacroValues(
        name="Pedido de documentos",
        scope="global",
        body_pt_br=(
            "Olá, {{ customer.first_name }}.\n\nPara darmos andamento à sua demanda "
            "“{{ ticket.subject }}”, precisamos de uma cópia do RG ou CNH e de um comprovante de "
            "residência recente. Basta responder a este e-mail com os arquivos.\n\n"
            "{{ agent.name }}"
        ),
        body_es=(
            "Hola, {{ customer.first_name }}.\n\nPara avanzar con su solicitud "
            "“{{ ticket.subject }}”, necesitamos una copia de su documento de identidad y un "
            "comprobante de domicilio reciente. Responda a este correo con los archivos.\n\n"
            "{{ agent.name }}"
        ),
        actions={"status": "pending_customer", "tags": ["documentos"]},
    ),
    MacroValues(
        name="Encerramento após solução",
        scope="global",
        body_pt_br=(
            "Olá, {{ customer.first_name }}!\n\nSua demanda (protocolo {{ ticket.protocol }}) foi "
            "resolvida. Se algo não estiver certo, é só responder a este e-mail e ela será "
            "reaberta.\n\nObrigado pelo contato,\n{{ agent.name }}"
        ),
        body_es=(
            "¡Hola, {{ customer.first_name }}!\n\nSu solicitud (protocolo {{ ticket.protocol }}) "
            "fue resuelta. Si algo no está bien, responda a este correo y la reabriremos.\n\n"
            "Gracias por contactarnos,\n{{ agent.name }}"
        ),
        actions={"status": "resolved"},
    ),
    MacroValues(
        name="Prazo de resposta",
        scope="global",
        body_pt_br=(
            "Olá, {{ customer.first_name }}. Recebemos sua demanda e vamos respondê-la até "
            "{{ sla.resolution_due }}. Protocolo: {{ ticket.protocol }}."
        ),
        body_es=(
            "Hola, {{ customer.first_name }}. Recibimos su solicitud y la responderemos antes "
            "del {{ sla.resolution_due }}. Protocolo: {{ ticket.protocol }}."
        ),
    ),
)


def load_macros(admin: User | None = None) -> str:
    admin = admin or db.session.scalar(sa.select(User).where(User.role == "admin").limit(1))
    for name, color in TAGS:
        create_tag(admin, name=name, color=color, curated=True)
    for values in MACROS:
        create_macro(admin, values)
    db.session.flush()
    return f"{len(TAGS)} tags, {len(MACROS)} macros"
