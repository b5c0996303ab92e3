"""Links in emails follow where the app is served: the port in development, HELPDESK_BASE_URL
(required) in production. Each case is a fresh process, as `make run` or gunicorn starts one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
from helpdesk import create_app
from helpdesk.extensions import db
app = create_app()
with app.test_request_context():
    db.create_all()
    from helpdesk.accounts.services import create_department
    from helpdesk.customers.services import create_customer
    from helpdesk.notifications.models import OutboxMessage
    from helpdesk.tickets.services import register_ticket
    create_department(name="SAC", is_default=True)
    customer = create_customer(name="Ana", email="ana@example.com")
    register_ticket(actor=None, customer=customer, channel="web", kind="complaint",
                    subject="Sem sinal", description="Caiu.")
    db.session.commit()
    print(db.session.scalars(db.select(OutboxMessage)).first().body_text)
"""


def _run(tmp_path, **env_vars):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "FLASK_RUN"))}
    env.pop("PORT", None)
    env.update(
        HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
        HELPDESK_INSTANCE_PATH=str(tmp_path / "instance"),
        HELPDESK_MAIL_TRANSPORT="file",
        HELPDESK_MAIL_DIR=str(tmp_path / "mail"),
        **env_vars,
    )
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_development_links_follow_the_served_port(tmp_path):
    proc = _run(tmp_path, HELPDESK_ENV="development", HELPDESK_PORT="8080")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "http://127.0.0.1:8080/guest/" in proc.stdout  # no account: a guest link
    assert ":5000" not in proc.stdout


def test_flask_run_port_is_followed_too(tmp_path):
    proc = _run(tmp_path, HELPDESK_ENV="development", FLASK_RUN_PORT="8123")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "http://127.0.0.1:8123/guest/" in proc.stdout


def test_an_explicit_base_url_wins(tmp_path):
    proc = _run(
        tmp_path,
        HELPDESK_ENV="production",
        HELPDESK_SECRET_KEY="s" * 32,
        HELPDESK_BASE_URL="https://sac.example.com/",
        HELPDESK_PORT="8080",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "https://sac.example.com/guest/" in proc.stdout


def test_production_refuses_to_start_without_base_url(tmp_path):
    proc = _run(tmp_path, HELPDESK_ENV="production", HELPDESK_SECRET_KEY="s" * 32)
    assert proc.returncode != 0
    assert "HELPDESK_BASE_URL" in proc.stderr


def test_make_run_passes_the_port_to_the_app_and_the_scheduler():
    proc = subprocess.run(
        ["make", "-n", "run", "PORT=8080"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("HELPDESK_PORT=8080") == 2  # web app and scheduler
    assert "--port 8080" in proc.stdout
