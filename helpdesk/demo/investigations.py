"""Demo investigations, played through the services after the tickets' timeline is in place:

- a closed one (delivery delays, root cause in the courier's routing) whose actions are done and
  whose effectiveness check is effective, with two demands linked after closing (recurrences);
- an open one in "acting" (double charges on the invoice) with an overdue action, an action on
  time, an agent's proposal waiting, and a containment shown to agents;
- one in "analysing" (a defective batch), so that the Pareto chart has several bars.

As in loader.py, each step runs on the day it happened (`core.clock.travel`): the closed one was
opened 50 days ago and closed 12 days ago, its recurrences came 6 and 2 days ago; the acting one
was opened 18 days ago, the analysing one 5 days ago. Nothing is rewritten afterwards.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..accounts.services import get_user_by_email
from ..core.clock import as_utc, now, travel
from ..extensions import db
from ..investigations import capa, dates, ishikawa, operations, whys
from ..investigations.models import (
    Investigation,
)
from ..tickets.models import Category, Ticket

SUBCATEGORIES = [
    ("method", "Roteirização da transportadora"),
    ("method", "Regras de faturamento"),
    ("machine", "Sistema de faturamento"),
    ("material", "Embalagem"),
    ("material", "Lote de fornecedor"),
    ("people", "Treinamento"),
    ("measurement", "Leitura de medidor"),
    ("environment", "Clima / chuvas"),
]

NOTICE = {
    "pt_BR": (
        "Olá {name}, sobre a sua demanda {protocol}: identificamos a causa dos atrasos nas "
        "entregas da região Sul (a rota da transportadora) e a corrigimos. Desde então os prazos "
        "voltaram ao normal. Obrigado pela paciência!"
    ),
    "es": (
        "Hola {name}, sobre su demanda {protocol}: encontramos la causa de los retrasos en las "
        "entregas de la región Sur (la ruta de la transportadora) y la corregimos. Gracias por "
        "su paciencia."
    ),
    "en": (
        "Hello {name}, about your demand {protocol}: we found the cause of the late deliveries "
        "in the South region (the courier's routing) and fixed it. Thank you for your patience."
    ),
}


def _tickets(category_key: str | None, names: tuple[str, ...], count: int, exclude: set[int]):
    stmt = sa.select(Ticket).where(Ticket.kind == "complaint").order_by(Ticket.created_at)
    if names:
        stmt = stmt.join(Category, Category.id == Ticket.category_id).where(
            Category.name.in_(names)
        )
    rows = [t for t in db.session.scalars(stmt) if t.id not in exclude]
    return rows[:count]


def _link(found: Investigation, ticket: Ticket, by, not_before) -> None:
    """Link `ticket` at `not_before`, or when it arrived if that is later (demo clock)."""
    with travel(max(not_before, as_utc(ticket.created_at) + timedelta(minutes=1))):
        operations.link_ticket(found, ticket, by=by)
        db.session.flush()


class _Timeline:
    """The demo clock of this module: each `at(when)` flushes what the previous step wrote and
    moves the clock to `when` (column defaults read the clock when rows are inserted)."""

    def __init__(self):
        self.start = now()
        self._stack = ExitStack()

    def days_ago(self, days: float) -> datetime:
        return self.start - timedelta(days=days)

    def at(self, when: datetime) -> None:
        db.session.flush()
        self._stack.close()
        self._stack = ExitStack()
        self._stack.enter_context(travel(when))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        db.session.flush()
        self._stack.close()


def load_investigations() -> str:
    with _Timeline() as clock:
        return _load(clock)


def _load(clock: _Timeline) -> str:
    admin = get_user_by_email("admin@demo.sac")
    supervisor = get_user_by_email("supervisora@demo.sac")
    agent = get_user_by_email("agente@demo.sac")
    if admin is None or supervisor is None or agent is None:
        return ""
    subs = {name: ishikawa.create_subcategory(cat, name) for cat, name in SUBCATEGORIES}
    used: set[int] = set()
    today = dates.today()

    # 1. closed, with recurrences ------------------------------------------------------------
    delivery = _tickets(None, ("Delivery delay",), 8, used) or _tickets(None, (), 8, used)
    if len(delivery) < 3:
        delivery = _tickets(None, (), 8, used)
    first, later = delivery[:-2], delivery[-2:]
    used |= {t.id for t in delivery}
    clock.at(clock.days_ago(50))
    closed = operations.open_investigation(
        by=supervisor,
        title="Atrasos nas entregas da região Sul",
        statement=(
            "Pedidos para a região Sul chegam com 5 a 10 dias de atraso; as reclamações de "
            "atraso triplicaram em um mês."
        ),
        location="Região Sul (RS, SC, PR)",
        since=today - timedelta(days=60),
        customers_affected=140,
        estimated_cost=18000,
        impact=3,
        urgency=3,
        keywords="atraso, entrega, transportadora, retraso",
        category=first[0].category_id,
        department=first[0].department_id,
        containment=(
            "Ofereça reenvio expresso sem custo e informe o novo prazo de 3 dias úteis. "
            "Não prometa data antes de consultar o rastreio."
        ),
    )
    for t in first:
        _link(closed, t, admin, clock.days_ago(49))
    clock.at(clock.days_ago(50) + timedelta(hours=2))
    for text in (
        "Por que os pedidos atrasam? Ficam parados no centro de distribuição de Curitiba.",
        "Por que ficam parados? A transportadora só coleta duas vezes por semana.",
        "Por que só duas coletas? A rota foi alterada no novo contrato.",
        "Por que a rota mudou? O contrato não previa volume mínimo de coletas.",
        "Por que não previa? O contrato não passou pela área de logística.",
    ):
        whys.add_why(closed, supervisor, text)
    operations.update_investigation(
        closed,
        supervisor,
        ishikawa="method",
        subcategory=subs["Roteirização da transportadora"],
        root_cause="Contrato novo da transportadora sem frequência mínima de coletas na região Sul.",
        evidence="Relatório de coletas de março: 8 coletas contra 22 em fevereiro.",
    )
    operations.change_status(closed, supervisor, "analysing")
    operations.change_status(closed, supervisor, "acting")
    clock.at(clock.days_ago(48))
    fix = capa.add_action(
        closed, supervisor, description="Aditivo ao contrato: coleta diária na região Sul",
        kind="corrective", owner=supervisor, due_on=today - timedelta(days=30),
    )  # fmt: skip
    prevent = capa.add_action(
        closed, supervisor, description="Contratos de logística passam por revisão da área",
        kind="preventive", owner=admin, due_on=today - timedelta(days=25),
    )  # fmt: skip
    clock.at(clock.days_ago(31))
    capa.complete_action(fix, supervisor, "Aditivo assinado; coletas diárias desde o dia 1.")
    clock.at(clock.days_ago(26))
    capa.complete_action(prevent, admin, "Fluxo de aprovação atualizado no jurídico.")
    clock.at(clock.days_ago(12))
    operations.update_investigation(
        closed,
        supervisor,
        metric="Reclamações de atraso na região Sul por semana",
        baseline="14 por semana",
        target="3 por semana ou menos",
        check_on=today - timedelta(days=12),
        result="2 por semana na média das últimas 4 semanas",
        verdict="effective",
        notice_pt_br=NOTICE["pt_BR"],
        notice_es=NOTICE["es"],
        notice_en=NOTICE["en"],
    )
    operations.change_status(closed, supervisor, "verifying")
    operations.change_status(closed, supervisor, "closed")
    for t, days in zip(later, (6, 2), strict=False):  # came back after closing: recurrences
        _link(closed, t, admin, clock.days_ago(days))

    # 2. open, acting, with an overdue action ---------------------------------------------------
    billing = _tickets(None, ("Billing error", "Contestation of a charge"), 5, used) or _tickets(
        None, (), 5, used
    )
    used |= {t.id for t in billing}
    clock.at(clock.days_ago(18))
    acting = operations.open_investigation(
        by=supervisor,
        title="Cobrança em duplicidade na fatura",
        statement="Clientes com débito automático recebem a mesma cobrança duas vezes.",
        location="Faturamento — débito automático",
        since=today - timedelta(days=20),
        customers_affected=35,
        estimated_cost=4200,
        impact=3,
        urgency=2,
        keywords="cobrança, duplicidade, duplicada, fatura, cobro",
        category=billing[0].category_id if billing else None,
        department=billing[0].department_id if billing else None,
        containment=(
            "Confirme a duplicidade no extrato, abra o estorno no sistema de faturamento "
            "(prazo: 5 dias úteis) e informe o número do estorno ao cliente."
        ),
    )
    for t in billing:
        _link(acting, t, admin, clock.days_ago(17))
    clock.at(clock.days_ago(18) + timedelta(hours=2))
    whys.add_why(acting, supervisor, "Por que cobra duas vezes? O arquivo do banco é reenviado.")
    whys.add_why(acting, agent, "Talvez o reenvio aconteça quando o banco demora a confirmar?")
    operations.update_investigation(
        acting,
        supervisor,
        ishikawa="machine",
        subcategory=subs["Sistema de faturamento"],
        root_cause="O job de remessa reenvia o arquivo quando o banco não confirma em 1 hora.",
        evidence="Logs do job de remessa dos dias 3 e 4.",
        metric="Estornos por duplicidade por semana",
        baseline="9 por semana",
        target="0",
        check_on=today + timedelta(days=21),
    )
    operations.change_status(acting, supervisor, "analysing")
    operations.change_status(acting, supervisor, "acting")
    clock.at(clock.days_ago(16))
    capa.add_action(
        acting, supervisor, description="Corrigir o job de remessa (idempotência por arquivo)",
        kind="corrective", owner=agent, due_on=today - timedelta(days=4),
    )  # fmt: skip
    capa.add_action(
        acting, supervisor, description="Alerta quando um arquivo for reenviado",
        kind="preventive", owner=supervisor, due_on=today + timedelta(days=10),
    )  # fmt: skip
    capa.add_action(acting, agent, description="Avisar os clientes afetados por SMS")

    # 3. analysing, for a fuller Pareto ----------------------------------------------------------
    defects = _tickets(None, ("Defective product",), 3, used) or _tickets(None, (), 3, used)
    used |= {t.id for t in defects}
    clock.at(clock.days_ago(5))
    analysing = operations.open_investigation(
        by=supervisor,
        title="Produtos com defeito do lote 2231",
        statement="Aparelhos do lote 2231 param de ligar após poucos dias de uso.",
        keywords="defeito, lote 2231, não liga",
        category=defects[0].category_id if defects else None,
        ishikawa="material",
        subcategory=subs["Lote de fornecedor"],
    )
    for t in defects:
        _link(analysing, t, admin, clock.days_ago(4))
    clock.at(clock.days_ago(5) + timedelta(hours=2))
    operations.change_status(analysing, supervisor, "analysing")
    return (
        f"investigations: {closed.number} closed with {len(later)} recurrences, "
        f"{acting.number} acting with an overdue action, {analysing.number} analysing"
    )
