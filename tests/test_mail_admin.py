"""Admin email pages (mailboxes, dead letters with retry, failed inbound with reprocess) and the
agents' view of an original email: permission matrix, POST-only with CSRF, no N+1, sanitising."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk.mail import services as mail
from helpdesk.mail.models import InboundMessage, Mailbox
from helpdesk.notifications.models import OutboxMessage
from helpdesk.tickets.models import Ticket
from tests.conftest import csrf_from

CORPUS = Path(__file__).parent / "fixtures" / "email"


@pytest.fixture
def world(db, make_user, make_department, default_department):
    other = make_department(name="Outro")
    users = {
        "customer": make_user(role="customer"),
        "agent": make_user(role="agent", departments=[default_department]),
        "agent_other": make_user(role="agent", departments=[other]),
        "supervisor": make_user(role="supervisor", departments=[default_department]),
        "admin": make_user(role="admin"),
    }
    box = mail.create_mailbox(
        name="sac",
        host="127.0.0.1",
        port=143,
        tls_mode="none",
        folder="INBOX",
        username="sac",
        department_id=None,
        active=False,
        password="s3cret-pw",
    )
    failed = mail.ingest(b"\x00 not mail at all", box).row
    created = mail.ingest((CORPUS / "inline_image_apple.eml").read_bytes(), box).row
    xss = mail.ingest((CORPUS / "html_only_xss.eml").read_bytes(), box).row
    dead = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.ticket_id == created.ticket_id)
    )
    dead.status, dead.attempts, dead.last_error = "dead", 8, "SMTPRecipientsRefused"
    db.session.commit()
    ticket = db.session.get(Ticket, created.ticket_id)
    return {
        "users": users,
        "box": box,
        "failed": failed,
        "created": created,
        "xss": xss,
        "dead": dead,
        "ticket": ticket,
    }


ADMIN_GETS = [
    "/admin/mailboxes",
    "/admin/mailboxes/new",
    "/admin/mailboxes/{box}",
    "/admin/mail",
    "/admin/mail/outbox/{dead}",
    "/admin/mail/inbound/{failed}",
]


def _fill(path, w):
    return path.format(box=w["box"].id, dead=w["dead"].id, failed=w["failed"].id)


@pytest.mark.parametrize(
    "who,expected",
    [
        (None, 302),
        ("customer", 403),
        ("agent", 403),
        ("supervisor", 403),
        ("admin", 200),
    ],
)
@pytest.mark.parametrize("path", ADMIN_GETS)
def test_admin_mail_pages_matrix(client, auth, world, who, expected, path):
    if who:
        auth.login(world["users"][who])
    assert client.get(_fill(path, world)).status_code == expected


@pytest.mark.parametrize(
    "path",
    [
        "/admin/mail/outbox/{dead}/retry",
        "/admin/mail/inbound/{failed}/reprocess",
        "/admin/mailboxes/{box}/delete",
    ],
)
@pytest.mark.csrf
def test_state_changes_are_post_only_with_csrf(client, auth, world, path, db):
    auth.login(world["users"]["admin"])
    url = _fill(path, world)
    assert client.get(url).status_code == 405
    assert client.post(url, data={}).status_code in (302, 400)
    db.session.expire_all()
    assert db.session.get(Mailbox, world["box"].id) is not None
    assert world["dead"].status == "dead" and world["failed"].state == "failed"


@pytest.mark.parametrize("who", ["customer", "agent", "supervisor"])
def test_non_admins_cannot_retry_or_reprocess(client, auth, world, who, db):
    auth.login(world["users"][who])
    token = csrf_from(client, "/admin/mail")  # the 403 page has the logout form
    assert (
        client.post(
            _fill("/admin/mail/outbox/{dead}/retry", world), data={"csrf_token": token}
        ).status_code
        == 403
    )
    db.session.refresh(world["dead"])
    assert world["dead"].status == "dead"


def test_admin_retries_a_dead_letter_and_sees_the_log(client, auth, world, db, sent_mail):
    auth.login(world["users"]["admin"])
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "SMTPRecipientsRefused" in page and "not mail at all" not in page
    token = csrf_from(client, "/admin/mail")
    resp = client.post(f"/admin/mail/outbox/{world['dead'].id}/retry", data={"csrf_token": token})
    assert resp.status_code == 302
    db.session.refresh(world["dead"])
    assert world["dead"].status == "pending"  # due now: the scheduler's next pass sends it
    from helpdesk.notifications.services import deliver_outbox

    assert deliver_outbox([world["dead"].id])["sent"] == 1
    db.session.refresh(world["dead"])
    assert world["dead"].status == "sent"
    log = client.get(f"/admin/mail/outbox/{world['dead'].id}").get_data(as_text=True)
    assert "Delivered" in log


def test_admin_reprocesses_a_failed_message(client, auth, world, db):
    auth.login(world["users"]["admin"])
    token = csrf_from(client, "/admin/mail")
    resp = client.post(
        f"/admin/mail/inbound/{world['failed'].id}/reprocess",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert resp.status_code == 200 and "failed again" in resp.get_data(as_text=True)
    db.session.refresh(world["failed"])
    assert world["failed"].attempts == 2


def test_admin_creates_and_edits_a_mailbox_without_seeing_the_password(client, auth, world, db):
    auth.login(world["users"]["admin"])
    token = csrf_from(client, "/admin/mailboxes/new")
    data = {
        "csrf_token": token,
        "name": "vendas",
        "host": "imap.example.com",
        "port": "993",
        "tls_mode": "ssl",
        "folder": "INBOX",
        "username": "vendas@example.com",
        "password": "pw-vendas",
        "department_id": "0",
        "active": "y",
    }
    assert client.post("/admin/mailboxes/new", data=data).status_code == 302
    box = db.session.scalar(sa.select(Mailbox).where(Mailbox.name == "vendas"))
    assert box.password == "pw-vendas" and box.active
    page = client.get(f"/admin/mailboxes/{box.id}").get_data(as_text=True)
    assert "pw-vendas" not in page
    data.update(
        csrf_token=csrf_from(client, f"/admin/mailboxes/{box.id}"),
        password="",
        port="143",
        tls_mode="starttls",
    )
    assert client.post(f"/admin/mailboxes/{box.id}", data=data).status_code == 302
    db.session.refresh(box)
    assert box.password == "pw-vendas" and box.port == 143  # an empty password keeps the old one
    data.update(csrf_token=csrf_from(client, "/admin/mailboxes/new"), port="99999")
    resp = client.post("/admin/mailboxes/new", data=data)
    assert resp.status_code == 200 and "65535" in resp.get_data(as_text=True)


def test_admin_mail_page_queries_do_not_grow_with_rows(client, auth, world, db, count_queries):
    auth.login(world["users"]["admin"])
    client.get("/admin/mail")
    db.session.commit()  # the same state (expired identity map) before both measurements
    with count_queries() as q1:
        client.get("/admin/mail")
    for n in range(5):
        mail.ingest(f"junk {n}".encode(), world["box"])
    db.session.commit()
    with count_queries() as q2:
        client.get("/admin/mail")
    assert q2.count == q1.count, ([s[:60] for s in q1.statements], [s[:60] for s in q2.statements])


@pytest.mark.parametrize(
    "who,expected",
    [
        (None, 302),
        ("customer", 403),
        ("agent", 200),
        ("agent_other", 403),
        ("supervisor", 200),
        ("admin", 200),
    ],
)
def test_original_email_matrix(client, auth, world, who, expected):
    if who:
        auth.login(world["users"][who])
    url = f"/console/tickets/{world['ticket'].protocol}/emails/{world['created'].id}"
    assert client.get(url).status_code == expected


def test_the_thread_links_to_the_original_with_inline_images(client, auth, world):
    auth.login(world["users"]["agent"])
    protocol = world["ticket"].protocol
    page = client.get(f"/console/tickets/{protocol}").get_data(as_text=True)
    link = f"/console/tickets/{protocol}/emails/{world['created'].id}"
    assert link in page
    original = client.get(link).get_data(as_text=True)
    assert "Vejam a jarra" in original
    assert re.search(rf'<img[^>]+src="/console/tickets/{protocol}/attachments/\d+"', original)
    # an email of another ticket is not reachable through this ticket
    assert client.get(f"/console/tickets/{protocol}/emails/{world['xss'].id}").status_code == 404


def _live_handlers(page: str) -> list:
    """Elements with an on* attribute, a javascript: URL, or a script with inline code."""
    from html.parser import HTMLParser

    found = []

    class Check(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                    found.append((tag, name, value))
            if tag == "script" and not dict(attrs).get("src"):
                found.append((tag, "inline", ""))

    Check().feed(page)
    return found


def test_inbound_html_is_rendered_without_live_script(client, auth, world, db):
    auth.login(world["users"]["admin"])
    ticket = db.session.get(Ticket, world["xss"].ticket_id)
    for url in (
        f"/console/tickets/{ticket.protocol}",
        f"/console/tickets/{ticket.protocol}/emails/{world['xss'].id}",
    ):
        page = client.get(url).get_data(as_text=True).lower()
        assert "<script>alert" not in page and "javascript:" not in page
        assert _live_handlers(page) == []
        assert not re.search(r"<(svg|iframe)", page)
        assert "<img src=x" not in page  # the subject is escaped
    resp = client.get(f"/console/tickets/{ticket.protocol}")
    assert "Content-Security-Policy" in resp.headers
    assert (
        db.session.scalar(
            sa.select(InboundMessage.state).where(InboundMessage.id == world["xss"].id)
        )
        == "created"
    )


def test_admin_removes_a_mailbox_and_keeps_its_messages(client, auth, world, db):
    auth.login(world["users"]["admin"])
    box_id = world["box"].id
    token = csrf_from(client, f"/admin/mailboxes/{box_id}")
    resp = client.post(f"/admin/mailboxes/{box_id}/delete", data={"csrf_token": token})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Mailbox, box_id) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == 3


@pytest.mark.parametrize("who", ["customer", "agent", "supervisor"])
def test_non_admins_cannot_remove_a_mailbox(client, auth, world, who, db):
    auth.login(world["users"][who])
    token = csrf_from(client, "/admin/mail")
    url = f"/admin/mailboxes/{world['box'].id}/delete"
    assert client.post(url, data={"csrf_token": token}).status_code == 403
    assert db.session.get(Mailbox, world["box"].id) is not None


def test_refused_attachments_are_listed_for_agents_on_the_ticket(client, auth, world, db):
    row = mail.ingest((CORPUS / "attachment_exe_refused.eml").read_bytes(), world["box"]).row
    db.session.commit()
    ticket = db.session.get(Ticket, row.ticket_id)
    auth.login(world["users"]["agent"])
    html = client.get(f"/console/tickets/{ticket.protocol}").get_data(as_text=True)
    listed = html.split("Attachments of this email that were not kept:", 1)[1].split("</ul>")[0]
    for name in ("invoice.exe", "x.svg"):
        assert name in listed
    assert "This type of file is not accepted" in listed
