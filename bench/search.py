"""Search latency under concurrent clients, and the write cost the index adds to a registration.

    python -m bench.search --tickets 100000                 # SQLite: seed (bench.seed), reindex
    python -m bench.search --tickets 100000 --reuse         # measure again on the seeded file
    HELPDESK_DATABASE_URL=postgresql+psycopg://… python -m bench.search --tickets 100000
                                                           # PostgreSQL: an EMPTY database

Seeds N tickets set-based (`bench.seed`: Core executemany in batches, not the services), rebuilds
the index with the same code as `flask --app wsgi search reindex`, then runs 8 client processes
(each its own app, as gunicorn workers) against the search service (`helpdesk.search.service.search_tickets`, the first page
of 50 as the console's agent `agent@bench.sac` sees it, with snippets), each with its own app
context and session, over a fixed mix of queries: common and rare words, a prefix being typed,
a phrase, a protocol with spaces, a phone and a CPF typed with punctuation. Prints p50/p95/p99
per query kind and overall, and the mean cost of `register_ticket` + commit with the index hook
on and off (alternating, so both see the same database).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from . import seed as seeding

QUERY_KINDS = ("word", "rare", "prefix", "phrase", "protocol", "phone", "cpf", "two words")


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _queries(conn, rng: random.Random, per_kind: int = 40) -> list[tuple[str, str]]:
    from helpdesk.customers.documents import format_document
    from helpdesk.customers.models import Customer, CustomerPhone
    from helpdesk.tickets.models import Ticket

    subjects = list(conn.scalars(sa.select(Ticket.subject).distinct().limit(200)))
    words = sorted({w.strip(".,:;!?()").lower() for s in subjects for w in s.split() if len(w) > 4})
    top = max(conn.scalar(sa.select(sa.func.max(Ticket.id))) or 1, 1)
    queries: list[tuple[str, str]] = []
    for _ in range(per_kind):
        word = rng.choice(words)
        queries.append(("word", word + " "))
        queries.append(("prefix", word[: max(3, len(word) // 2)]))
        queries.append(("two words", f"{rng.choice(words)} {rng.choice(words)} "))
        subject = rng.choice(subjects).split()
        queries.append(("phrase", '"' + " ".join(subject[:2]) + '"'))
        queries.append(("rare", rng.choice(["estorno", "ouvidoria", "procon", "notebook"]) + " "))
        t_id = rng.randint(1, top)
        protocol = conn.scalar(sa.select(Ticket.protocol).where(Ticket.id >= t_id).limit(1))
        queries.append(("protocol", f"{protocol[:8]} {protocol[8:14]} {protocol[14:]}"))
        phone = conn.scalar(
            sa.select(CustomerPhone.number).where(CustomerPhone.id >= t_id // 5).limit(1)
        )
        if phone:
            n = phone[3:]
            queries.append(("phone", f"({n[:2]}) {n[2:7]}-{n[7:]}"))
        doc = conn.scalar(
            sa.select(Customer.document)
            .where(Customer.id >= t_id // 5, Customer.document.is_not(None))
            .limit(1)
        )
        if doc:
            queries.append(("cpf", format_document(doc)))
    rng.shuffle(queries)
    return queries


def _client(offset: int, clients: int, queries, seconds: float, ready, out) -> None:
    """One client process: its own app, engine and session (as a gunicorn worker has)."""
    logging.getLogger("helpdesk").setLevel(logging.WARNING)
    from helpdesk import create_app
    from helpdesk.accounts.models import User
    from helpdesk.extensions import db
    from helpdesk.search import service
    from helpdesk.tickets.queries import queue_filter

    app = create_app()
    timings: dict[str, list[float]] = {k: [] for k in QUERY_KINDS}
    i = offset
    ready.wait()  # every client started: the clock runs from here, whatever the start-up took
    deadline = time.time() + seconds
    while time.time() < deadline:
        kind, q = queries[i % len(queries)]
        i += clients
        with app.app_context():
            agent = db.session.scalar(sa.select(User).where(User.email == seeding.AGENT))
            flt = queue_filter(agent, "department", statuses=())
            started = time.perf_counter()
            service.search_tickets(q, flt, staff=True, limit=50)
            timings[kind].append((time.perf_counter() - started) * 1000)
            db.session.remove()
    out.put(timings)


def measure(queries, clients: int, seconds: float) -> dict[str, list[float]]:
    """`clients` processes (not threads: the GIL would serialise the Python half of each
    search) searching for `seconds`; every search's milliseconds, by query kind."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    ready = ctx.Barrier(clients)
    procs = [
        ctx.Process(target=_client, args=(n, clients, queries, seconds, ready, out))
        for n in range(clients)
    ]
    for proc in procs:
        proc.start()
    timings: dict[str, list[float]] = {k: [] for k in QUERY_KINDS}
    for _ in procs:
        for kind, values in out.get().items():
            timings[kind].extend(values)
    for proc in procs:
        proc.join()
    return timings


