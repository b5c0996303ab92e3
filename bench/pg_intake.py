"""Registrations per second through the API on PostgreSQL, by gunicorn worker count.

    python -m bench.pg_intake --url postgresql+psycopg://postgres@127.0.0.1:55432/hd_bench \\
        [--workers 2 4] [--servers 1] [--clients 8] [--seconds 15]

The database is emptied and created from the models (all its tables are dropped: give it a
database of its own). For each worker count it starts `--servers` gunicorn servers with that many
sync workers each (one PostgreSQL, the scheduler NOT running: the outbox just fills), then
`--clients` threads POST /api/v1/tickets (a new customer with an email each time: routing, SLA,
events, protocol, outbox and webhooks all in the request) round-robin over the servers for
`--seconds`, and prints tickets/s and latency percentiles as JSON. The client threads run on the
same machine and take CPU from the servers: the figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent


def _log(msg: str) -> None:
    print(f"[pg_intake] {msg}", file=sys.stderr, flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(url: str, workdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(
        HELPDESK_ENV="development",
        HELPDESK_SECRET_KEY="bench-secret",  # noqa: S106 - a throwaway local server
        HELPDESK_DATABASE_URL=url,
        HELPDESK_INSTANCE_PATH=str(workdir),
        HELPDESK_RATELIMIT_ENABLED="0",
        HELPDESK_MAIL_TRANSPORT="file",
    )
    return env


def _prepare(url: str, env: dict) -> str:
    """A fresh schema, the default department and SLA policy, an agent and an API token."""
    script = """
from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.accounts.services import create_department, create_user, issue_api_token
from helpdesk.sla.policies import ensure_default_policy
app = create_app()
with app.app_context():
    db.drop_all()
    db.create_all()
    dept = create_department(name="SAC", is_default=True)
    agent = create_user(email="bench@example.com", name="Bench", role="agent", password=None,
                        departments=[dept])
    ensure_default_policy()
    print(issue_api_token(agent, "bench"))
    db.session.commit()
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def _post(port: int, token: str, n: int) -> int:
    body = json.dumps(
        {
            "kind": "complaint",
            "subject": f"Cobrança em dobro {n}",
            "description": "Fui cobrado duas vezes no cartão.",
            "customer": {"name": f"Cliente {n}", "email": f"cliente{n}@example.com"},
        }
    ).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            "/api/v1/tickets",
            body,
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _serve(env: dict, workers: int, workdir: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    log = open(workdir / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 - the process keeps it
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],  # fmt: skip
        cwd=ROOT,
        env={**env, "HELPDESK_PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def measure(url: str, workers: int, servers: int, clients: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="pg-intake-") as tmp:
        workdir = Path(tmp)
        env = _env(url, workdir)
        token = _prepare(url, env)
        procs = [_serve(env, workers, workdir) for _ in range(servers)]
        ports = [port for _, port in procs]
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        counter = iter(range(10**9))
        for i in range(clients):  # warm every worker up (imports, connections)
            _post(ports[i % len(ports)], token, next(counter))
        stop = time.monotonic() + seconds

        def client(i: int) -> None:
            nonlocal errors
            mine, bad = [], 0
            port = ports[i % len(ports)]
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                status = _post(port, token, next(counter))
                mine.append((time.perf_counter() - t0) * 1000)
                bad += status != 201
            with lock:
                latencies.extend(mine)
                errors += bad

        load0 = os.getloadavg()[0]
        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        for proc, _ in procs:
            proc.terminate()
            proc.wait(timeout=30)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            tickets = conn.scalar(sa.text("SELECT count(*) FROM tickets"))
        engine.dispose()
        latencies.sort()

        def pct(p):
            return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 1)

        return {
            "servers": servers,
            "workers_per_server": workers,
            "clients": clients,
            "seconds": round(elapsed, 1),
            "registrations": len(latencies),
            "errors": errors,
            "tickets_in_db": tickets,
            "tickets_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": pct(0.5),
            "p90_ms": pct(0.9),
            "p99_ms": pct(0.99),
            "load_average_before": round(load0, 2),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL database of its own")
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args(argv)
    if not args.url.startswith("postgresql"):
        parser.error("--url must be a PostgreSQL URL")
    for workers in args.workers:
        result = measure(args.url, workers, args.servers, args.clients, args.seconds)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
