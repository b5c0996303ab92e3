"""The side-by-side: this help desk, the one-insert floor and (BENCH_PEER=1) django-helpdesk 2.6.1,
each under gunicorn, all driven by the same `wrk` settings; a table of ratios into
docs/benchmarks.md.

    python -m bench.side --tickets 100000            # what `make bench` runs (seeding reused)
    BENCH_PEER=1 python -m bench.side --tickets 100000
    HELPDESK_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:55432/hd_x python -m bench.side

Workloads (wrk, 2 threads, 8 connections, 15 s each): registration (POST /api/v1/tickets here,
the public submission form there, one insert in the floor), the agent queue page and one ticket
page (p90/p95; wrk's Lua `done` prints the percentiles, see bench/wrk/common.lua).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import seed as seeding
from .client import Http, login
from .run import api_token, free_port, sample_protocols, server_env

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = Path(__file__).resolve().parent / "wrk"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- side-by-side:begin -->", "<!-- side-by-side:end -->"

API_BODY = json.dumps(
    {
        "kind": "complaint",
        "channel": "api",
        "subject": "Cobrança indevida na fatura ({n})",
        "description": "Minha fatura veio com um serviço que não contratei. Quero o estorno.",
        "customer": {"name": "Cliente Bench {n}", "email": "novo-{n}@bench.example.com"},
    },
    ensure_ascii=False,
)
FLOOR_BODY = "subject=Cobranca+indevida+{n}&description=Minha+fatura+veio+com+um+servico"


def log(msg: str) -> None:
    print(f"[side] {msg}", file=sys.stderr, flush=True)


@dataclass
class Wrk:
    threads: int = 2
    connections: int = 8
    seconds: int = 15

    def run(self, port: int, script: str, **env: str) -> dict:
        full = {**os.environ, "WRK_DIR": str(WRK_DIR), **env}
        cmd = [
            "wrk",
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{self.seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(WRK_DIR / script),
            f"http://127.0.0.1:{port}",
        ]
        out = subprocess.run(cmd, env=full, capture_output=True, text=True, check=True).stdout
        match = re.search(r"^WRKJSON (.*)$", out, re.M)
        if not match:
            raise RuntimeError(f"wrk printed no summary:\n{out}")
        result = json.loads(match.group(1))
        result["ok_per_second"] = round(result["ok"] / result["seconds"], 1)
        return result


class Gunicorn:
    """gunicorn serving `app` on a free loopback port until stop()."""

    def __init__(self, app: str, env: dict, workdir: Path, workers: int, worker_class: str = "sync",
                 threads: int = 1, cwd: Path = ROOT, gunicorn: Path | None = None):  # fmt: skip
        self.port = free_port()
        gunicorn = gunicorn or Path(sys.executable).parent / "gunicorn"
        self.log = open(workdir / f"gunicorn-{app.split(':')[0]}.log", "w")  # noqa: SIM115
        cmd = [
            str(gunicorn),
            "-w",
            str(workers),
            "-k",
            worker_class,
            "-b",
            f"127.0.0.1:{self.port}",
        ]
        if worker_class == "gthread":
            cmd += ["--threads", str(threads)]
        self.proc = subprocess.Popen(
            [*cmd, app], cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {app} exited; see {self.log.name}")
            try:
                Http("127.0.0.1", self.port).get("/")
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn {app} did not answer within 90 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def _file(workdir: Path, name: str, text: str) -> str:
    path = workdir / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def measure_this(wrk: Wrk, env: dict, workdir: Path, protocols: list[str], workers: int,
                 worker_class: str, threads: int, only: set | None = None) -> dict:  # fmt: skip
    """Registration through the API, the agent's queue and one ticket page."""
    token = api_token(env)
    server = Gunicorn("wsgi:app", env, workdir, workers, worker_class, threads)
    try:
        agent = login(Http("127.0.0.1", server.port), seeding.AGENT, seeding.PASSWORD)
        cookie = "; ".join(f"{k}={v}" for k, v in agent.cookies.items())
        pages = {"queue": ["/console/"], "ticket": [f"/console/tickets/{p}" for p in protocols]}
        out = {}
        for name, paths in pages.items():
            if only and name not in only:
                continue
            for path in paths[:4]:  # warm up, and check the page really answers 200
                status = agent.get(path, keep_cookies=False).status
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
            paths_file = _file(workdir, f"paths-{name}.txt", "\n".join(paths) + "\n")
            log(f"wrk: {name} page")
            out[name] = wrk.run(server.port, "get.lua", WRK_PATHS=paths_file, WRK_COOKIE=cookie)
        if only and "registration" not in only:
            return out
        body = _file(workdir, "api-body.json", API_BODY)
        log("wrk: registration (POST /api/v1/tickets)")
        out["registration"] = wrk.run(
            server.port, "post.lua", WRK_PATH="/api/v1/tickets", WRK_BODY=body,
            WRK_TYPE="application/json", WRK_AUTH=f"Bearer {token}",
        )  # fmt: skip
    finally:
        server.stop()
    return out


