"""Measure one escalation sweep on a seeded database: time and memory against due rows and total.

    python -m bench.sweep --db /tmp/helpdesk-bench/bench.db [--due-share 0.01] [--seed N]

On a database made by `bench.seed` (seeded here first when `--seed N` is given or the file is
missing), this gives every ticket its SLA rows the way the services would (first response and
resolution; met for answered / resolved tickets; paused none), written set-based in batches, plus
three escalation rules (75 % of the first response → level 1; first response breached → level 2
and priority urgent; resolution breached + 1 h → level 3, ombudsman). Then it arms `--due-share`
of the tickets (default 1 %) so that their first-response deadline passed a minute ago, and runs
`sweep()` in a FRESH process, which reports wall time, CPU time, statements, peak RSS of that
process and, with --tracemalloc, the peak of Python allocations (slower). Arming is repeatable:
each run resets the armed tickets' escalations first.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from .seed import _env, seed

BATCH = 20_000
NOW = datetime.now(UTC).replace(microsecond=0)


def _log(msg: str) -> None:
    print(f"[sweep] {msg}", file=sys.stderr, flush=True)


def _dt(value: datetime) -> str:
    """SQLite's stored form of a DateTime(timezone=True) written by SQLAlchemy."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def prepare(db_path: Path, due_share: float, rng: random.Random) -> dict:
    """SLA rows for every ticket (once), the rules (once), then arm `due_share` of the tickets."""
    engine = sa.create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        total = conn.exec_driver_sql("SELECT COUNT(*) FROM tickets").scalar_one()
        has_rows = conn.exec_driver_sql("SELECT COUNT(*) FROM ticket_slas").scalar_one()
        if not has_rows:
            t0 = time.perf_counter()
            _sla_rows(conn)
            _log(f"SLA rows for {total:,} tickets in {time.perf_counter() - t0:.1f} s")
        if not conn.exec_driver_sql("SELECT COUNT(*) FROM escalation_rules").scalar_one():
            _rules(conn)
        # reset what a previous run fired, then arm a fresh random share
        conn.exec_driver_sql("DELETE FROM notifications")
        conn.exec_driver_sql("DELETE FROM escalations")
        conn.exec_driver_sql("DELETE FROM outbox_messages WHERE kind = 'escalation'")
        conn.exec_driver_sql(
            "DELETE FROM ticket_events WHERE actor_id IS NULL AND action IN "
            "('escalated', 'sla_breached', 'priority', 'transferred')"
        )
        conn.exec_driver_sql(
            "UPDATE tickets SET escalation_level = 0, sla_levels_fired = 0 "
            "WHERE escalation_level != 0 OR sla_levels_fired != 0"
        )
        conn.exec_driver_sql(
            "UPDATE ticket_slas SET breached_at = NULL, next_check_at = NULL "
            "WHERE next_check_at IS NOT NULL AND next_check_at <= ?",
            (_dt(NOW),),
        )
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM tickets")]
        armed = rng.sample(ids, max(1, int(len(ids) * due_share)))
        past = NOW - timedelta(minutes=1)
        for i in range(0, len(armed), BATCH):
            chunk = armed[i : i + BATCH]
            conn.execute(
                sa.text(
                    "UPDATE ticket_slas SET met_at = NULL, breached_at = NULL, "
                    "started_at = :started, due_at = :due, next_check_at = :due "
                    "WHERE target = 'first_response' AND ticket_id = :id"
                ),
                [
                    {"id": t, "started": _dt(past - timedelta(hours=9)), "due": _dt(past)}
                    for t in chunk
                ],
            )
    engine.dispose()
    return {"tickets": total, "armed": len(armed)}


def _sla_rows(conn) -> None:
    """Two rows per ticket, as register_ticket + the answer/resolve services leave them."""
    future = NOW + timedelta(days=30)
    rows = conn.exec_driver_sql(
        "SELECT id, created_at, first_response_at, resolved_at, status FROM tickets"
    )
    batch: list[dict] = []
    insert = sa.text(
        "INSERT INTO ticket_slas (ticket_id, target, started_at, due_at, met_at, breached_at, "
        "calendar_id, total_seconds, pausable, paused_seconds, paused_at, next_check_at) "
        "VALUES (:ticket_id, :target, :started, :due, :met, NULL, NULL, :total, :pausable, 0, "
        "NULL, :next)"
    )
    for ticket_id, created, first, resolved, status in rows:
        created_at = datetime.fromisoformat(str(created))
        closed = status in ("resolved", "closed")
        for target, seconds, met in (
            ("first_response", 9 * 3600, first),
            ("resolution", 7 * 86400, resolved if closed else None),
        ):
            due = created_at + timedelta(seconds=seconds)
            running = met is None
            batch.append(
                {
                    "ticket_id": ticket_id,
                    "target": target,
                    "started": str(created),
                    "due": _dt(due.replace(tzinfo=UTC)),
                    "met": None if met is None else str(met),
                    "total": seconds,
                    "pausable": target != "resolution",
                    # open rows of the seed are old: give them a check in the future, so that
                    # only the armed share is due
                    "next": _dt(future) if running else None,
                }
            )
        if len(batch) >= BATCH:
            conn.execute(insert, batch)
            batch.clear()
    if batch:
        conn.execute(insert, batch)


