"""Where a request's time goes: in-process, one request at a time, on a seeded bench database.

    python -m bench.profile --db /tmp/helpdesk-bench/bench-100000.db --scenario api -n 200
    python -m bench.profile --db ... --scenario ticket --cprofile 30

Runs the app with the Flask test client (no HTTP, no gunicorn), so the figures are the application's
own cost: wall and CPU milliseconds per request, SQL statements per request, and optionally the
cProfile functions with the most cumulative time. Writes (api, portal) go to a copy of the database.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from . import seed as seeding

SCENARIOS = ("api", "portal", "queue", "ticket", "history", "customer")


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    return match.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Profile one scenario in-process.")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--scenario", choices=SCENARIOS, required=True)
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--cprofile", type=int, default=0, help="print the top N functions")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="helpdesk-profile-"))
    db_path = args.db  # pages only read (and the login stamps last_login_at)
    if args.scenario in ("api", "portal"):  # writes go to a consistent copy, WAL included
        db_path = work / "bench.db"
        con = sqlite3.connect(args.db)
        con.execute(f"VACUUM INTO '{db_path}'")
        con.close()
    os.environ.update(
        HELPDESK_ENV="production",
        HELPDESK_BASE_URL=os.environ.get("HELPDESK_BASE_URL", "http://127.0.0.1:8000"),
        HELPDESK_SECRET_KEY=secrets.token_hex(16),
        HELPDESK_DATABASE_URL=f"sqlite:///{db_path}",
        HELPDESK_INSTANCE_PATH=str(work / "instance"),
        HELPDESK_MAIL_TRANSPORT="file",
        HELPDESK_MAIL_DIR=str(work / "mail"),
        HELPDESK_UPLOAD_DIR=str(work / "uploads"),
        HELPDESK_RATELIMIT_ENABLED="0",
        HELPDESK_SESSION_COOKIE_SECURE="0",
    )
    import sqlalchemy as sa

    from helpdesk import create_app
    from helpdesk.accounts.services import get_user_by_email, issue_api_token
    from helpdesk.extensions import db

    app = create_app()
    client = app.test_client()
    with app.app_context():
        token = issue_api_token(get_user_by_email(seeding.ADMIN), "profile")
        db.session.commit()
        protocols = list(
            db.session.scalars(
                sa.text(
                    "SELECT protocol FROM tickets WHERE department_id IN (1, 2) "
                    "ORDER BY random() LIMIT 500"
                )
            )
        )
        engine = db.engine

    def login(email):
        client.get("/login")
        client.post(
            "/login",
            data={
                "email": email,
                "password": seeding.PASSWORD,
                "csrf_token": _csrf(client.get("/login").get_data(as_text=True)),
            },
        )

    rng = random.Random(3)
    if args.scenario == "api":

        def call(i):
            return client.post(
                "/api/v1/tickets",
                json={
                    "kind": "complaint",
                    "channel": "api",
                    "subject": f"Cobrança indevida {i}",
                    "description": "Fatura com serviço não contratado.",
                    "customer": {"name": "Cliente", "email": f"cliente{i + 3}@bench.example.com"},
                },
                headers={"Authorization": f"Bearer {token}"},
            ).status_code
    elif args.scenario == "portal":
        login(seeding.PORTAL_CUSTOMER)
        csrf = _csrf(client.get("/portal/new").get_data(as_text=True))

        def call(i):
            return client.post(
                "/portal/new",
                data={
                    "csrf_token": csrf,
                    "kind": "complaint",
                    "category": "",
                    "subject": f"Entrega atrasada {i}",
                    "description": "O rastreio não atualiza.",
                    "remedy": "",
                },
            ).status_code
    else:
        paths = {
            "queue": "/console/",
            "ticket": "/console/tickets/{p}",
            "history": "/portal/demands",
            "customer": "/console/customers/1",
        }
        login(seeding.HEAVY_CUSTOMER if args.scenario == "history" else seeding.AGENT)
        path = paths[args.scenario]

        def call(i):
            return client.get(path.format(p=rng.choice(protocols))).status_code

    statements = 0
    sql_seconds = 0.0
    slowest: dict[str, float] = {}

    def before(conn, cursor, statement, *_a):
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn, cursor, statement, *_a):
        nonlocal statements, sql_seconds
        statements += 1
        spent = time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())
        sql_seconds += spent
        key = " ".join(statement.split())[:160]
        slowest[key] = slowest.get(key, 0.0) + spent

    for i in range(5):  # warm up
        call(i)
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    profiler = cProfile.Profile() if args.cprofile else None
    statuses: dict[int, int] = {}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for i in range(10, 10 + args.n):
        status = call(i)
        statuses[status] = statuses.get(status, 0) + 1
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(
        f"{args.scenario}: {args.n} requests, statuses {statuses}; per request: "
        f"{wall / args.n * 1000:.1f} ms wall, {cpu / args.n * 1000:.1f} ms CPU, "
        f"{statements / args.n:.1f} SQL statements taking {sql_seconds / args.n * 1000:.1f} ms"
    )
    shown = 100 if os.environ.get("BENCH_STATEMENTS") else 5  # BENCH_STATEMENTS=1: every one
    for statement, spent in sorted(slowest.items(), key=lambda kv: -kv[1])[:shown]:
        print(f"  {spent / args.n * 1000:6.2f} ms/request  {statement}")
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stdout).sort_stats(
            os.environ.get("BENCH_SORT", "cumulative")
        )
        # BENCH_CALLEES=queue_email: what that function's time is spent on
        if os.environ.get("BENCH_CALLEES"):
            stats.print_callees(os.environ["BENCH_CALLEES"])
        else:
            stats.print_stats(args.cprofile)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