def measure_floor(wrk: Wrk, workdir: Path, workers: int) -> dict:
    db = workdir / "floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "BENCH_FLOOR_DB": str(db)}
    server = Gunicorn("bench.floor:app", env, workdir, workers)
    try:
        body = _file(workdir, "floor-body.txt", FLOOR_BODY)
        log("wrk: floor (one insert per POST)")
        result = wrk.run(server.port, "post.lua", WRK_PATH="/tickets", WRK_BODY=body)
    finally:
        server.stop()
    with sqlite3.connect(db) as con:
        result["rows"] = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
    return result


def ticket_count(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM tickets"))
    finally:
        engine.dispose()


def pg_protocols(url: str, n: int = 1000) -> list[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT protocol FROM tickets WHERE department_id IN (1, 2) "
                    "ORDER BY md5(protocol) LIMIT :n"
                ),
                {"n": n},
            ).all()
    finally:
        engine.dispose()
    return [r[0] for r in rows]


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "—"


def table(report: dict) -> str:
    this, floor, peer = report["this"], report["floor"], report.get("peer") or {}
    reg, preg = this["registration"], peer.get("registration", {})
    lines = [
        "| workload | this project | django-helpdesk 2.6.1 | floor (one insert) "
        "| this / peer | this / floor |",
        "|---|---:|---:|---:|---:|---:|",
        f"| registration, ok/s | {reg['ok_per_second']} | {preg.get('ok_per_second', '—')} | "
        f"{floor['ok_per_second']} | {ratio(reg['ok_per_second'], preg.get('ok_per_second'))} | "
        f"{ratio(reg['ok_per_second'], floor['ok_per_second'])} |",
    ]
    for name, label in (("queue", "agent queue page"), ("ticket", "one ticket page")):
        mine, theirs = this[name], peer.get(name, {})
        for p in ("p90_ms", "p95_ms"):
            lines.append(
                f"| {label}, {p[:3]} ms | {mine[p]} | {theirs.get(p, '—')} | — | "
                f"{ratio(mine[p], theirs.get(p))} | — |"
            )
        lines.append(
            f"| {label}, req/s | {mine['ok_per_second']} | {theirs.get('ok_per_second', '—')} "
            "| — | — | — |"
        )
    for label, run in report.get("postgresql", {}).items():
        lines.append(
            f"| PostgreSQL, {label}: registration ok/s; queue p95; ticket p95 "
            f"| {run['registration']['ok_per_second']}; {run['queue']['p95_ms']} ms; "
            f"{run['ticket']['p95_ms']} ms | — | — | — | "
            f"{ratio(run['registration']['ok_per_second'], floor['ok_per_second'])} |"
        )
    return "\n".join(lines)


