"""Every report of helpdesk.reports over a year of seeded tickets: wall time per report.

    python -m bench.reports --tickets 100000 [--reuse]          # SQLite file, seeded by bench.seed
    HELPDESK_DATABASE_URL=postgresql+psycopg://… python -m bench.reports --tickets 100000

Each report runs `--runs` times (default 3) in-process, as an admin (every department), over the
365 days ending today, and the median wall time and the SQL statements of one run are printed.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from . import seed as seeding


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reports over a year of seeded tickets.")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-bench"
    )
    parser.add_argument("--reuse", action="store_true", help="SQLite: keep the seeded file")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    url = os.environ.get("HELPDESK_DATABASE_URL", "")
    postgres = url.startswith("postgresql")
    db_path = args.workdir / f"reports-{args.tickets}.db"
    if not postgres:
        url = f"sqlite:///{db_path}"
    os.environ.update(
        HELPDESK_ENV="development",
        HELPDESK_DATABASE_URL=url,
        HELPDESK_INSTANCE_PATH=str(args.workdir / "instance"),
        HELPDESK_MAIL_TRANSPORT="file",
        HELPDESK_SECRET_KEY=os.environ.get("HELPDESK_SECRET_KEY", "bench-secret-key"),
    )
    if postgres:
        from .search import _seed_postgresql

        if _seed_postgresql(url, args.tickets):
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                conn.execute(sa.text("ANALYZE"))
                conn.commit()
            engine.dispose()
    elif not (args.reuse and db_path.exists()):
        result = seeding.seed(db_path, args.tickets, analyze=True)
        print(f"seeded {result.tickets:,} tickets in {result.seconds:.0f} s", file=sys.stderr)
    sys.path.insert(0, str(seeding.ROOT))
    logging.getLogger("helpdesk").setLevel(logging.WARNING)
    from helpdesk import create_app
    from helpdesk.core.clock import now
    from helpdesk.extensions import db
    from helpdesk.reports.catalog import all_reports
    from helpdesk.reports.params import Params
    from helpdesk.reports.registry import run_report

    app = create_app()
    zone = ZoneInfo("America/Sao_Paulo")
    engine_name = "PostgreSQL" if postgres else "SQLite"
    with app.test_request_context("/"):
        at = now()
        last = at.astimezone(zone).date()
        params = Params(first=last - timedelta(days=364), last=last, zone=zone, at=at)
        in_year = db.session.scalar(
            sa.text("SELECT count(*) FROM tickets WHERE created_at >= :a"),
            {"a": params.start},
        )
        print(
            f"\n{engine_name}, {args.tickets:,} tickets seeded ({in_year:,} in the year), "
            f"{args.runs} runs per report, median\n"
        )
        print("| report | rows | ms | SQL statements |\n|---|---:|---:|---:|")
        total = 0.0
        for report in all_reports():
            statements: list[int] = []

            def listener(*_args, _seen=statements):
                _seen.append(1)

            spent = []
            for run in range(args.runs):
                if run == 0:
                    sa.event.listen(db.engine, "before_cursor_execute", listener)
                started = time.perf_counter()
                result = run_report(report, params)
                spent.append((time.perf_counter() - started) * 1000)
                if run == 0:
                    sa.event.remove(db.engine, "before_cursor_execute", listener)
                db.session.rollback()
            ms = statistics.median(spent)
            total += ms
            print(f"| {report.name} | {len(result.rows)} | {ms:,.0f} | {len(statements)} |")
        print(f"| **all {len(all_reports())}** | | {total:,.0f} | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
