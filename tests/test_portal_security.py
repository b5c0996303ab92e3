"""Portal security: escaping and CSP, uploads, size limits, mass assignment, CSRF, methods, and the
permission matrix of every portal route over customers, staff and anonymous visitors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Attachment, Ticket
from tests.conftest import customer_of, module_world

from .test_portal_support import *  # noqa: F403
from .test_portal_support import fresh, login_as, page, post, settle_mail

XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


def file_demand(client, **fields):
    data = {
        "kind": "complaint",
        "subject": "Produto com defeito",
        "description": "Parou de funcionar.",
        **fields,
    }
    return post(client, "/portal/new", data, content_type="multipart/form-data")


def ticket_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(Ticket.id)))


def stored_files(app) -> set[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def customer(make_user):
    return make_user(role="customer")


@pytest.fixture
def signed_in(client, customer):
    login_as(client, customer)
    return client


# XSS and headers --------------------------------------------------------------------------------


def test_markup_in_subject_description_remedy_and_reply_is_escaped(signed_in, db, make_user):
    response = file_demand(signed_in, subject=XSS, description=XSS, remedy=XSS)
    assert response.status_code == 302
    registered = signed_in.get(response.location)
    ticket = db.session.scalar(sa.select(Ticket))
    url = f"/portal/demands/{ticket.protocol}"
    post(signed_in, f"{url}/reply", {"body": XSS}, csrf_path=url)
    agent = make_user(role="agent", name=XSS)
    tickets.add_message(fresh(ticket), agent, XSS)
    db.session.commit()

    for response in (registered, signed_in.get(url), signed_in.get("/portal/demands")):
        assert response.status_code == 200
        html = page(response)
        assert XSS not in html
        assert XSS_ESCAPED in html
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert page(signed_in.get(url)).count(XSS_ESCAPED) >= 5  # subject, text, remedy, 2 messages


# uploads ----------------------------------------------------------------------------------------

REFUSED = ["x.html", "x.svg", "x.php", ".htaccess", "\u200b.htaccess", "x.pdf.exe", "noextension"]


@pytest.mark.parametrize("name", REFUSED)
def test_dangerous_uploads_are_refused_and_nothing_is_saved(signed_in, db, app, name):
    before = stored_files(app)
    response = file_demand(
        signed_in, attachments=[(io.BytesIO(b"<script>alert(1)</script>"), name)]
    )
    assert response.status_code == 400
    assert "This type of file is not accepted" in page(response)
    assert ticket_count(db) == 0
    assert stored_files(app) == before


def test_path_in_a_file_name_is_dropped_and_served_as_a_download(signed_in, db, app):
    response = file_demand(signed_in, attachments=[(io.BytesIO(b"%PDF-1.4 <html>"), "../../x.pdf")])
    assert response.status_code == 302
    att = db.session.scalar(sa.select(Attachment))
    assert att.filename == "x.pdf"
    assert att.storage_name != "x.pdf" and len(att.storage_name) == 32
    path = Path(app.config["UPLOAD_DIR"]) / att.storage_name[:2] / att.storage_name
    assert path.is_file()
    assert not (Path(app.config["UPLOAD_DIR"]).parent / "x.pdf").exists()

    download = signed_in.get(f"/portal/demands/{att.ticket.protocol}/attachments/{att.id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert (
        'filename="x.pdf"' in download.headers["Content-Disposition"]
        or "x.pdf" in (download.headers["Content-Disposition"])
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/pdf"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.data == b"%PDF-1.4 <html>"


def test_oversized_attachment_is_a_form_error_and_nothing_is_saved(signed_in, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 1024 * 1024)
    before = stored_files(app)
    response = file_demand(
        signed_in,
        attachments=[
            (io.BytesIO(b"first file, fine"), "ok.txt"),
            (io.BytesIO(b"x" * (1024 * 1024 + 1)), "big.pdf"),
        ],
    )
    assert response.status_code == 400
    assert "too large" in page(response)
    assert ticket_count(db) == 0
    assert stored_files(app) == before  # the first file written is removed again


def test_request_over_the_content_limit_is_413(signed_in, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    response = file_demand(signed_in, attachments=[(io.BytesIO(b"x" * 100_000), "big.pdf")])
    assert response.status_code == 413
    assert "too large" in page(response)
    assert ticket_count(db) == 0


def test_ten_megabyte_subject_is_refused_without_a_500(signed_in, db):
    response = file_demand(signed_in, subject="A" * (10 * 1024 * 1024))
    assert response.status_code in (400, 413)
    assert ticket_count(db) == 0


def test_too_long_subject_is_a_form_error(signed_in, db):
    response = file_demand(signed_in, subject="A" * 201)
    assert response.status_code == 400
    assert ticket_count(db) == 0


# mass assignment, CSRF, methods -----------------------------------------------------------------


def test_customer_cannot_set_staff_fields(
    signed_in, db, customer, make_user, make_customer, make_department
):
    agent = make_user(role="agent", departments=[make_department("Elsewhere")])
    victim = make_customer()
    response = file_demand(
        signed_in,
        status="closed",
        priority="4",
        assignee=str(agent.id),
        assignee_id=str(agent.id),
        customer_id=str(victim.id),
        channel="phone",
        department_id="999",
        created_by_id=str(agent.id),
        protocol="20200101000001",
    )
    assert response.status_code == 302
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.status == "new"
    assert ticket.priority == 2
    assert ticket.assignee_id != agent.id
    assert ticket.department.name != "Elsewhere"
    assert ticket.customer_id == customer_of(customer).id
    assert ticket.channel == "web"
    assert ticket.created_by_id == customer.id
    assert ticket.protocol != "20200101000001"


@pytest.mark.csrf
def test_form_post_without_csrf_is_refused(signed_in, db):
    response = signed_in.post(
        "/portal/new", data={"kind": "complaint", "subject": "x", "description": "y"}
    )
    assert response.status_code == 400
    assert ticket_count(db) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/logout",
        "/resend-confirmation",
        "/portal/demands/{protocol}/reply",
        "/portal/demands/{protocol}/verdict",
    ],
)
def test_get_on_a_post_route_is_405(signed_in, db, customer, make_ticket, path):
    ticket = make_ticket(customer=customer_of(customer))
    response = signed_in.get(path.format(protocol=ticket.protocol))
    assert response.status_code == 405


# attachments belong to their ticket and to what the customer may see ------------------------------


@module_world
def world(db, app, make_user, make_department, make_ticket):
    """Two customers, staff in the ticket's department and elsewhere, one answered ticket with a
    public and an internal attachment."""
    from werkzeug.datastructures import FileStorage

    def upload(name):
        return FileStorage(stream=io.BytesIO(b"content of " + name.encode()), filename=name)

    elsewhere = make_department("Elsewhere")
    people = {
        "owner": make_user(role="customer"),
        "other_customer": make_user(role="customer"),
        "agent_same": make_user(role="agent"),
        "agent_other": make_user(role="agent", departments=[elsewhere]),
        "supervisor_same": make_user(role="supervisor"),
        "admin": make_user(role="admin"),
    }
    ticket = make_ticket(customer=customer_of(people["owner"]), subject="Owner's demand")
    agent = people["agent_same"]
    tickets.add_message(ticket, agent, "Note", internal=True, attachments=[upload("note.pdf")])
    tickets.add_message(ticket, agent, "Answer", attachments=[upload("answer.pdf")])
    other_ticket = make_ticket(customer=customer_of(people["other_customer"]))
    tickets.add_message(other_ticket, agent, "Theirs", attachments=[upload("theirs.pdf")])
    settle_mail(app)
    files = {a.filename: a for a in db.session.scalars(sa.select(Attachment))}
    return {
        "people": people,
        "ticket": ticket,
        "other_ticket": other_ticket,
        "public": files["answer.pdf"],
        "internal": files["note.pdf"],
        "theirs": files["theirs.pdf"],
    }


def test_owner_downloads_public_attachments_only(client, world):
    login_as(client, world["people"]["owner"])
    base = f"/portal/demands/{world['ticket'].protocol}/attachments"
    assert client.get(f"{base}/{world['public'].id}").status_code == 200
    assert client.get(f"{base}/{world['internal'].id}").status_code == 404
    assert client.get(f"{base}/{world['theirs'].id}").status_code == 404  # another ticket's
    assert client.get(f"{base}/999999").status_code == 404
    html = page(client.get(f"/portal/demands/{world['ticket'].protocol}"))
    assert "answer.pdf" in html
    assert "note.pdf" not in html


# the permission matrix --------------------------------------------------------------------------

PRINCIPALS = [
    "anonymous",
    "owner",
    "other_customer",
    "agent_same",
    "agent_other",
    "supervisor_same",
    "admin",
]

LOGIN = "login"  # a redirect to the sign-in page
CONSOLE = "console"  # a redirect to the staff console

# route -> expected outcome per principal, in the order of PRINCIPALS
MATRIX = {
    ("GET", "/"): [200, 200, 200, CONSOLE, CONSOLE, CONSOLE, CONSOLE],
    # a visitor gets the form without an account (issue 9); these fields lack name and email: 400
    ("GET", "/portal/new"): [200, 200, 200, 403, 403, 403, 403],
    ("POST", "/portal/new"): [400, 302, 302, 403, 403, 403, 403],
    ("GET", "/portal/demands"): [LOGIN, 200, 200, CONSOLE, CONSOLE, CONSOLE, CONSOLE],
    ("GET", "/portal/demands/{p}"): [LOGIN, 200, 404, 200, 404, 200, 200],
    ("GET", "/portal/demands/{p}/registered"): [LOGIN, 200, 404, 200, 404, 200, 200],
    ("GET", "/portal/demands/{p}/attachments/{a}"): [LOGIN, 200, 404, 200, 404, 200, 200],
    ("POST", "/portal/demands/{p}/reply"): [LOGIN, 302, 404, 403, 404, 403, 403],
    ("POST", "/portal/demands/{p}/verdict"): [LOGIN, 302, 404, 403, 404, 403, 403],
}

CASES = [
    pytest.param(method, path, who, expected[i], id=f"{method} {path} as {who}")
    for (method, path), expected in MATRIX.items()
    for i, who in enumerate(PRINCIPALS)
]

FORMS = {
    "/portal/new": {"kind": "request", "subject": "Segunda via", "description": "Preciso."},
    "/portal/demands/{p}/reply": {"body": "Obrigado"},
    "/portal/demands/{p}/verdict": {"resolved": "yes", "rating": "4"},
}


@pytest.mark.parametrize(("method", "path", "who", "expected"), CASES)
def test_permission_matrix(client, db, world, method, path, who, expected):
    if who != "anonymous":
        assert login_as(client, world["people"][who]).status_code == 302
    url = path.format(p=world["ticket"].protocol, a=world["public"].id)
    messages_before = len(fresh(world["ticket"]).messages)
    if method == "GET":
        response = client.get(url)
    else:
        csrf_page = "/login" if who == "anonymous" else "/account"
        response = post(client, url, FORMS[path], csrf_path=csrf_page)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response.location.startswith("/login")
    elif expected == CONSOLE:
        assert response.status_code == 302
        assert response.location.startswith("/console")
    else:
        assert response.status_code == expected, page(response)[:500]
    if expected in (404, 403, LOGIN):
        assert "Owner&#39;s demand" not in page(response)
        assert len(fresh(world["ticket"]).messages) == messages_before