def write_cost(app, registrations: int) -> dict[str, float]:
    """Mean ms of register_ticket + commit with the index hook on and off, alternating."""
    from helpdesk.customers.models import Customer
    from helpdesk.extensions import db
    from helpdesk.search import hooks
    from helpdesk.tickets.services import register_ticket

    spent = {"on": [], "off": []}
    for i in range(registrations * 2):
        mode = "on" if i % 2 else "off"
        with app.app_context():
            customer = db.session.get(Customer, 1 + i % 1000)
            if mode == "off":
                hooks.disable(db.session())
            started = time.perf_counter()
            register_ticket(
                actor=None,
                customer=customer,
                channel="web",
                kind="complaint",
                subject="Cobrança em duplicidade na fatura",
                description="Fui cobrado duas vezes pelo mesmo pedido; peço o estorno.",
                notify_customer=False,
            )
            db.session.commit()
            spent[mode].append((time.perf_counter() - started) * 1000)
            db.session.remove()
    return {mode: statistics.mean(values) for mode, values in spent.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Search latency and index write cost.")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-bench"
    )
    parser.add_argument("--reuse", action="store_true", help="SQLite: keep the seeded file")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--registrations", type=int, default=100)
    args = parser.parse_args(argv)

    url = os.environ.get("HELPDESK_DATABASE_URL", "")
    postgres = url.startswith("postgresql")
    db_path = args.workdir / f"search-{args.tickets}.db"
    if not postgres:
        url = f"sqlite:///{db_path}"
    # before anything imports config (which reads the environment once)
    os.environ.update(
        HELPDESK_ENV="development",
        HELPDESK_DATABASE_URL=url,
        HELPDESK_INSTANCE_PATH=str(args.workdir / "instance"),
        HELPDESK_MAIL_TRANSPORT="file",
        HELPDESK_SECRET_KEY=os.environ.get("HELPDESK_SECRET_KEY", "bench-secret-key"),
    )
    if postgres:
        seeded = _seed_postgresql(url, args.tickets)
    else:
        seeded = not (args.reuse and db_path.exists())
        if seeded:
            result = seeding.seed(db_path, args.tickets)
            print(f"seeded {result.tickets:,} tickets in {result.seconds:.0f} s", file=sys.stderr)
    sys.path.insert(0, str(seeding.ROOT))
    logging.getLogger("helpdesk").setLevel(logging.WARNING)  # not a line per registration
    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.search.indexer import reindex_all

    app = create_app()
    with app.app_context():
        if seeded:
            started = time.perf_counter()
            total = reindex_all(db.session.connection())
            db.session.commit()
            spent = time.perf_counter() - started
            print(f"reindexed {total:,} tickets in {spent:.1f} s ({total / spent:,.0f}/s)")
        queries = _queries(db.session.connection(), random.Random(7))
        db.session.remove()
    timings = measure(queries, args.clients, args.seconds)
    engine = "PostgreSQL" if postgres else "SQLite"
    print(f"\n{engine}, {args.tickets:,} tickets, {args.clients} clients, {args.seconds:.0f} s\n")
    print("| query | n | p50 ms | p95 ms | p99 ms |\n|---|---:|---:|---:|---:|")
    every = []
    for kind in QUERY_KINDS:
        values = timings[kind]
        every += values
        print(
            f"| {kind} | {len(values)} | {_pct(values, 50):.1f} | {_pct(values, 95):.1f} "
            f"| {_pct(values, 99):.1f} |"
        )
    print(
        f"| **all** | {len(every)} | {_pct(every, 50):.1f} | {_pct(every, 95):.1f} "
        f"| {_pct(every, 99):.1f} |"
    )
    if args.registrations:
        cost = write_cost(app, args.registrations)
        print(
            f"\nregister_ticket + commit, mean of {args.registrations}: index on "
            f"{cost['on']:.1f} ms, off {cost['off']:.1f} ms, "
            f"the index adds {cost['on'] - cost['off']:.1f} ms"
        )
    return 0


def _seed_postgresql(url: str, tickets: int) -> bool:
    """Seed an EMPTY PostgreSQL database with bench.seed's rows (schema by `flask db upgrade`)."""
    import random as _random
    import subprocess

    env = {**os.environ, "HELPDESK_DATABASE_URL": url, "HELPDESK_ENV": "development"}
    flask = Path(sys.executable).parent / "flask"
    subprocess.run(
        [str(flask), "--app", "wsgi", "db", "upgrade"], cwd=seeding.ROOT, env=env, check=True
    )
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        if conn.scalar(sa.text("SELECT count(*) FROM tickets")):
            print("the PostgreSQL database already has tickets: measuring them", file=sys.stderr)
            _move_sequences(conn)
            # a run stopped between the seed and the reindex left the index empty
            return not conn.scalar(sa.text("SELECT count(*) FROM search_documents"))
    seeder = seeding.Seeder(engine, tickets, _random.Random(1), 365)
    with engine.connect() as conn:
        seeder.reference(conn)
        seeder.customers(conn)
        seeder.tickets(conn)
        _move_sequences(conn)
    engine.dispose()
    return True


def _move_sequences(conn) -> None:
    """The seeded rows came with explicit ids: move every sequence past them."""
    for table, column in conn.execute(
        sa.text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_default LIKE 'nextval%'"
        )
    ).all():
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "  # noqa: S608
                f"coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
            )
        )
    conn.commit()


if __name__ == "__main__":
    raise SystemExit(main())