def _rules(conn) -> None:
    now = _dt(NOW)
    common = {
        "active": True,
        "kind": None,
        "department_id": None,
        "priority": None,
        "notify_assignee": True,
        "notify_supervisors": True,
        "notify_user_ids": "[]",
        "reassign_department_id": None,
        "reassign_user_id": None,
        "ack_minutes": 240,
        "created_at": now,
    }
    rules = [
        {"name": "75% primeira resposta", "position": 1, "target": "first_response",
         "trigger": "elapsed", "percent": 75, "offset_minutes": None, "level": 1,
         "set_priority": None, "to_ombudsman": False},
        {"name": "Primeira resposta vencida", "position": 2, "target": "first_response",
         "trigger": "after_breach", "percent": None, "offset_minutes": 0, "level": 2,
         "set_priority": 4, "to_ombudsman": False},
        {"name": "Prazo legal vencido", "position": 3, "target": "resolution",
         "trigger": "after_breach", "percent": None, "offset_minutes": 60, "level": 3,
         "set_priority": None, "to_ombudsman": True},
    ]  # fmt: skip
    columns = ", ".join([*common, *rules[0]])
    values = ", ".join(f":{c}" for c in [*common, *rules[0]])
    conn.execute(
        sa.text(f"INSERT INTO escalation_rules ({columns}) VALUES ({values})"),  # noqa: S608 - our names
        [{**common, **rule} for rule in rules],
    )


def measure_in_process(db_path: Path, trace: bool = False) -> dict:
    """Run one sweep here (a fresh process) and report time, statements and memory."""
    for key, value in _env(db_path).items():
        os.environ[key] = value
    from sqlalchemy import event

    from helpdesk import create_app
    from helpdesk.escalations.sweep import sweep
    from helpdesk.extensions import db

    app = create_app()
    statements = 0
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))  # connect before measuring

        def count(*_args, **_kw):
            nonlocal statements
            statements += 1

        event.listen(db.engine, "before_cursor_execute", count)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if trace:  # Python's allocations (slows the sweep down several times: time not comparable)
            tracemalloc.start()
        cpu0, t0 = time.process_time(), time.perf_counter()
        result = sweep(NOW)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        again0 = time.perf_counter()
        second = sweep(NOW)
        again = time.perf_counter() - again0
    return {
        "sweep_seconds": round(wall, 3),
        "sweep_cpu_seconds": round(cpu, 3),
        "statements": statements,
        "result": result,
        "peak_rss_mb": round(rss_after, 1),
        "rss_before_sweep_mb": round(rss_before, 1),
        "python_alloc_peak_mb": round(peak / 1e6, 1) if trace else None,
        "second_sweep_seconds": round(again, 3),
        "second_sweep_result": second,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_db = Path(tempfile.gettempdir()) / "helpdesk-bench" / "bench.db"
    parser.add_argument("--db", type=Path, default=default_db)
    parser.add_argument("--seed", type=int, default=None, help="seed N tickets first")
    parser.add_argument("--due-share", type=float, default=0.01)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace allocations")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_only:
        print(json.dumps(measure_in_process(args.db, args.tracemalloc)))
        return
    if args.seed or not args.db.exists():
        result = seed(args.db, args.seed or 100_000)
        _log(f"seeded {result.tickets:,} tickets in {result.seconds:.0f} s")
    else:  # an older seed: bring its schema up to date
        flask = Path(sys.executable).parent / "flask"
        subprocess.run(
            [str(flask), "--app", "wsgi", "db", "upgrade"],
            cwd=Path(__file__).resolve().parent.parent,
            env=_env(args.db),
            check=True,
            capture_output=True,
        )
    armed = prepare(args.db, args.due_share, random.Random(7))
    _log(f"{armed['armed']:,} of {armed['tickets']:,} tickets due; sweeping in a fresh process")
    out = subprocess.run(
        [sys.executable, "-m", "bench.sweep", "--db", str(args.db), "--measure-only"]
        + (["--tracemalloc"] if args.tracemalloc else []),
        cwd=Path(__file__).resolve().parent.parent,
        check=True,
        capture_output=True,
        text=True,
    )
    report = {**armed, **json.loads(out.stdout.strip().splitlines()[-1])}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
