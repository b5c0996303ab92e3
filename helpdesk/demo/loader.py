"""Demo data: departments, categories, routing rules, people and tickets, as real use makes them.

`flask --app wsgi demo load [--tickets N]` calls `load_demo()`; it only flushes, the CLI commits.

Everything is created through the domain services (create_department, create_user,
create_customer, create_rule, register_ticket, add_message, change_status, transfer_ticket,
record_verdict...), so the rows, events and queued emails are exactly what the application writes.

Each ticket's story is played on a simulated timeline spread over the last 60 days: every step
(registration, answers, transfers, verdicts...) runs inside `core.clock.travel(at)`, so the
services stamp the ticket, its messages, events, outbox rows and SLA targets with the simulated
instant, compute due instants from it and issue the protocol of that day; nothing is rewritten
afterwards. Stories are played in the order they start, so each day's protocol sequence follows
the clock. Staff and customers are created 3 to 12 months back the same way. The demo's outbox
rows are marked as sent (when they were queued), so that running the app does not write hundreds
of .eml files.

Logins (all documented in README/docs):

    admin@demo.sac        admin123    administrator
    supervisora@demo.sac  super123    supervisor (SAC Geral, Ouvidoria)
    agente@demo.sac       agente123   agent (SAC Geral, Financeiro)
    <name>@demo.sac       agente123   more agents, one or two per department (listed below)
    cliente@demo.sac      cliente123  customer with several demands in different states
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ..accounts.models import Department, User
from ..accounts.services import create_department, create_user, get_user_by_email
from ..core.clock import now, travel
from ..customers.documents import make_cnpj, make_cpf
from ..customers.models import Customer
from ..customers.services import create_customer
from ..escalations.models import Escalation
from ..escalations.services import (
    acknowledge,
    can_supervise,
    decide,
    ensure_default_ladder,
    escalate_by_agent,
)
from ..escalations.sweep import sweep
from ..escalations.verdicts import record_verdict
from ..extensions import db
from ..notifications.models import OutboxMessage
from ..routing.services import create_rule
from ..sla.policies import ensure_default_policy
from ..tickets import services as tickets
from ..tickets.categories import create_category
from ..tickets.models import CHANNELS, STATUSES, Category, Ticket
from ..tickets.permissions import can_work_ticket
from .data import (
    ANSWERS,
    CATEGORIES,
    COMPANIES,
    CUSTOMER_REPLIES,
    DAYS,
    DDDS,
    DEMO_CUSTOMER,
    DEPARTMENTS,
    FIRST_NAMES,
    KEY_ACCOUNTS,
    LAST_NAMES,
    NOT_RESOLVED,
    NOTES,
    OUTCOMES,
    RESOLVED_COMMENTS,
    ROUTE_BY_CATEGORY,
    SPANISH_NAMES,
    STAFF,
    TEMPLATES,
    TRANSFER_REASONS,
)


def load_demo(tickets: int = 300, seed: int = 2024) -> str:
    """Create the demo world; flush only (the caller commits). Returns a one-line summary.

    The services' INFO lines (thousands for a demo) are held back while it plays: warnings and
    errors still show, and the summary says what was made."""
    logger = logging.getLogger("helpdesk")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        return _load_demo(tickets, seed)
    finally:
        logger.setLevel(level)


def _load_demo(tickets: int, seed: int) -> str:
    if any(get_user_by_email(email) for email in (STAFF[0][0], DEMO_CUSTOMER[0])):
        return "demo data already loaded: nothing added"
    demo = _Demo(random.Random(seed))
    demo.departments()
    demo.categories()
    demo.staff()
    demo.customers()
    demo.rules()
    ensure_default_policy()  # the SAC rule: every demo ticket gets its due instants
    ensure_default_ladder()
    email_tickets = 2 if tickets >= 10 else 0  # of the N, these two arrive by email (below)
    demo.tickets(tickets - email_tickets)
    demo.mark_mail_sent()
    if email_tickets:
        from ..mail.demo import load_mail_demo

        load_mail_demo()  # an inactive demo mailbox and demands that came by email
    demo.escalations()
    from .channels import load_channels

    load_channels(demo.demo_customer)  # calls, a WhatsApp conversation, an inactive webhook
    from .investigations import load_investigations

    investigations = load_investigations()
    from .macros import load_macros

    macros = load_macros(demo.users["admin@demo.sac"])
    from .kb import load_knowledge_base

    investigations += "; " + load_knowledge_base()
    return (
        f"demo loaded: {len(demo.depts)} departments, {len(demo.cats)} categories, "
        f"{demo.rule_count} routing rules, {len(demo.users)} staff, {len(demo.all_customers)} "
        f"customers, {demo.ticket_count + email_tickets} tickets over {DAYS} days; "
        f"{investigations}; {macros}; logins: admin@demo.sac/admin123, supervisora@demo.sac/super123, "
        "agente@demo.sac/agente123, cliente@demo.sac/cliente123"
    )


@dataclass
class _Story:
    """One ticket's life: when it started, and the ticket its steps were played on."""

    start: datetime
    ticket: Ticket | None = None


