"""CPU and wall time of one registration in-process (register_ticket + commit), on a fresh database.

    python -m bench.register [-n 200] [--db sqlite:///file.db | postgresql+psycopg://…]

The schema comes from `db.create_all()`, one department, one SLA policy and one customer; then
`-n` demands are registered one after the other, each committed, as the web intake does (routing,
protocol, SLA rows, events, the acknowledgement queued). Prints JSON: ms of CPU and wall per
registration, and the load average. Run it from another checkout (cwd and PYTHONPATH there) to
compare two versions of the code on the same machine, back to back.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--db", default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/register.db"
        os.environ["HELPDESK_INSTANCE_PATH"] = tmp
        from config import Config

        class BenchConfig(Config):
            SECRET_KEY = "bench"  # noqa: S105
            SQLALCHEMY_DATABASE_URI = url
            MAIL_TRANSPORT = "memory"
            RATELIMIT_ENABLED = False

        from helpdesk import create_app
        from helpdesk.accounts.services import create_department
        from helpdesk.customers.services import create_customer
        from helpdesk.extensions import db
        from helpdesk.sla.policies import ensure_default_policy
        from helpdesk.tickets.services import register_ticket

        app = create_app(BenchConfig)
        import logging

        logging.disable(logging.INFO)  # both versions log the same lines; not what is measured
        with app.app_context():
            db.drop_all()
            db.create_all()
            create_department(name="SAC Geral", is_default=True)
            ensure_default_policy()
            customer = create_customer(name="Cliente Bench", email="bench@example.com")
            db.session.commit()

            def one(i: int) -> None:
                register_ticket(
                    actor=None,
                    customer=customer,
                    channel="web",
                    kind="complaint",
                    subject=f"Cobrança indevida {i}",
                    description="Minha fatura veio com um serviço que não contratei.",
                )
                db.session.commit()

            for i in range(10):  # warm-up
                one(i)
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(args.n):
                one(100 + i)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            db.session.remove()
            if args.db:
                db.drop_all()
    print(
        json.dumps(
            {
                "n": args.n,
                "cpu_ms": round(cpu / args.n * 1000, 2),
                "wall_ms": round(wall / args.n * 1000, 2),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
