"""CPU per registration, in-process, for the three of the side-by-side: a figure that a loaded
machine does not distort as much as wrk's throughput (CPU seconds, not wall).

    python -m bench.cpu --tickets 100000 [-n 200]   # needs bench.side's seeded databases

This project: `bench.profile --scenario api` (the API, a test client, the seeded database, on a
copy); the floor: bench/floor.py through Flask's test client; django-helpdesk: its public form
through Django's test client (CSRF checks off there, as Django's test client does) in its venv.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PEER = """
import sys, time, django
django.setup()
from django.test import Client
c = Client(HTTP_HOST="127.0.0.1")
n = int(sys.argv[1])
def post(i):
    r = c.post("/tickets/submit/", {"queue": "1", "title": f"Cobranca indevida {i}",
        "body": "Minha fatura veio com um servico que nao contratei.",
        "submitter_email": f"cpu-{i}@bench.example.com", "priority": "3"})
    assert r.status_code == 302, r.status_code
for i in range(10):
    post(i)
t = time.process_time()
for i in range(n):
    post(1000 + i)
print((time.process_time() - t) / n * 1000)
"""


def this_project(db: Path, n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "cpu.db"
        shutil.copy(db, copy)
        out = subprocess.run(
            [sys.executable, "-m", "bench.profile", "--db", str(copy), "--scenario", "api",
             "-n", str(n)],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
    return float(re.search(r"([\d.]+) ms CPU", out.stdout + out.stderr).group(1))


def floor(n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["BENCH_FLOOR_DB"] = str(Path(tmp) / "floor.db")
        from . import floor as app_module

        client = app_module.app.test_client()
        data = {"subject": "Cobranca indevida", "description": "Minha fatura"}
        for _ in range(10):
            client.post("/tickets", data=data)
        t = time.process_time()
        for _ in range(n):
            assert client.post("/tickets", data=data).status_code == 201
        return (time.process_time() - t) / n * 1000


def peer(workdir: Path, tickets: int, n: int) -> float:
    site = workdir / "peer" / f"site-{tickets}"
    copy = workdir / "peer" / f"cpu-{tickets}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(site, copy)  # its database too: the submissions do not stay
    (copy / "cpu.py").write_text(PEER)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "site_settings", "PYTHONPATH": str(copy)}
    try:
        out = subprocess.run(
            [str(workdir / "peer" / "venv" / "bin" / "python"), "cpu.py", str(n)],
            cwd=copy, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-bench"
    )
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args(argv)
    result = {
        "this_ms": round(this_project(args.workdir / f"bench-{args.tickets}.db", args.n), 2),
        "floor_ms": round(floor(args.n), 2),
    }
    if (args.workdir / "peer" / f"site-{args.tickets}").exists():
        result["peer_ms"] = round(peer(args.workdir, args.tickets, args.n), 2)
    result["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
