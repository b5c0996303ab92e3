"""Outbound webhooks against a real HTTP receiver on 127.0.0.1: signatures, retries with back-off,
redirects not followed, dead deliveries and the admin's retry, the SSRF guard (at subscription and
at delivery), the events wired into the ticket services, and the admin pages' permissions."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from helpdesk.core.clock import now
from helpdesk.webhooks.models import WebhookDelivery, WebhookSubscription

from .conftest import csrf_from
from .test_console_support import login_as


class Receiver:
    """A webhook receiver in a thread: records every request, answers from a script."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[int] = []  # status codes to answer, in order; then 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", f"{receiver.url}/target")
                    self.end_headers()
                    return
                status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver says no")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()
    r.thread.join(timeout=5)


@pytest.fixture
def allow_loopback(app):
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.1/32"]
    yield
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = []


def subscribe(db, url, events=("ticket.created",), active=True):
    from helpdesk.webhooks.services import create_subscription

    sub = create_subscription(None, url=url, events=list(events), active=active)
    db.session.commit()
    return sub


def deliveries(db):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def deliver(db):
    from helpdesk.webhooks.services import deliver_webhooks

    return deliver_webhooks()


def make_due(db):
    db.session.execute(sa.update(WebhookDelivery).values(next_attempt_at=now()))
    db.session.commit()


