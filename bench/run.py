"""The benchmark: seed N tickets into a fresh SQLite database, serve it with gunicorn, measure.

    python -m bench.run --tickets 100000           # what `make bench` runs
    python -m bench.run --tickets 100000 --reuse   # measure again on the database already seeded

Measures, with 8 concurrent loopback clients and bounded request/time budgets:
API ticket creation/s, portal submission/s, console queue p50/p95, console ticket page p50/p95,
customer history p50/p95 (portal "my demands" of a customer with many tickets, and the console's
customer page), plus each page's single-request time (one client, sequential). Writes a table to
stdout and JSON to bench/results/ (git-ignored). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from . import seed as seeding
from .client import Http, forms_of, login, run_load

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

TARGETS = {  # at 100k tickets on the 2-core reference machine
    "api_create": ("ok_per_second", ">=", 300),
    "portal_submit": ("ok_per_second", ">=", 300),
    "console_queue": ("p95_ms", "<=", 50),
    "console_ticket": ("p95_ms", "<=", 50),
}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(db_path: Path, workdir: Path) -> dict:
    env = dict(os.environ)
    env.update(
        HELPDESK_ENV="production",
        HELPDESK_BASE_URL=env.get("HELPDESK_BASE_URL", "http://127.0.0.1:8000"),
        HELPDESK_SECRET_KEY=secrets.token_hex(32),
        HELPDESK_SESSION_COOKIE_SECURE="0",  # plain http on loopback
        HELPDESK_DATABASE_URL=f"sqlite:///{db_path}",
        HELPDESK_INSTANCE_PATH=str(workdir / "instance"),
        HELPDESK_UPLOAD_DIR=str(workdir / "uploads"),
        HELPDESK_MAIL_TRANSPORT="file",
        HELPDESK_MAIL_DIR=str(workdir / "mail"),
        HELPDESK_RATELIMIT_ENABLED="0",
    )
    return env


def api_token(env: dict) -> str:
    flask = Path(sys.executable).parent / "flask"
    out = subprocess.run(
        [str(flask), "--app", "wsgi", "token", "create", seeding.ADMIN, "--name", "bench"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1].strip()


class Server:
    """gunicorn with N sync workers on 127.0.0.1."""

    def __init__(self, env: dict, workers: int, workdir: Path):
        self.port = free_port()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {workdir / 'gunicorn.log'}")
            try:
                if Http("127.0.0.1", self.port).get("/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def sample_protocols(db_path: Path, department_ids: tuple[int, ...], n: int = 1000) -> list[str]:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        top = con.execute("SELECT max(id) FROM tickets").fetchone()[0]
        ids = random.Random(7).sample(range(1, top + 1), min(top, n * 3))
        marks = ",".join("?" * len(ids))
        rows = con.execute(
            f"SELECT protocol FROM tickets WHERE id IN ({marks}) "  # noqa: S608 - placeholders
            f"AND department_id IN ({','.join('?' * len(department_ids))})",
            [*ids, *department_ids],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows][:n]


def sequential(http: Http, path: str, count: int = 20) -> dict:
    """One client, one request after another: the time a single page takes."""
    times, statuses = [], set()
    for _ in range(count):
        t0 = time.perf_counter()
        response = http.get(path, keep_cookies=False)
        times.append((time.perf_counter() - t0) * 1000)
        statuses.add(response.status)
    times.sort()
    return {
        "path": path,
        "status": sorted(statuses),
        "median_ms": round(times[len(times) // 2], 1),
        "min_ms": round(times[0], 1),
    }


def sequential_calls(label: str, call, count: int = 10) -> dict:
    """One client, `count` writes one after another (indexes 1_000_000+ keep subjects apart)."""
    times, statuses = [], set()
    for i in range(count):
        t0 = time.perf_counter()
        statuses.add(call(1_000_000 + i))
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "path": label,
        "status": sorted(statuses),
        "median_ms": round(times[len(times) // 2], 1),
        "min_ms": round(times[0], 1),
    }


def portal_form(http: Http) -> tuple[str, str, list[tuple[str, str]]]:
    """Read /portal/new once, as a browser does: the CSRF token and the fields to send."""
    page = http.get("/portal/new")
    if page.status != 200:
        raise RuntimeError(f"/portal/new answered {page.status}")
    forms = [f for f in forms_of(page.text) if f.method == "post" and "subject" in f.text]
    if not forms:
        raise RuntimeError("no demand form on /portal/new")
    form = forms[0]
    fields = list(form.fields)
    for name, values in form.choices.items():
        if "complaint" in values:  # the kind of demand
            chosen = "complaint"
        else:  # a category that applies to complaints, as the page's script offers
            fitting = [v for v in values if v and "complaint" in form.option_kinds.get(v, "")]
            chosen = fitting[0] if fitting else ""
        fields.append((name, chosen))
    return form.action or "/portal/new", form.enctype, fields


def measure(args, db_path: Path, workdir: Path, seed_result: dict | None) -> dict:
    env = server_env(db_path, workdir)
    log("creating the API token (flask token create)")
    token = api_token(env)
    log(f"starting gunicorn with {args.workers} workers")
    server = Server(env, args.workers, workdir)
    base = Http("127.0.0.1", server.port)
    results: dict = {"single": {}, "load": {}}
    budget = {"clients": args.clients, "max_requests": args.requests, "max_seconds": args.seconds}
    try:
        agent = login(base.clone(), seeding.AGENT, seeding.PASSWORD)
        history = login(base.clone(), seeding.HEAVY_CUSTOMER, seeding.PASSWORD)
        portal = login(base.clone(), seeding.PORTAL_CUSTOMER, seeding.PASSWORD)
        protocols = sample_protocols(db_path, (1, 2))
        history_customer = 1  # seeded: customer 1 is history@bench.sac
        pages = {
            "console_queue": (agent, "/console/"),
            "console_ticket": (agent, "/console/tickets/{protocol}"),
            "portal_history": (history, "/portal/demands"),
            "console_customer": (agent, f"/console/customers/{history_customer}"),
        }
        # warm up both workers (templates compiled, connections open)
        for who, path in pages.values():
            for _ in range(4):
                who.get(path.format(protocol=protocols[0]), keep_cookies=False)

        log("single-request times (one client, sequential)")
        for name, (who, path) in pages.items():
            results["single"][name] = sequential(who, path.format(protocol=protocols[1]))
        for name, row in results["single"].items():
            log(f"  {name}: {row}")

        rng = random.Random(11)

        def page_call(who: Http, path: str):
            def call(i: int) -> int:
                return who.get(
                    path.format(protocol=rng.choice(protocols)), keep_cookies=False
                ).status

            return call

        for name, (who, path) in pages.items():
            if args.only and name not in args.only:
                continue
            if results["single"][name]["status"] != [200]:
                log(f"skipping {name}: {path} answered {results['single'][name]['status']}")
                continue
            log(f"load: {name}")
            res = run_load(name, page_call(who, path), lambda s: s == 200, **budget)
            results["load"][name] = res.summary()

        # writes: API creation (201) and portal submission (302)
        customers = seed_result["customers"] if seed_result else 1000

        def api_call(i: int) -> int:
            if i % 2:
                customer = {
                    "name": "Cliente Bench",
                    "email": f"cliente{rng.randint(3, customers)}@bench.example.com",
                }
            else:
                customer = {
                    "name": f"Novo Cliente {i}",
                    "email": f"novo-{i}-{time.time_ns()}@bench.example.com",
                }
            payload = {
                "kind": "complaint",
                "channel": "api",
                "subject": f"Cobrança indevida na fatura ({i})",
                "description": "Minha fatura veio com um serviço que não contratei. Quero o estorno.",
                "customer": customer,
            }  # fmt: skip
            return base.post_json("/api/v1/tickets", payload, token).status

        results["single"]["api_create"] = sequential_calls("POST /api/v1/tickets", api_call)
        if not args.only or "api_create" in args.only:
            log("load: api_create")
            results["load"]["api_create"] = run_load(
                "api_create", api_call, lambda s: s == 201, **budget
            ).summary()

        action, enctype, fields = portal_form(portal)
        post = portal.post_multipart if "multipart" in enctype else portal.post_form

        def portal_call(i: int) -> int:
            data = [
                *fields,
                ("subject", f"Entrega atrasada do pedido {i}"),
                ("description", "Comprei há 15 dias e o rastreio não atualiza."),
                ("remedy", "Entrega ou devolução do valor"),
            ]
            return post(action, data, keep_cookies=False).status

        results["single"]["portal_submit"] = sequential_calls(f"POST {action}", portal_call)
        if not args.only or "portal_submit" in args.only:
            log("load: portal_submit")
            results["load"]["portal_submit"] = run_load(
                "portal_submit", portal_call, lambda s: s == 302, **budget
            ).summary()
    finally:
        server.stop()
    return results


def verdicts(load: dict) -> dict:
    out = {}
    for name, (metric, op, target) in TARGETS.items():
        value = load.get(name, {}).get(metric)
        if value is None:
            out[name] = {"metric": metric, "target": f"{op} {target}", "value": None, "met": None}
            continue
        met = value >= target if op == ">=" else value <= target
        out[name] = {"metric": metric, "target": f"{op} {target}", "value": value, "met": met}
    return out


def table(report: dict) -> str:
    lines = [
        f"tickets: {report['tickets']:,}   workers: {report['workers']}   clients: {report['clients']}"
        f"   load average at start: {report['loadavg_start']}",
        "",
        "| scenario | ok/s | p50 ms | p95 ms | p99 ms | requests | statuses | single ms | target |",
        "|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    names = list(dict.fromkeys([*report["load"], *report["single"]]))
    for name in names:
        row = report["load"].get(name, {})
        single = report["single"].get(name, {})
        v = report["verdicts"].get(name)
        target = ""
        if v:
            target = f"{v['metric']} {v['target']}: " + (
                "n/a" if v["met"] is None else ("met" if v["met"] else "MISSED")
            )
        lines.append(
            f"| {name} | {row.get('ok_per_second', '')} | {row.get('p50_ms', '')} | "
            f"{row.get('p95_ms', '')} | {row.get('p99_ms', '')} | {row.get('requests', '')} | "
            f"{row.get('statuses', '')} | {single.get('median_ms', '')} | {target} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed and benchmark the help desk.")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-bench"
    )
    parser.add_argument("--reuse", action="store_true", help="do not reseed an existing database")
    parser.add_argument("--seed-only", action="store_true", help="seed, report and stop")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=3000, help="request budget per scenario")
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget per scenario")
    parser.add_argument(
        "--only",
        type=lambda v: set(v.split(",")),
        default=None,
        help="comma-separated scenarios to load-test (all by default)",
    )
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after seeding")
    args = parser.parse_args(argv)

    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / f"bench-{args.tickets}.db"
    meta_path = workdir / f"bench-{args.tickets}.json"
    seed_result = None
    if args.reuse and db_path.exists() and meta_path.exists():
        seed_result = json.loads(meta_path.read_text())
        log(f"reusing {db_path}")
    else:
        log(f"seeding {args.tickets:,} tickets into {db_path}")
        result = seeding.seed(db_path, args.tickets, analyze=args.analyze)
        seed_result = {
            "tickets": result.tickets,
            "customers": result.customers,
            "messages": result.messages,
            "events": result.events,
            "seconds": round(result.seconds, 1),
            "phases": result.phases,
            "db_mb": round(result.db_bytes / 1e6, 1),
            "schema": result.schema,
        }
        meta_path.write_text(json.dumps(seed_result, indent=2))
        log(f"seeded: {seed_result}")
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "tickets": args.tickets,
        "workers": args.workers,
        "clients": args.clients,
        "budget": {"requests": args.requests, "seconds": args.seconds},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
        },
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "seed": seed_result,
    }
    if args.seed_only:
        print(json.dumps(report, indent=2))
        return 0
    measured = measure(args, db_path, workdir, seed_result)
    report.update(measured)
    report["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    report["verdicts"] = verdicts(report["load"])
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"{stamp}-{args.tickets}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(table(report))
    print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