class _Demo:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.depts: dict[str, Department] = {}
        self.cats: dict[str, Category] = {}
        self.users: dict[str, User] = {}
        self.customers_list: list[Customer] = []
        self.key_accounts: list[Customer] = []
        self.all_customers: list[Customer] = []
        self.demo_user: User | None = None
        self.demo_customer: Customer | None = None
        self.rule_count = 0
        self.ticket_count = 0
        self.stories: list[_Story] = []
        self.now = now()
        self.tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])

    # reference data -----------------------------------------------------------------------

    def departments(self) -> None:
        for name, description, default, ombudsman in DEPARTMENTS:
            existing = db.session.scalar(sa.select(Department).where(Department.name == name))
            self.depts[name] = existing or create_department(
                name=name, description=description, is_default=default, is_ombudsman=ombudsman
            )

    def categories(self) -> None:
        for position, (key, name, pt, es, kinds) in enumerate(CATEGORIES, start=1):
            existing = db.session.scalar(sa.select(Category).where(Category.name == name))
            if existing is not None:
                self.cats[key] = existing
            else:
                self.cats[key] = create_category(
                    name=name, name_pt_br=pt, name_es=es, kinds=kinds, position=position * 10
                )

    def staff(self) -> None:
        for email, name, role, password, dept_names in STAFF:
            with travel(self._joined()):
                self.users[email] = create_user(
                    email=email,
                    name=name,
                    role=role,
                    password=password,
                    departments=[self.depts[d] for d in dept_names],
                    locale="pt_BR",
                    known_password=True,  # the demo's published passwords (docs)
                )
                db.session.flush()
        email, name, password = DEMO_CUSTOMER
        with travel(self._joined()):
            self.demo_user = create_user(
                email=email,
                name=name,
                role="customer",
                password=password,
                locale="pt_BR",
                known_password=True,
            )
            self.demo_customer = create_customer(
                name=name,
                email=email,
                phone="+5511987654321",
                document=make_cpf("529982247"),
                user_id=self.demo_user.id,
                locale="pt_BR",
            )
            db.session.flush()

    def _joined(self) -> datetime:
        """When a person came: staff and customers existed before the tickets, 3 to 12 months."""
        return self.now - timedelta(days=self.rng.randint(90, 365))

    def customers(self, count: int = 80) -> None:
        rng = self.rng
        used_names: set[str] = set()
        used_phones: set[str] = {"+5511987654321"}

        def phone() -> str:
            while True:
                number = f"+55{rng.choice(DDDS)}9{rng.randint(6, 9)}{rng.randint(0, 9999999):07d}"
                if number not in used_phones:
                    used_phones.add(number)
                    return number

        def cpf() -> str:
            return make_cpf(f"{rng.randint(100000000, 999999999)}")

        n = 0
        while len(self.customers_list) < count - len(COMPANIES) - len(SPANISH_NAMES):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {rng.choice(LAST_NAMES)}"
            if name in used_names:
                continue
            used_names.add(name)
            n += 1
            first, last = name.split()[0], name.split()[-1]
            email = _ascii(f"{first}.{last}{n}@example.com").lower()
            self.customers_list.append(
                self._new_customer(
                    name=name,
                    email=email if rng.random() < 0.9 else None,
                    phone=phone(),
                    document=cpf() if rng.random() < 0.8 else None,
                    locale="pt_BR",
                )
            )
        for name in SPANISH_NAMES:
            n += 1
            email = _ascii(name.replace(" ", ".") + f"{n}@example.net").lower()
            self.customers_list.append(
                self._new_customer(
                    name=name, email=email, phone=phone(), document=cpf(), locale="es"
                )
            )
        for company in COMPANIES:
            n += 1
            slug = _ascii(company.split()[0]).lower()
            self.customers_list.append(
                self._new_customer(
                    name=company,
                    email=f"contato@{slug}{n}.example.com",
                    phone=phone(),
                    document=make_cnpj(f"{rng.randint(10000000, 99999999)}0001"),
                    segment="business",
                )
            )
        for company, agent_email in KEY_ACCOUNTS:
            n += 1
            slug = _ascii(company.split()[-2] if len(company.split()) > 2 else company).lower()
            self.key_accounts.append(
                self._new_customer(
                    name=company,
                    email=f"sac@{slug}{n}.example.com",
                    phone=phone(),
                    document=make_cnpj(f"{rng.randint(10000000, 99999999)}0001"),
                    segment="premium",
                    is_key_account=True,
                    key_account_agent_id=self.users[agent_email].id,
                )
            )
        self.all_customers = [self.demo_customer, *self.customers_list, *self.key_accounts]

    def _new_customer(self, **fields) -> Customer:
        with travel(self._joined()):
            customer = create_customer(**fields)
            db.session.flush()
        return customer

    def rules(self) -> None:
        d, c = self.depts, self.cats
        rules = [
            dict(name="Key accounts → gerente dedicado", key_account=True, department_id=d["SAC Geral"].id),
            dict(name="Cancelamento → SAC Geral (alta)", category_id=c["cancel"].id, department_id=d["SAC Geral"].id, priority=3),
            dict(name="Contestação de cobrança → Financeiro", category_id=c["contest"].id, department_id=d["Financeiro"].id),
            dict(name="Erro de faturamento → Financeiro", category_id=c["billing"].id, department_id=d["Financeiro"].id),
            dict(name="Cobrança, fatura, boleto → Financeiro", keywords="cobrança, fatura, boleto", department_id=d["Financeiro"].id),
            dict(name="Entrega, atraso, rastreio → Logística", keywords="entrega, atraso, rastreio", department_id=d["Logística"].id),
            dict(name="Reclamação técnica → Suporte (alta)", kind="complaint", keywords="internet, sinal, aplicativo", department_id=d["Suporte Técnico"].id, priority=3),
            dict(name="Internet, sinal, aplicativo → Suporte Técnico", keywords="internet, sinal, aplicativo", department_id=d["Suporte Técnico"].id),
        ]  # fmt: skip
        for rule in rules:
            create_rule(**rule)
        self.rule_count = len(rules)

    def escalations(self) -> None:
        """Run the sweep over the simulated past (late tickets climb the ladder), add escalations
        by hand (an agent's, a customer's) and work two of them, so the queue has every state."""
        sweep(self.now, commit=False)
        open_tickets = [
            s.ticket for s in self.stories
            if s.ticket.status in ("open", "new", "reopened") and not s.ticket.escalation_level
        ]  # fmt: skip
        supervisor = self.users["supervisora@demo.sac"]
        for ticket, reason, note in zip(
            open_tickets,
            ("legal_threat", "repeated_contact", "needs_authority"),
            (
                "Cliente disse que vai registrar reclamação no Procon se não tiver retorno hoje.",
                "Terceiro contato sobre a mesma cobrança; pede falar com um supervisor.",
                "Pedido de reembolso acima da alçada do atendente.",
            ),
            strict=False,
        ):
            worker = ticket.assignee or self._worker(ticket)
            if worker.role == "agent" and can_work_ticket(worker, ticket):
                escalate_by_agent(ticket, worker, reason=reason, note=note)
        # the supervisor has worked some of hers: two acknowledged, one decided
        mine = [
            e
            for e in db.session.scalars(
                sa.select(Escalation).where(Escalation.closed_at.is_(None)).order_by(Escalation.id)
            )
            if can_supervise(supervisor, e)
        ]
        for escalation in mine[:2]:
            acknowledge(escalation, supervisor)
        if len(mine) > 2:
            decide(
                mine[2], supervisor, decision="instruct",
                note="Ligue para o cliente hoje e ofereça o estorno da cobrança duplicada.",
            )  # fmt: skip
        # the demo's escalation emails count as delivered, like the rest of its mail
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .values(status="sent", sent_at=self.now)
        )
        db.session.flush()

    # tickets ------------------------------------------------------------------------------

    def tickets(self, count: int) -> None:
        rng = self.rng
        # the demo customer's own demands, one per state (pending_customer = awaiting verdict)
        own = ["pending_customer", "new", "open", "closed", "resolved", "reopened"]
        own = own[: max(0, min(len(own), count // 10))] if count < 60 else own
        plans: list[tuple[Customer, str | None, str | None]] = [
            (self.demo_customer, status, "web") for status in own
        ]
        for i in range(count - len(plans)):
            # the first ones cover every status and every channel, the rest are random
            status = STATUSES[i] if i < len(STATUSES) else None
            channel = CHANNELS[i % len(CHANNELS)] if i < 2 * len(CHANNELS) else None
            if rng.random() < 0.08:
                customer = rng.choice(self.key_accounts)
            else:
                customer = rng.choice(self.all_customers)
            plans.append((customer, status, channel))
        # played in the order they start: each day's protocol numbers follow the clock
        timeline = sorted(
            ((self._start_time(status), n, plan) for n, plan in enumerate(plans)),
            key=lambda item: item[:2],
        )
        for start, _n, (customer, status, channel) in timeline:
            self._play(start, customer, status, channel)
            self.ticket_count += 1

    def _start_time(self, status: str | None) -> datetime:
        """A working-hours instant in the last 60 days; open demands are mostly recent."""
        rng = self.rng
        recent = status in ("new", "open", "pending_customer", "reopened")
        days = rng.uniform(0, 7) if recent and rng.random() < 0.8 else rng.uniform(0, DAYS)
        local = (self.now - timedelta(days=days)).astimezone(self.tz)
        local = local.replace(hour=rng.randint(8, 19), minute=rng.randint(0, 59))
        start = local.astimezone(self.now.tzinfo)
        if start > self.now - timedelta(minutes=5):
            start = self.now - timedelta(minutes=rng.randint(5, 240))
        return start

    def _status_for_age(self, age: timedelta) -> str:
        weights = (
            {"new": 2, "open": 6, "pending_customer": 6, "resolved": 20, "closed": 60, "reopened": 6}
            if age > timedelta(days=7)
            else {"new": 30, "open": 22, "pending_customer": 22, "resolved": 12, "closed": 6, "reopened": 8}
        )  # fmt: skip
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _play(
        self, start: datetime, customer: Customer, status: str | None, channel: str | None
    ) -> None:
        """Play one ticket's story, each step at its simulated instant (the clock travels)."""
        rng = self.rng
        status = status or self._status_for_age(self.now - start)
        channel = channel or rng.choice(CHANNELS)
        if customer is self.demo_customer:
            kind = ["complaint", "request", "complaint", "suggestion", "request", "complaint"][
                len(self.stories) % 6
            ]
        else:
            kind = rng.choices(["complaint", "request", "suggestion"], weights=[50, 40, 10])[0]
        if status == "reopened" and kind == "suggestion":
            kind = "complaint"
        cat_key, subject, description, remedy = rng.choice(TEMPLATES[kind])
        steps = self._script(status, kind, cat_key, customer, channel)
        # scale the gaps so that the story ends before now
        total = sum(gap for gap, _ in steps)
        room = (self.now - start).total_seconds() / 60 - 1
        factor = min(1.0, room / total) if total else 1.0
        story = _Story(start=start)
        register = self._register_step(
            customer, channel, kind, cat_key, subject, description, remedy
        )
        # each step flushes inside its block: column defaults (created_at=now) read the clock
        # when the row is inserted
        with travel(start):
            story.ticket = register()
            db.session.flush()
        sim = start
        for gap, step in steps:
            sim += timedelta(minutes=gap * factor)
            with travel(sim):
                step(story.ticket)
                db.session.flush()
        self.stories.append(story)

    def _register_step(self, customer, channel, kind, cat_key, subject, description, remedy):
        staff_channels = ("phone", "chat", "social", "in_person", "letter")
        if channel in staff_channels:
            actor = self.rng.choice(self._members("SAC Geral"))
        elif channel == "api":
            actor = self.users["admin@demo.sac"]
        elif channel == "web":
            actor = customer.user  # None for a customer without a login (guest form)
        else:
            actor = None  # email intake
        category = self.cats[cat_key]

        def register() -> Ticket:
            return tickets.register_ticket(
                actor=actor,
                customer=customer,
                channel=channel,
                kind=kind,
                subject=subject,
                description=description,
                category_id=category.id,
                remedy=remedy,
            )

        return register

    def _members(self, dept_name: str) -> list[User]:
        return [u for u in self.depts[dept_name].members if u.role == "agent"] or [
            self.users["supervisora@demo.sac"]
        ]

    def _worker(self, ticket: Ticket) -> User:
        """Who works the ticket now: its assignee, or an agent of its department."""
        if ticket.assignee is not None and ticket.department in ticket.assignee.departments:
            return ticket.assignee
        return self.rng.choice(self._members(ticket.department.name))

    def _script(
        self, status: str, kind: str, cat_key: str, customer: Customer, channel: str
    ) -> list[tuple[float, Callable[[Ticket], None]]]:
        """Steps after registration as (minutes after the previous step, action)."""
        rng = self.rng
        user = customer.user
        reply_channel = "web" if user else ("email" if customer.emails else "phone")
        steps: list[tuple[float, Callable[[Ticket], None]]] = []

        def note(t: Ticket) -> None:
            tickets.add_message(t, self._worker(t), rng.choice(NOTES), internal=True)

        def take(t: Ticket) -> None:
            worker = self._worker(t)
            if t.assignee_id is None:
                tickets.assign_ticket(t, worker, worker)
            tickets.change_status(t, worker, "open")

        def transfer(t: Ticket) -> None:
            target = ROUTE_BY_CATEGORY.get(cat_key, "SAC Geral")
            if target == t.department.name:
                target = "SAC Geral" if target != "SAC Geral" else "Financeiro"
            actor = self._worker(t)
            tickets.transfer_ticket(t, actor, self.depts[target], TRANSFER_REASONS[target])
            agent = rng.choice(self._members(target))
            tickets.assign_ticket(t, self.users["supervisora@demo.sac"], agent)

        def answer(t: Ticket) -> None:
            body = rng.choice(ANSWERS.get(cat_key) or ANSWERS["question"])
            greeting = f"Olá, {customer.name.split()[0]}! "
            tickets.add_message(
                t, self._worker(t), greeting + body, channel=_answer_channel(channel)
            )

        def customer_reply(t: Ticket) -> None:
            tickets.add_message(t, user, rng.choice(CUSTOMER_REPLIES), channel=reply_channel)

        def resolve(t: Ticket) -> None:
            tickets.change_status(t, self._worker(t), "resolved", outcome=rng.choice(OUTCOMES))

        def verdict_ok(t: Ticket) -> None:
            record_verdict(
                t, user, resolved=True, rating=rng.choice([3, 4, 4, 5, 5, 5]),
                comment=rng.choice(RESOLVED_COMMENTS),
            )  # fmt: skip

        def verdict_bad(t: Ticket) -> None:
            record_verdict(
                t,
                user,
                resolved=False,
                rating=rng.choice([1, 1, 2]),
                comment=rng.choice(NOT_RESOLVED),
            )

        def close(t: Ticket) -> None:
            tickets.change_status(t, self._worker(t), "closed")

        def to_ombudsman(t: Ticket) -> None:
            if t.department.name != "Ouvidoria":
                tickets.transfer_ticket(
                    t, self.users["supervisora@demo.sac"], self.depts["Ouvidoria"],
                    TRANSFER_REASONS["Ouvidoria"],
                )  # fmt: skip
                tickets.assign_ticket(
                    t, self.users["supervisora@demo.sac"], self.users["helena.castro@demo.sac"]
                )

        def add(gap_minutes: tuple[int, int], action) -> None:
            steps.append((rng.uniform(*gap_minutes), action))

        # a misrouted ticket gets transferred first (the SAC Geral ones mostly)
        if status != "new" and rng.random() < 0.15:
            add((20, 240), transfer)
        if status == "new":
            if rng.random() < 0.3:
                add((5, 120), note)
            return steps
        add((10, 600), take)
        if rng.random() < 0.35:
            add((10, 300), note)
        if status == "open":
            if rng.random() < 0.4:
                add((60, 1440), customer_reply)
            return steps
        add((60, 2880), answer)  # -> pending_customer
        if status == "pending_customer":
            return steps
        if rng.random() < 0.25:  # the customer writes back, the agent answers again
            add((60, 2880), customer_reply)
            add((30, 1440), answer)
        if status == "reopened":
            add((120, 4320), verdict_bad)
            if rng.random() < 0.5:
                add((30, 600), to_ombudsman)
            return steps
        if rng.random() < 0.5:
            add((120, 4320), verdict_ok)  # -> resolved, with a rating
        else:
            add((10, 600), resolve)
        if status == "closed":
            add((1440, 7200), close)
        return steps

    def mark_mail_sent(self) -> None:
        """The demo's emails count as delivered when they were queued: running the app must not
        send them all now."""
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .values(status="sent", sent_at=OutboxMessage.created_at)
        )
        db.session.flush()


def _answer_channel(channel: str) -> str:
    return channel if channel in ("email", "phone", "chat", "social", "letter") else "web"


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