def check_signature(request, secret) -> dict:
    h = request["headers"]
    expected = hmac.new(
        secret.encode(), h["X-Webhook-Timestamp"].encode() + b"." + request["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(h["X-Webhook-Signature"], f"sha256={expected}")
    assert abs(int(h["X-Webhook-Timestamp"]) - int(now().timestamp())) < 60
    assert h["Content-Type"] == "application/json"
    body = json.loads(request["body"])
    assert body["id"] == h["X-Webhook-Id"] and body["event"] == h["X-Webhook-Event"]
    return body


# delivery: signed, retried, not in the request -----------------------------------------------


def test_signed_delivery_retried_after_500(db, receiver, allow_loopback, make_ticket):
    sub = subscribe(db, f"{receiver.url}/hook?src=sac")
    receiver.script = [500]
    ticket = make_ticket(subject="Cobrança duplicada")
    assert receiver.requests == []  # nothing leaves with the business transaction
    [row] = deliveries(db)
    assert row.status == "pending" and row.event == "ticket.created"

    assert deliver(db) == {"delivered": 0, "failed": 1, "dead": 0}
    row = deliveries(db)[0]
    assert row.status == "pending" and row.attempts == 1 and row.last_status_code == 500
    assert "receiver says no" in row.last_error
    assert row.next_attempt_at.replace(tzinfo=None) > now().replace(tzinfo=None)
    assert deliver(db)["failed"] == 0 and len(receiver.requests) == 1  # backing off

    make_due(db)
    assert deliver(db)["delivered"] == 1
    row = deliveries(db)[0]
    assert row.status == "delivered" and row.attempts == 2 and row.delivered_at
    first, second = receiver.requests
    assert first["path"] == second["path"] == "/hook?src=sac"
    assert first["body"] == second["body"]  # same event id and bytes on every attempt
    body = check_signature(second, sub.secret)
    assert body["ticket"]["protocol"] == ticket.protocol
    assert body["ticket"]["subject"] == "Cobrança duplicada"
    # a tampered body does not verify
    with pytest.raises(AssertionError):
        check_signature(
            {**second, "body": second["body"].replace(b"Cobran", b"Cobrem")}, sub.secret
        )


def test_backoff_doubles(app, db, receiver, allow_loopback, make_ticket):
    subscribe(db, f"{receiver.url}/hook")
    receiver.script = [503, 503, 503]
    make_ticket()
    waits = []
    for _ in range(3):
        before = now()
        deliver(db)
        row = deliveries(db)[0]
        waits.append(
            round(
                (
                    row.next_attempt_at.replace(tzinfo=None) - before.replace(tzinfo=None)
                ).total_seconds()
            )
        )
        make_due(db)
    base = app.config["WEBHOOK_BACKOFF_SECONDS"]
    assert [round(w / base) for w in waits] == [1, 2, 4]


def test_redirects_are_not_followed(db, receiver, allow_loopback, make_ticket):
    subscribe(db, f"{receiver.url}/redirect")
    make_ticket()
    assert deliver(db)["failed"] == 1
    row = deliveries(db)[0]
    assert row.status == "pending" and row.last_status_code == 302
    assert "redirect not followed" in row.last_error
    assert receiver.paths() == ["/redirect"]  # /target never reached


def test_dead_after_max_attempts_then_admin_retry(
    app, client, db, receiver, allow_loopback, make_ticket, make_user
):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    try:
        sub = subscribe(db, f"{receiver.url}/hook")
        receiver.script = [500, 500]
        make_ticket()
        deliver(db)
        make_due(db)
        assert deliver(db)["dead"] == 1
        row = deliveries(db)[0]
        assert row.status == "dead" and row.attempts == 2
        make_due(db)
        assert deliver(db) == {"delivered": 0, "failed": 0, "dead": 0}  # dead stays dead

        admin = make_user("admin", departments=[])
        login_as(client, app, admin)
        page = client.get(f"/admin/webhooks/{sub.id}").get_data(as_text=True)
        assert "Dead" in page and "HTTP 500" in page and "Retry" in page
        token = csrf_from(client, f"/admin/webhooks/{sub.id}")
        r = client.post(f"/admin/webhooks/deliveries/{row.id}/retry", data={"csrf_token": token})
        assert r.status_code == 302
        assert deliveries(db)[0].status == "pending"
        assert deliver(db)["delivered"] == 1
        assert len(receiver.requests) == 3
    finally:
        app.config["WEBHOOK_MAX_ATTEMPTS"] = 8


def test_a_dead_receiver_port_is_a_failed_attempt(db, allow_loopback, make_ticket):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    subscribe(db, f"http://127.0.0.1:{port}/hook")
    make_ticket()
    assert deliver(db)["failed"] == 1
    assert "ConnectionRefusedError" in deliveries(db)[0].last_error


def test_inactive_subscription_gets_nothing(db, receiver, allow_loopback, make_ticket):
    subscribe(db, f"{receiver.url}/hook", active=False)
    subscribe(db, f"{receiver.url}/other", events=("ticket.status_changed",))
    make_ticket()
    assert deliveries(db) == []


def test_rolled_back_business_transaction_queues_nothing(
    db, allow_loopback, receiver, make_customer, default_department
):
    from helpdesk.tickets.services import register_ticket

    subscribe(db, f"{receiver.url}/hook")
    customer = make_customer()
    register_ticket(actor=None, customer=customer, channel="web", kind="request", subject="X")
    db.session.rollback()
    assert deliveries(db) == []


def test_api_request_only_queues(client, db, receiver, allow_loopback, make_user):
    from helpdesk.accounts.services import issue_api_token

    subscribe(db, f"{receiver.url}/hook")
    agent = make_user("agent", password=None)
    token = issue_api_token(agent, "t")
    db.session.commit()
    r = client.post(
        "/api/v1/tickets",
        json={"kind": "request", "subject": "Via API", "customer": {"email": "x@example.com"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201
    assert receiver.requests == [] and len(deliveries(db)) == 1


# events -----------------------------------------------------------------------------------


def test_public_reply_on_a_chat_is_relayed_with_the_conversation(
    db, client, receiver, allow_loopback, make_user
):
    from helpdesk.accounts.services import issue_api_token
    from helpdesk.tickets.models import Ticket
    from helpdesk.tickets.services import add_message

    sub = subscribe(db, f"{receiver.url}/relay", events=("ticket.public_reply",))
    connector = make_user("integration", password=None)
    token = issue_api_token(connector, "wa")
    db.session.commit()
    r = client.post(
        "/api/v1/conversations",
        json={
            "channel": "whatsapp",
            "conversation_id": "wa-77",
            "contact": "+5511987654321",
            "text": "Oi, preciso de ajuda",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    protocol = r.get_json()["protocol"]
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.protocol == protocol))
    agent = make_user("agent", name="Paula")
    add_message(ticket, agent, "Olá! Já verifiquei: o técnico vai amanhã.", channel="web")
    add_message(ticket, agent, "Nota interna", internal=True)
    db.session.commit()
    assert deliver(db)["delivered"] == 1  # the internal note is not relayed
    body = check_signature(receiver.requests[0], sub.secret)
    assert body["event"] == "ticket.public_reply"
    assert body["conversation"] == {
        "channel": "whatsapp",
        "conversation_id": "wa-77",
        "contact": "+5511987654321",
    }
    assert body["data"]["message"]["body"] == "Olá! Já verifiquei: o técnico vai amanhã."
    assert body["data"]["message"]["author_name"] == "Paula"


def test_status_changed_and_escalated_events(db, receiver, allow_loopback, make_ticket):
    from helpdesk.tickets.services import change_status
    from helpdesk.webhooks.services import emit_event

    subscribe(db, f"{receiver.url}/hook", events=("ticket.status_changed", "ticket.escalated"))
    ticket = make_ticket()
    change_status(ticket, None, "resolved", notify_customer=False)
    emit_event(ticket, "ticket.escalated", {"target": "resolution", "level": 1})
    db.session.commit()
    assert deliver(db)["delivered"] == 2
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["event"] for b in bodies] == ["ticket.status_changed", "ticket.escalated"]
    assert bodies[0]["data"] == {"old": "new", "new": "resolved"}
    assert bodies[1]["data"] == {"target": "resolution", "level": 1}
    with pytest.raises(ValueError):
        emit_event(ticket, "ticket.exploded")


# SSRF ---------------------------------------------------------------------------------------


REFUSED = [
    "http://127.0.0.1:5432/",
    "http://127.1/",
    "http://localhost/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.8/",
    "http://172.16.5.4/",
    "http://192.168.0.10/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:10.0.0.1]/",
    "file:///etc/passwd",
    "ftp://example.com/x",
    "gopher://127.0.0.1:6379/_",
    "http://user:pw@example.com/",
    "http:///nohost",
    "http://example.com:99999/",
    "",
]


@pytest.mark.parametrize("url", REFUSED)
def test_internal_and_odd_urls_are_refused_at_subscription(db, url):
    from helpdesk.core.errors import ValidationError
    from helpdesk.webhooks.services import create_subscription

    with pytest.raises(ValidationError) as exc:
        create_subscription(None, url=url, events=["ticket.created"])
    assert exc.value.field == "url"


def test_public_address_is_accepted(db):
    from helpdesk.webhooks.services import create_subscription

    sub = create_subscription(None, url="https://93.184.215.14/hooks", events=["ticket.created"])
    assert sub.secret.startswith("whsec_") and len(sub.secret) > 40


def test_allow_list_by_network_and_host(app, db, monkeypatch):
    from helpdesk.core.errors import ValidationError
    from helpdesk.webhooks import guard

    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["10.1.0.0/16", "relay.internal"]
    real = guard.socket.getaddrinfo

    def fake(host, port, *a, **kw):
        if host == "relay.internal":
            return real("10.9.9.9", port, *a, **kw)
        return real(host, port, *a, **kw)

    monkeypatch.setattr(guard.socket, "getaddrinfo", fake)
    try:
        assert guard.resolve("http://10.1.2.3/x").address == "10.1.2.3"
        assert guard.resolve("http://[::ffff:10.1.2.3]/x").address == "::ffff:10.1.2.3"
        assert guard.resolve("http://relay.internal:8080/x").address == "10.9.9.9"
        with pytest.raises(ValidationError):
            guard.resolve("http://10.2.0.1/")
    finally:
        app.config["WEBHOOK_ALLOWED_NETWORKS"] = []


def test_dns_rebinding_is_refused_at_delivery(db, receiver, monkeypatch, make_ticket):
    from helpdesk.webhooks import guard

    real = guard.socket.getaddrinfo
    answers = {"hooks.example.com": "93.184.215.14"}

    def fake(host, port, *a, **kw):
        if host in answers:
            return real(answers[host], port, *a, **kw)
        return real(host, port, *a, **kw)

    monkeypatch.setattr(guard.socket, "getaddrinfo", fake)
    port = receiver.server.server_address[1]
    subscribe(db, f"http://hooks.example.com:{port}/hook")  # public when subscribed
    answers["hooks.example.com"] = "127.0.0.1"  # ... loopback when delivering
    make_ticket()
    assert deliver(db)["failed"] == 1
    row = deliveries(db)[0]
    assert "127.0.0.1" in row.last_error and row.last_status_code is None
    assert receiver.requests == []


def test_delivery_connects_to_the_checked_address_with_the_host_header(
    db, receiver, app, monkeypatch, make_ticket
):
    from helpdesk.webhooks import guard

    real = guard.socket.getaddrinfo
    monkeypatch.setattr(
        guard.socket,
        "getaddrinfo",
        lambda host, port, *a, **kw: real(
            "127.0.0.1" if host == "hooks.test" else host, port, *a, **kw
        ),
    )
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["hooks.test"]
    try:
        port = receiver.server.server_address[1]
        subscribe(db, f"http://hooks.test:{port}/in")
        make_ticket()
        assert deliver(db)["delivered"] == 1
        assert receiver.requests[0]["headers"]["Host"] == f"hooks.test:{port}"
    finally:
        app.config["WEBHOOK_ALLOWED_NETWORKS"] = []


# admin pages ----------------------------------------------------------------------------------


def test_admin_creates_a_webhook_and_sees_its_secret(
    client, app, db, make_user, allow_loopback, receiver
):
    admin = make_user("admin", departments=[])
    login_as(client, app, admin)
    token = csrf_from(client, "/admin/webhooks/new")
    r = client.post(
        "/admin/webhooks/new",
        data={
            "csrf_token": token,
            "url": "http://169.254.169.254/",
            "events": ["ticket.created"],
            "active": "y",
        },
    )
    assert r.status_code == 400
    assert "internal network" in r.get_data(as_text=True)
    r = client.post(
        "/admin/webhooks/new",
        data={"csrf_token": token, "url": f"{receiver.url}/hook", "events": [], "active": "y"},
    )
    assert r.status_code == 400 and "Choose at least one event." in r.get_data(as_text=True)
    r = client.post(
        "/admin/webhooks/new",
        data={
            "csrf_token": token,
            "url": f"{receiver.url}/hook",
            "description": "Chat relay",
            "events": ["ticket.public_reply"],
            "active": "y",
        },
    )
    assert r.status_code == 302
    sub = db.session.scalar(sa.select(WebhookSubscription))
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert sub.secret in page and "Nothing sent yet." in page
    old = sub.secret
    r = client.post(f"/admin/webhooks/{sub.id}/secret", data={"csrf_token": token})
    assert r.status_code == 302
    db.session.expire_all()
    assert sub.secret != old
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert f"{receiver.url}/hook" in listing and "Chat relay" in listing


def test_delivery_log_query_count_does_not_grow(
    client, app, db, make_user, count_queries, allow_loopback, receiver, make_ticket
):
    admin = make_user("admin", departments=[])
    sub = subscribe(db, f"{receiver.url}/hook")
    login_as(client, app, admin)

    def measure():
        client.get(f"/admin/webhooks/{sub.id}")
        with count_queries() as q:
            assert client.get(f"/admin/webhooks/{sub.id}").status_code == 200
        return q.count

    make_ticket()
    few = measure()
    for _ in range(10):
        make_ticket()
    assert measure() == few


@pytest.mark.parametrize(
    "who, status",
    [("anonymous", 302), ("customer", 403), ("agent", 403), ("supervisor", 403), ("admin", None)],
)
@pytest.mark.csrf  # the matrix ends with a POST without its token
def test_admin_webhook_routes_permission_matrix(
    client, app, db, make_user, who, status, allow_loopback, receiver, make_ticket
):
    sub = subscribe(db, f"{receiver.url}/hook")
    make_ticket()
    delivery = deliveries(db)[0]
    delivery.status = "dead"
    db.session.commit()
    user = (
        None if who == "anonymous" else make_user(who, departments=[] if who == "admin" else None)
    )
    login_as(client, app, user)
    token = csrf_from(client, "/login" if user is None else "/account")
    gets = ["/admin/webhooks", "/admin/webhooks/new", f"/admin/webhooks/{sub.id}"]
    posts = [f"/admin/webhooks/{sub.id}/secret", f"/admin/webhooks/deliveries/{delivery.id}/retry"]
    for path in gets:
        assert client.get(path).status_code == (status or 200), path
    for path in posts:
        assert client.post(path, data={"csrf_token": token}).status_code == (status or 302), path
        assert client.get(path).status_code in (405, status), path
    if who == "admin":
        assert client.get("/admin/webhooks/999999").status_code == 404
        assert client.post(f"/admin/webhooks/{sub.id}/secret").status_code == 400  # no CSRF


def test_claimed_rows_are_not_sent_twice_and_stale_claims_come_back(
    db, receiver, allow_loopback, make_ticket
):
    from helpdesk.webhooks.services import release_stale_webhook_claims

    subscribe(db, f"{receiver.url}/hook")
    make_ticket()
    db.session.execute(
        sa.update(WebhookDelivery).values(status="sending", claimed_at=now() - timedelta(minutes=5))
    )
    db.session.commit()
    assert deliver(db)["delivered"] == 0  # another scheduler holds it
    assert release_stale_webhook_claims() == 0  # not stale yet
    db.session.execute(sa.update(WebhookDelivery).values(claimed_at=now() - timedelta(minutes=20)))
    db.session.commit()
    assert release_stale_webhook_claims() == 1
    db.session.commit()
    assert deliver(db)["delivered"] == 1 and len(receiver.requests) == 1


def test_scheduler_has_the_channel_jobs(app):
    from helpdesk.scheduler import build_scheduler

    ids = {job.id for job in build_scheduler(app).get_jobs()}
    assert {"deliver_outbox", "deliver_webhooks", "purge_recordings"} <= ids


def test_an_inactive_webhook_is_checked_when_switched_on(db, monkeypatch):
    from helpdesk.core.errors import ValidationError
    from helpdesk.webhooks import guard
    from helpdesk.webhooks.services import create_subscription, update_subscription

    sub = create_subscription(
        None, url="http://169.254.169.254/x", events=["ticket.created"], active=False
    )
    with pytest.raises(ValidationError):
        update_subscription(sub, url=sub.url, events=sub.events, description="", active=True)
    ok = create_subscription(None, url="https://93.184.215.14/h", events=["ticket.created"])

    def gone(*a, **kw):
        raise guard.socket.gaierror("no such host")

    monkeypatch.setattr(guard.socket, "getaddrinfo", gone)
    update_subscription(
        ok, url="https://gone.example/h", events=ok.events, description="", active=False
    )
    assert ok.active is False


# IPv4 carried inside IPv6, and IPv4 spelt as one number, octal or hex ----------------------------

EMBEDDED_INTERNAL = [
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2002:c0a8:1::1",  # 6to4 of 192.168.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::7f00:1",  # NAT64 local-use prefix
    "::127.0.0.1",  # IPv4-compatible
    "::10.0.0.1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:7f00:1",  # the same, in hex
    "::ffff:0:7f00:1",  # IPv4-translated
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001::1",  # Teredo
]


@pytest.mark.parametrize("address", EMBEDDED_INTERNAL)
def test_ipv4_embedded_in_ipv6_is_refused(db, address):
    from helpdesk.core.errors import ValidationError
    from helpdesk.webhooks.services import create_subscription

    with pytest.raises(ValidationError) as exc:
        create_subscription(None, url=f"http://[{address}]:8080/hook", events=["ticket.created"])
    assert exc.value.field == "url"
    assert address in str(exc.value) or "internal" in str(exc.value)


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"])
def test_ipv6_reaching_a_public_address_is_accepted(db, address):
    from helpdesk.webhooks import guard

    assert guard.resolve(f"https://[{address}]/hook").address == address


@pytest.mark.parametrize(
    "host", ["2130706433", "0177.0.0.1", "0x7f.1", "0x7f000001", "017700000001", "127.1"]
)
def test_ipv4_spelt_as_a_number_is_refused(db, host):
    from helpdesk.core.errors import ValidationError
    from helpdesk.webhooks.services import create_subscription

    with pytest.raises(ValidationError) as exc:
        create_subscription(None, url=f"http://{host}:5432/", events=["ticket.created"])
    assert exc.value.field == "url"
    assert "127.0.0.1" in str(exc.value)  # resolved, then refused for what it reaches


def test_allow_list_matches_the_ipv4_an_ipv6_address_carries(app, db):
    from helpdesk.webhooks import guard

    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["10.1.0.0/16"]
    try:
        assert guard.resolve("http://[64:ff9b::a01:203]/x").address == "64:ff9b::a01:203"
    finally:
        app.config["WEBHOOK_ALLOWED_NETWORKS"] = []
