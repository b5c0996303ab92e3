"""Scale-out, for real: two application servers (gunicorn, each its own port) and two scheduler
processes (`python -m helpdesk.scheduler`) on one PostgreSQL database and one Redis.

Tickets are registered through both servers at once; then some are made due and both schedulers'
sweeps race for them. Whatever the two of each do side by side, a customer gets one
acknowledgement (received by a real SMTP server), each escalation level is raised once per
ticket, each webhook delivery reaches the receiver once, and the failed sign-ins counted on one
server count on the other (the limits live in Redis).

PostgreSQL only (SQLite is one file on one machine: it has no second server); on the SQLite phase
of `make test` it is left to the PostgreSQL phase (see `postgres_only` in tests/conftest.py).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from datetime import timedelta
from email import message_from_bytes
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk.core.clock import now
from helpdesk.escalations import services as esc
from helpdesk.escalations.models import Escalation, Notification
from helpdesk.notifications.models import OutboxMessage
from helpdesk.sla.models import TicketSla
from helpdesk.sla.policies import ensure_default_policy
from helpdesk.tickets.models import Ticket
from helpdesk.webhooks.models import WebhookDelivery
from tests.mailservers import free_port
from tests.redisserver import redis_server, redis_url  # noqa: F401 - fixtures

pytestmark = [pytest.mark.postgres_only, pytest.mark.commits]

ROOT = Path(__file__).resolve().parent.parent
API = "/api/v1"
PER_SERVER = 6  # tickets registered through each server


class Receiver:
    """A webhook receiver on 127.0.0.1: counts every delivery id it is sent."""

    def __init__(self):
        self.ids: list[str] = []
        self.events: list[tuple[str, str]] = []  # (event, protocol)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload = json.loads(body)
                receiver.ids.append(self.headers["X-Webhook-Id"])
                receiver.events.append((payload["event"], payload["ticket"]["protocol"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class Browser:
    """One HTTP client with its own cookie jar, on one server."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            hdrs = dict(headers or {})
            if self.cookies:
                hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request(method, path, body=body, headers=hdrs)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
            return response.status, data
        finally:
            conn.close()

    def register(self, token: str, n: int, server: int) -> dict:
        body = {
            "kind": "complaint",
            "subject": f"Cobrança em dobro {server}-{n}",
            "description": "Fui cobrado duas vezes.",
            "customer": {"name": f"Cliente {server}-{n}", "email": f"c{server}-{n}@example.com"},
        }
        status, data = self.request(
            "POST",
            f"{API}/tickets",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        assert status == 201, data[:500]
        return json.loads(data)

    def failed_login(self, email: str, csrf: str) -> int:
        fields = {"csrf_token": csrf, "email": email, "password": "wrong-guess"}
        status, _ = self.request(
            "POST",
            "/login",
            urllib.parse.urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        return status

    def csrf(self) -> str:
        status, page = self.request("GET", "/login")
        assert status == 200
        return re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()


def _gunicorn(env: dict, port: int, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _scheduler(env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "helpdesk.scheduler"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_until(check, deadline: float, processes, logs, what: str) -> None:
    while not check():
        for proc, log in zip(processes, logs, strict=True):
            assert proc.poll() is None, f"{log.name} exited:\n{log.read_text()}"
        assert time.monotonic() < deadline, (
            what + "\n" + "\n".join(f"== {log.name}\n{log.read_text()[-3000:]}" for log in logs)
        )
        time.sleep(0.1)


def _up(port: int) -> bool:
    try:
        return Browser(port).request("GET", "/healthz")[0] == 200
    except OSError:
        return False


def _stop(processes) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in processes:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _make_due(db, ticket_ids, target: str) -> None:
    """The target's deadline of these tickets passed an hour ago; the sweep checks them now."""
    past = now() - timedelta(hours=1)
    db.session.execute(
        sa.update(TicketSla)
        .where(TicketSla.ticket_id.in_(ticket_ids), TicketSla.target == target)
        .values(due_at=past, next_check_at=past)
    )
    db.session.commit()


def test_two_servers_and_two_schedulers_do_everything_once(
    app,
    db,
    database_url,
    redis_url,  # noqa: F811 - the fixture
    default_department,
    make_user,
    make_department,
    tmp_path,  # noqa: F811
):
    from helpdesk.accounts.services import issue_api_token
    from helpdesk.webhooks.services import create_subscription

    make_department("Ouvidoria", is_ombudsman=True)
    supervisor = make_user("supervisor", name="Sônia Supervisora")
    agent = make_user("agent", name="Ana Agente", password=None)
    signer = make_user("agent", email="target@example.com")
    ensure_default_policy()
    esc.create_rule(
        name="Primeira resposta vencida",
        target="first_response",
        trigger="after_breach",
        offset_minutes=0,
        level=1,
    )
    esc.create_rule(
        name="Prazo legal vencido",
        target="resolution",
        trigger="after_breach",
        offset_minutes=0,
        level=2,
        set_priority=4,
    )
    token = issue_api_token(agent, "scale-out")
    receiver = Receiver()
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.1/32"]  # this process, for the subscription
    create_subscription(None, url=receiver.url, events=["ticket.created", "ticket.escalated"])
    db.session.commit()
    db.session.rollback()

    from aiosmtpd.controller import Controller

    from tests.mailservers import SmtpInbox

    inbox = SmtpInbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()

    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(
        HELPDESK_ENV="development",
        HELPDESK_SECRET_KEY="scale-out-test-secret",  # one key for both servers (sessions, CSRF)
        HELPDESK_DATABASE_URL=database_url,
        HELPDESK_INSTANCE_PATH=str(tmp_path),
        HELPDESK_RATELIMIT_STORAGE_URI=redis_url,
        HELPDESK_LOGIN_ACCOUNT_LIMITS="3/minute",
        HELPDESK_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        HELPDESK_MAIL_TRANSPORT="smtp",
        HELPDESK_SMTP_HOST="127.0.0.1",
        HELPDESK_SMTP_PORT=str(smtp.port),
        HELPDESK_WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32",  # the receiver, for these processes only
        HELPDESK_SCHEDULER_OUTBOX_SECONDS="1",
        HELPDESK_SCHEDULER_SWEEP_SECONDS="1",
        HELPDESK_SCHEDULER_WEBHOOK_SECONDS="1",
        HELPDESK_SCHEDULER_MAIL_SECONDS="3600",
        PYTHONPATH=str(ROOT),
    )
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"{name}.log" for name in ("web-a", "web-b", "sched-a", "sched-b")]
    processes: list[subprocess.Popen] = []
    try:
        processes += [
            _gunicorn({**env, "HELPDESK_PORT": str(port)}, port, log)
            for port, log in zip(ports, logs[:2], strict=True)
        ]
        processes += [_scheduler({**env, "HELPDESK_PORT": str(ports[0])}, log) for log in logs[2:]]
        deadline = time.monotonic() + 90  # a bound for a hung run (about 25 s on 2 idle cores)
        _wait_until(lambda: all(_up(p) for p in ports), deadline, processes, logs, "servers up")

        # 1. registrations through both servers at once
        created: list[dict] = []
        lock = threading.Lock()

        def register(server: int):
            browser = Browser(ports[server])
            for n in range(PER_SERVER):
                ticket = browser.register(token, n, server)
                with lock:
                    created.append(ticket)

        threads = [threading.Thread(target=register, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(created) == 2 * PER_SERVER
        protocols = {t["protocol"] for t in created}
        assert len(protocols) == 2 * PER_SERVER  # one protocol number each, never shared
        ids = list(db.session.scalars(sa.select(Ticket.id).order_by(Ticket.id)))
        assert len(ids) == 2 * PER_SERVER

        # 2. escalations: the first response of 8 tickets is overdue (level 1), and of 4 of them
        # the resolution too (level 2, the highest due: the ticket lands on it at once); then,
        # once level 1 is raised, the resolution of 2 more comes due (level 2 after level 1)
        _make_due(db, ids[:8], "first_response")
        _make_due(db, ids[:4], "resolution")

        def raised() -> Counter:
            db.session.rollback()  # a fresh snapshot
            return Counter(db.session.scalars(sa.select(Escalation.level)))

        _wait_until(
            lambda: raised() == Counter({1: 4, 2: 4}), deadline, processes, logs, "first levels"
        )
        _make_due(db, ids[4:6], "resolution")
        _wait_until(
            lambda: raised() == Counter({1: 4, 2: 6}), deadline, processes, logs, "second levels"
        )

        # 3. sign-in limits shared through Redis: 3 failures a minute for one account in all
        a, b = Browser(ports[0]), Browser(ports[1])
        csrf_a, csrf_b = a.csrf(), b.csrf()
        assert [a.failed_login(signer.email, csrf_a) for _ in range(2)] == [400, 400]
        assert [b.failed_login(signer.email, csrf_b) for _ in range(2)] == [400, 429]
        assert a.failed_login(signer.email, csrf_a) == 429  # and the first server knows it too

        # 4. everything queued leaves, once
        def all_out() -> bool:
            db.session.rollback()
            mail = db.session.scalars(sa.select(OutboxMessage.status)).all()
            hooks = db.session.scalars(sa.select(WebhookDelivery.status)).all()
            return all(s == "sent" for s in mail) and all(s == "delivered" for s in hooks)

        _wait_until(all_out, deadline, processes, logs, "outbox and webhooks delivered")
        time.sleep(1.5)  # one more pass of every job: nothing is left to be done again
    finally:
        _stop(processes)
        smtp.stop()
        receiver.stop()
    for log in logs:
        text = log.read_text()
        assert "Traceback" not in text and "raised an exception" not in text, text

    # every level once per ticket, and the ticket is on the highest
    rows = db.session.execute(sa.select(Escalation.ticket_id, Escalation.level)).all()
    assert len(rows) == len(set(rows)) == 10
    expected = [(t, 2) for t in ids[:4]] + [(t, 1) for t in ids[4:8]] + [(t, 2) for t in ids[4:6]]
    assert sorted(rows) == sorted(expected)
    levels = dict(db.session.execute(sa.select(Ticket.id, Ticket.escalation_level)).all())
    assert [levels[t] for t in ids] == [2] * 6 + [1] * 2 + [0] * 4

    # each email once: one acknowledgement per customer, every queued message received once
    received = [message_from_bytes(raw) for _, raw in inbox.messages]
    outbox = db.session.scalars(sa.select(OutboxMessage)).all()
    assert sorted(m["Message-ID"] for m in received) == sorted(r.message_id for r in outbox)
    assert all(r.status == "sent" and r.attempts == 1 for r in outbox)
    kind = {r.message_id: r.kind for r in outbox}
    acks = Counter(
        parseaddr(m["To"])[1] for m in received if kind[m["Message-ID"]] == "acknowledgement"
    )
    customers = {t["customer"]["emails"][0] for t in created}
    assert set(acks) == customers and set(acks.values()) == {1}
    # each escalation told once to each person (in the app and in one digest email)
    notified = db.session.execute(sa.select(Notification.user_id, Notification.escalation_id)).all()
    assert notified and len(notified) == len(set(notified))
    assert supervisor.id in {user_id for user_id, _ in notified}
    digests = Counter(
        parseaddr(m["To"])[1] for m in received if kind[m["Message-ID"]] == "escalation"
    )
    assert digests[supervisor.email] >= 1

    # each webhook once: a created event per ticket, an escalated event per escalation
    deliveries = db.session.scalars(sa.select(WebhookDelivery)).all()
    assert sorted(receiver.ids) == sorted(d.event_id for d in deliveries)
    events = Counter(event for event, _ in receiver.events)
    assert events == {"ticket.created": 2 * PER_SERVER, "ticket.escalated": 10}
