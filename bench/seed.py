"""Seed a FRESH SQLite database with N tickets, fast, for the benchmark.

This does NOT go through the per-ticket services (register_ticket & co. cost milliseconds each, a
million would take hours): rows are written with SQLAlchemy Core `executemany` in batches of 5,000,
shaped like what the services write (valid protocols from `format_protocol` with per-day counters,
messages, append-only events, first-response/resolution timestamps, ratings). Secondary indexes are
dropped during the load and rebuilt after it, which is several times faster than maintaining them.

The schema comes from `flask --app wsgi db upgrade` when migrations/versions has revisions, else
from `db.create_all()`.

    python -m bench.seed --tickets 100000 --db /tmp/helpdesk-bench/bench.db
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BATCH = 5000
PASSWORD = "bench-password"  # noqa: S105 - every bench login; a throwaway database
TIMEZONE = "America/Sao_Paulo"
BIG_TABLES = (
    "tickets",
    "messages",
    "ticket_events",
    "customers",
    "customer_emails",
    "customer_phones",
)

DEPARTMENTS = [  # name, weight of tickets
    ("SAC Geral", 40),
    ("Financeiro", 25),
    ("Suporte Técnico", 20),
    ("Logística", 10),
    ("Ouvidoria", 5),
]
AGENTS_PER_DEPARTMENT = 4
CHANNELS = ("phone", "email", "web", "chat", "social", "in_person", "letter", "api")

# the accounts the load client uses
ADMIN = "admin@bench.sac"
AGENT = "agent@bench.sac"  # agent of SAC Geral and Financeiro (65 % of the tickets)
HEAVY_CUSTOMER = "history@bench.sac"  # a customer with many tickets (history page)
PORTAL_CUSTOMER = "portal@bench.sac"  # submits demands through the portal


@dataclass
class SeedResult:
    tickets: int
    customers: int
    messages: int = 0
    events: int = 0
    seconds: float = 0.0
    schema: str = ""
    db_bytes: int = 0
    phases: dict = field(default_factory=dict)


def _log(msg: str) -> None:
    print(f"[seed] {msg}", file=sys.stderr, flush=True)


def _env(db_path: Path) -> dict:
    env = dict(os.environ)
    env.update(
        HELPDESK_DATABASE_URL=f"sqlite:///{db_path}",
        HELPDESK_ENV="development",
        HELPDESK_SECRET_KEY=env.get("HELPDESK_SECRET_KEY", "bench-secret-key-not-for-production"),
        HELPDESK_INSTANCE_PATH=str(db_path.parent / "instance"),
    )
    return env


def create_schema(db_path: Path) -> str:
    """`flask db upgrade` when migrations exist, else create_all(); returns which one."""
    versions = ROOT / "migrations" / "versions"
    if versions.is_dir() and any(versions.glob("*.py")):
        flask = Path(sys.executable).parent / "flask"
        subprocess.run(
            [str(flask), "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=_env(db_path),
            check=True,
            capture_output=True,
        )
        return "flask db upgrade"
    code = (
        "from helpdesk import create_app; from helpdesk.extensions import db\n"
        "app = create_app()\nwith app.app_context(): db.create_all()\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(db_path), check=True)
    return "db.create_all()"


class Seeder:
    def __init__(self, engine: sa.Engine, tickets: int, rng: random.Random, days: int):
        from helpdesk import models  # noqa: F401 - every table in the metadata
        from helpdesk.extensions import db

        self.t = db.metadata.tables
        self.engine = engine
        self.n = tickets
        self.rng = rng
        self.days = days
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.tz = ZoneInfo(TIMEZONE)
        self.result = SeedResult(tickets=tickets, customers=0)

    # helpers --------------------------------------------------------------------------------

    def insert(self, conn, table: str, rows: list[dict]) -> None:
        for i in range(0, len(rows), BATCH):
            conn.execute(self.t[table].insert(), rows[i : i + BATCH])

    # reference data -------------------------------------------------------------------------

    def reference(self, conn) -> None:
        from werkzeug.security import generate_password_hash

        from helpdesk.demo.data import CATEGORIES

        created = self.now - timedelta(days=self.days + 30)
        self.insert(
            conn,
            "departments",
            [
                dict(id=i, name=name, description="", is_default=i == 1, is_ombudsman=name == "Ouvidoria", active=True, created_at=created)
                for i, (name, _) in enumerate(DEPARTMENTS, start=1)
            ],
        )  # fmt: skip
        self.insert(
            conn,
            "categories",
            [
                dict(id=i, name=name, name_pt_br=pt, name_es=es, kinds=kinds, active=True, position=i * 10, created_at=created)
                for i, (_key, name, pt, es, kinds) in enumerate(CATEGORIES, start=1)
            ],
        )  # fmt: skip
        self.category_kinds = {i: kinds for i, (*_, kinds) in enumerate(CATEGORIES, start=1)}
        pw = generate_password_hash(PASSWORD)
        users, members = [], []
        self.agents: dict[int, list[tuple[int, str]]] = defaultdict(list)
        uid = 0

        def user(email, name, role, depts=()):
            nonlocal uid
            uid += 1
            users.append(
                dict(id=uid, email=email, name=name, role=role, password_hash=pw, locale="pt_BR", active=True, created_at=created, email_verified_at=created)
            )  # fmt: skip
            for d in depts:
                members.append({"user_id": uid, "department_id": d})
            return uid

        self.admin_id = user(ADMIN, "Bench Admin", "admin")
        user("supervisor@bench.sac", "Bench Supervisora", "supervisor", (1, 5))
        self.agent_id = user(AGENT, "Bench Agente", "agent", (1, 2))
        self.agents[1].append((self.agent_id, "Bench Agente"))
        self.agents[2].append((self.agent_id, "Bench Agente"))
        for d, (dept, _) in enumerate(DEPARTMENTS, start=1):
            for k in range(AGENTS_PER_DEPARTMENT - (1 if d in (1, 2) else 0)):
                name = f"Agente {k + 1} {dept}"
                self.agents[d].append(
                    (user(f"agent{d}.{k + 1}@bench.sac", name, "agent", (d,)), name)
                )
        self.heavy_user = user(HEAVY_CUSTOMER, "Cliente Histórico", "customer")
        self.portal_user = user(PORTAL_CUSTOMER, "Cliente Portal", "customer")
        self.insert(conn, "users", users)
        self.insert(conn, "memberships", members)
        self.user_names = {u["id"]: u["name"] for u in users}

    def customers(self, conn) -> None:
        from helpdesk.customers.documents import make_cpf
        from helpdesk.demo.data import FIRST_NAMES, LAST_NAMES

        rng = self.rng
        count = max(50, self.n // 5)
        self.customer_count = count
        created = self.now - timedelta(days=self.days + 30)
        rows, emails, phones = [], [], []
        for cid in range(1, count + 1):
            user_id = {1: self.heavy_user, 2: self.portal_user}.get(cid)
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {rng.choice(LAST_NAMES)}"
            email = {1: HEAVY_CUSTOMER, 2: PORTAL_CUSTOMER}.get(
                cid, f"cliente{cid}@bench.example.com"
            )
            rows.append(
                dict(id=cid, name=name, document=make_cpf(f"{100000000 + cid:09d}"), segment="individual", is_key_account=False, user_id=user_id, locale="pt_BR", created_at=created)
            )  # fmt: skip
            emails.append({"customer_id": cid, "email": email})
            phones.append({"customer_id": cid, "number": f"+5511{960000000 + cid}"})
            if len(rows) >= BATCH:
                self.insert(conn, "customers", rows)
                self.insert(conn, "customer_emails", emails)
                self.insert(conn, "customer_phones", phones)
                rows, emails, phones = [], [], []
        self.insert(conn, "customers", rows)
        self.insert(conn, "customer_emails", emails)
        self.insert(conn, "customer_phones", phones)
        self.result.customers = count

    # tickets ----------------------------------------------------------------------------------

    def _status(self, age_days: float) -> str:
        r = self.rng.random()
        if age_days > 30:
            table = (
                (0.85, "closed"),
                (0.95, "resolved"),
                (0.97, "open"),
                (0.99, "pending_customer"),
                (1.0, "reopened"),
            )
        else:
            table = (
                (0.15, "new"),
                (0.35, "open"),
                (0.55, "pending_customer"),
                (0.75, "resolved"),
                (0.95, "closed"),
                (1.0, "reopened"),
            )
        for limit, status in table:  # fmt: skip
            if r < limit:
                return status
        return "closed"

    def tickets(self, conn) -> None:
        from helpdesk.demo.data import (
            ANSWERS,
            CATEGORIES,
            COMPLAINTS,
            CUSTOMER_REPLIES,
            NOTES,
            REQUESTS,
            SUGGESTIONS,
        )
        from helpdesk.tickets.protocol import format_protocol

        rng = self.rng
        templates = {"complaint": COMPLAINTS, "request": REQUESTS, "suggestion": SUGGESTIONS}
        cat_ids = {key: i for i, (key, *_rest) in enumerate(CATEGORIES, start=1)}
        dept_names = [d for d, _ in DEPARTMENTS]
        dept_weights = [w for _, w in DEPARTMENTS]
        heavy_every = max(2, self.n // min(2000, max(1, self.n // 50)))
        span = timedelta(days=self.days).total_seconds()
        start = self.now - timedelta(days=self.days)
        counters: dict[str, int] = defaultdict(int)
        hour = timedelta(hours=1)
        tickets, messages, events = [], [], []
        n_msg = n_ev = 0

        def flush():
            nonlocal tickets, messages, events
            self.insert(conn, "tickets", tickets)
            self.insert(conn, "messages", messages)
            self.insert(conn, "ticket_events", events)
            tickets, messages, events = [], [], []

        for i in range(self.n):
            tid = i + 1
            created = start + timedelta(seconds=(i + rng.random()) * span / self.n)
            day = created.astimezone(self.tz).strftime("%Y%m%d")
            counters[day] += 1
            age = (self.now - created).total_seconds() / 86400
            status = self._status(age)
            kind = rng.choices(("complaint", "request", "suggestion"), (50, 40, 10))[0]
            cat_key, subject, description, remedy = rng.choice(templates[kind])
            dept = rng.choices(range(1, 6), dept_weights)[0]
            if i % heavy_every == 0:
                customer = 1
            else:
                customer = rng.randint(3, self.customer_count) if self.customer_count > 2 else 1
            channel = rng.choice(CHANNELS)
            assignee, assignee_name = (None, None)
            if status != "new" or rng.random() < 0.5:
                assignee, assignee_name = rng.choice(self.agents[dept])
            row = dict(
                id=tid, protocol=format_protocol(day, counters[day]), kind=kind, category_id=cat_ids[cat_key],
                channel=channel, subject=subject, description=description, remedy=remedy, outcome="",
                status=status, priority=rng.choices((1, 2, 3, 4), (10, 70, 15, 5))[0], department_id=dept,
                assignee_id=assignee, customer_id=customer, created_by_id=None, created_at=created,
                updated_at=created, first_response_at=None, resolved_at=None, closed_at=None,
                customer_verdict=None, rating=None, rated_at=None,
            )  # fmt: skip
            ev = [
                (created, None, "created", None, None, channel, kind, True),
                (created, None, "routed", "department", None, dept_names[dept - 1], "", False),
            ]
            if assignee:
                ev.append(
                    (
                        created,
                        None,
                        "assigned",
                        "assignee",
                        None,
                        assignee_name,
                        "fewest open tickets",
                        False,
                    )
                )
            t = created
            if status != "new":
                t += rng.random() * 4 * hour
                ev.append((t, assignee, "status", "status", "new", "open", "", True))
                if rng.random() < 0.3:
                    messages.append(
                        dict(
                            ticket_id=tid,
                            author_id=assignee,
                            author_kind="agent",
                            author_name=assignee_name,
                            is_internal=True,
                            channel="web",
                            body=rng.choice(NOTES),
                            created_at=t,
                        )
                    )
                    ev.append((t, assignee, "note", None, None, None, "", False))
            if status in ("pending_customer", "resolved", "closed", "reopened"):
                t += rng.random() * 30 * hour
                messages.append(
                    dict(
                        ticket_id=tid,
                        author_id=assignee,
                        author_kind="agent",
                        author_name=assignee_name,
                        is_internal=False,
                        channel="web",
                        body=rng.choice(ANSWERS.get(cat_key, ANSWERS["question"])),
                        created_at=t,
                    )
                )
                ev.append((t, assignee, "answered", None, None, None, "", True))
                ev.append((t, assignee, "status", "status", "open", "pending_customer", "", True))
                row["first_response_at"] = t
                if rng.random() < 0.2:
                    t += rng.random() * 24 * hour
                    messages.append(
                        dict(
                            ticket_id=tid,
                            author_id=None,
                            author_kind="customer",
                            author_name="Cliente",
                            is_internal=False,
                            channel="web",
                            body=rng.choice(CUSTOMER_REPLIES),
                            created_at=t,
                        )
                    )
                    ev.append((t, None, "customer_replied", None, None, "web", "", True))
            if status in ("resolved", "closed"):
                t += rng.random() * 24 * hour
                row["resolved_at"] = t
                ev.append(
                    (t, assignee, "status", "status", "pending_customer", "resolved", "", True)
                )
                if rng.random() < 0.4:
                    row["customer_verdict"], row["rating"], row["rated_at"] = (
                        "resolved",
                        rng.choice((3, 4, 5, 5)),
                        t,
                    )
                    ev.append((t, None, "verdict", None, None, "resolved", "", True))
                    ev.append((t, None, "rated", "rating", None, str(row["rating"]), "", True))
            if status == "closed":
                t += rng.random() * 72 * hour
                row["closed_at"] = t
                ev.append((t, assignee, "status", "status", "resolved", "closed", "", True))
            if status == "reopened":
                t += rng.random() * 48 * hour
                row["customer_verdict"] = "not_resolved"
                ev.append((t, None, "verdict", None, None, "not_resolved", "", True))
                ev.append((t, None, "status", "status", "pending_customer", "reopened", "", True))
            row["updated_at"] = min(t, self.now)
            tickets.append(row)
            for at, actor, action, fld, old, new, detail, public in ev:
                events.append(dict(ticket_id=tid, actor_id=actor, action=action, field=fld, old_value=old, new_value=new, detail=detail, is_public=public, created_at=min(at, self.now)))  # fmt: skip
            n_ev += len(ev)
            if len(tickets) >= BATCH:
                n_msg += len(messages)
                flush()
                if tid % 100_000 == 0:
                    _log(f"{tid:,} tickets")
        n_msg += len(messages)
        flush()
        self.insert(
            conn, "protocol_counters", [{"day": d, "value": v} for d, v in counters.items()]
        )
        self.result.messages, self.result.events = n_msg, n_ev


def _secondary_indexes(conn) -> list[tuple[str, str]]:
    rows = conn.exec_driver_sql(
        "SELECT name, sql, tbl_name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
    )
    return [(name, sql) for name, sql, table in rows if table in BIG_TABLES]


def seed(
    db_path: Path, tickets: int, *, days: int = 365, seed_value: int = 1, analyze: bool = False
) -> SeedResult:
    """Create db_path from scratch and fill it; returns counts and timings."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    schema = create_schema(db_path)
    phases = {"schema": time.perf_counter() - started}
    engine = sa.create_engine(f"sqlite:///{db_path}")
    seeder = Seeder(engine, tickets, random.Random(seed_value), days)
    with engine.connect() as conn:
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-400000",
            "temp_store=MEMORY",
            "foreign_keys=OFF",
        ):
            conn.exec_driver_sql(f"PRAGMA {pragma}")
        indexes = _secondary_indexes(conn)
        for name, _sql in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        conn.commit()
        t0 = time.perf_counter()
        seeder.reference(conn)
        seeder.customers(conn)
        conn.commit()
        phases["customers"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        seeder.tickets(conn)
        conn.commit()
        phases["tickets"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _name, sql in indexes:
            conn.exec_driver_sql(sql)
        conn.commit()
        phases["indexes"] = time.perf_counter() - t0
        if analyze:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    engine.dispose()
    result = seeder.result
    result.schema = schema
    result.seconds = time.perf_counter() - started
    result.phases = {k: round(v, 2) for k, v in phases.items()}
    result.db_bytes = db_path.stat().st_size
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--db", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-bench" / "bench.db"
    )
    parser.add_argument("--days", type=int, default=365, help="spread the tickets over N days")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after loading")
    args = parser.parse_args(argv)
    result = seed(args.db, args.tickets, days=args.days, analyze=args.analyze)
    print(
        f"seeded {result.tickets:,} tickets, {result.customers:,} customers, {result.messages:,} "
        f"messages, {result.events:,} events in {result.seconds:.1f} s ({result.phases}); "
        f"{args.db} is {result.db_bytes / 1e6:.0f} MB; schema by {result.schema}"
    )


if __name__ == "__main__":
    main()