def write_doc(report: dict, text: str) -> None:
    section = "\n".join(
        [
            BEGIN,
            f"Measured {report['when']} with `{report['command']}`; load average at start "
            f"{report['loadavg_start']}, at end {report['loadavg_end']}; {report['tickets']:,} "
            f"tickets; gunicorn {report['workers']} × {report['worker_class']} workers; "
            f"wrk -t{report['wrk']['threads']} -c{report['wrk']['connections']} "
            f"-d{report['wrk']['seconds']}s. Registrations checked in the database: "
            f"{report['this']['registered_rows']} new tickets for "
            f"{report['this']['registration']['ok']} successful POSTs.",
            "",
            text,
            END,
        ]
    )
    doc = DOC.read_text(encoding="utf-8")
    if BEGIN in doc:
        doc = doc[: doc.index(BEGIN)] + section + doc[doc.index(END) + len(END) :]
    else:
        doc = doc.rstrip() + "\n\n## Side by side (wrk)\n\n" + section + "\n"
    DOC.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-bench"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=4, help="per worker, with gthread")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument(
        "--only",
        type=lambda v: set(v.split(",")),
        default=None,
        help="a quick lever check: some of registration,queue,ticket,pg (prints JSON, no doc)",
    )
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian package `wrk`)")
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    wrk = Wrk(seconds=args.seconds)
    db_path = workdir / f"bench-{args.tickets}.db"
    if args.reseed or not db_path.exists():
        log(f"seeding {args.tickets:,} tickets into {db_path}")
        result = seeding.seed(db_path, args.tickets)
        meta = {"tickets": result.tickets, "customers": result.customers}  # bench.run --reuse
        (workdir / f"bench-{args.tickets}.json").write_text(json.dumps(meta))
    else:
        log(f"reusing {db_path}")
    report: dict = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(
            [
                *(["BENCH_PEER=1"] if os.environ.get("BENCH_PEER") == "1" else []),
                *(["HELPDESK_BENCH_PG_URL=…"] if os.environ.get("HELPDESK_BENCH_PG_URL") else []),
                "python -m bench.side",
                *(argv if argv is not None else sys.argv[1:]),
            ]
        ),
        "tickets": args.tickets,
        "workers": args.workers,
        "worker_class": args.worker_class,
        "wrk": {"threads": wrk.threads, "connections": wrk.connections, "seconds": wrk.seconds},
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    env = server_env(db_path, workdir)
    if args.only:  # one lever, before and after: no floor, no peer, no doc
        pg_url = os.environ.get("HELPDESK_BENCH_PG_URL")
        if "pg" in args.only and pg_url:
            env, protocols = {**env, "HELPDESK_DATABASE_URL": pg_url}, pg_protocols(pg_url)
        else:
            protocols = sample_protocols(db_path, (1, 2))
        result = measure_this(wrk, env, workdir, protocols, args.workers, args.worker_class,
                              args.threads, args.only)  # fmt: skip
        print(json.dumps({"loadavg": os.getloadavg(), **report, **result}, indent=1))
        return 0
    protocols = sample_protocols(db_path, (1, 2))
    before = ticket_count(f"sqlite:///{db_path}")
    report["this"] = measure_this(
        wrk, env, workdir, protocols, args.workers, args.worker_class, args.threads
    )
    report["this"]["registered_rows"] = ticket_count(f"sqlite:///{db_path}") - before
    report["floor"] = measure_floor(wrk, workdir, args.workers)
    if os.environ.get("BENCH_PEER") == "1":
        from . import peer

        report["peer"] = peer.measure(wrk, workdir, args.tickets, args.workers)
    pg_url = os.environ.get("HELPDESK_BENCH_PG_URL")
    if pg_url:
        from .search import _seed_postgresql

        _seed_postgresql(pg_url, args.tickets)
        report["postgresql"] = {}
        pg_env = {**env, "HELPDESK_DATABASE_URL": pg_url}
        for workers in (2, 4):
            report["postgresql"][f"{workers} workers"] = measure_this(
                wrk, pg_env, workdir, pg_protocols(pg_url), workers, args.worker_class,
                args.threads,
            )  # fmt: skip
    report["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    text = table(report)
    print(text)
    (workdir / "side-latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    if not args.no_doc:
        write_doc(report, text)
    return 0


if __name__ == "__main__":
    random.seed(secrets.randbits(32))
    sys.exit(main())
