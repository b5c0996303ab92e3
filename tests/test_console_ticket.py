"""The ticket workspace: what it shows, each action, errors that change nothing, query count."""

from __future__ import annotations

import pytest

from helpdesk.extensions import db as _db
from helpdesk.tickets.models import Message, TicketEvent

from .test_console_support import *  # noqa: F403 - fixtures


def _url(ticket, action=""):
    return f"/console/tickets/{ticket.protocol}" + (f"/{action}" if action else "")


def _post(client, ticket, action, data, **kw):
    token = csrf_for(client, _url(ticket))  # noqa: F405
    return client.post(_url(ticket, action), data={"csrf_token": token, **data}, **kw)


@pytest.fixture
def agent(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    return world.agent_x


def test_workspace_shows_everything(client, agent, world, db):
    from helpdesk.tickets.services import add_message

    t = world.ticket_x
    add_message(t, world.agent_x2, "Verificando com o financeiro.", internal=True)
    add_message(t, world.agent_x2, "Já estornamos.")
    db.session.commit()
    html = client.get(_url(t)).get_data(as_text=True)
    assert t.protocol in html and 'data-copy="' + t.protocol + '"' in html
    assert "Cobrança duplicada" in html
    assert "Descrição do problema." in html and "Estorno" in html
    assert "Segue o boleto." in html and "Já estornamos." in html
    assert 'class="msg msg-internal"' in html and "Internal note" in html
    assert "Verificando com o financeiro." in html
    assert f"/attachments/{world.attachment_x.id}" in html and "boleto.txt" in html
    # customer panel
    assert "Diego Caller" in html
    assert "+55 11 98765-4321" in html
    assert "529.982.247-25" in html
    assert world.ticket_y.protocol not in html  # other demand outside agent's departments
    # history as sentences
    assert "registered the demand" in html
    assert "added an internal note" in html
    assert "answered the customer" in html


def test_other_demands_listed_when_visible(client, app, world):
    login_as(client, app, world.admin)  # noqa: F405
    html = client.get(_url(world.ticket_x)).get_data(as_text=True)
    assert world.ticket_y.protocol in html


def test_wrong_check_digit_is_400_unknown_is_404(client, agent, world):
    p = world.ticket_x.protocol
    wrong = p[:-1] + str((int(p[-1]) + 1) % 10)
    response = client.get(f"/console/tickets/{wrong}")
    assert response.status_code == 400
    assert "check digit" in response.get_data(as_text=True)
    from helpdesk.tickets.protocol import format_protocol

    assert client.get(f"/console/tickets/{format_protocol('20200101', 999999)}").status_code == 404
    assert client.get("/console/tickets/abc").status_code == 400


def test_reply_emails_customer_and_sets_first_response(client, agent, world, sent_mail):
    t = world.ticket_x
    response = _post(
        client, t, "reply", {"body": "Estornamos o valor.", "status_after": "pending_customer"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(_url(t))
    _db.session.expire_all()
    assert t.first_response_at is not None
    assert t.status == "pending_customer"
    assert [m.body for m in t.messages if m.author_kind == "agent"] == ["Estornamos o valor."]
    assert len(sent_mail) == 1
    assert world.customer.primary_email in sent_mail[0]["To"]
    html = client.get(_url(t)).get_data(as_text=True)
    assert "Your answer was sent" in html


def test_reply_can_resolve_and_attach(client, agent, world, sent_mail):
    t = world.ticket_x
    response = _post(
        client,
        t,
        "reply",
        {
            "body": "Resolvido.",
            "status_after": "resolved",
            "attachments": (io.BytesIO(b"comprovante"), "comprovante.txt"),  # noqa: F405
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert t.status == "resolved" and t.resolved_at is not None
    assert any(a.filename == "comprovante.txt" and a.message_id for a in t.attachments)


def test_empty_reply_changes_nothing(client, agent, world, sent_mail):
    t = world.ticket_x
    _post(client, t, "reply", {"body": "   "})
    _db.session.expire_all()
    assert t.first_response_at is None and len(t.messages) == 1 and not sent_mail


def test_note_sends_nothing_and_is_internal(client, app, world, make_ticket, sent_mail):
    from tests.conftest import customer_of

    t = place(make_ticket(customer=customer_of(world.customer_user)), world.dept_x)  # noqa: F405
    login_as(client, app, world.agent_x)  # noqa: F405
    sent_mail.clear()
    assert _post(client, t, "note", {"body": "Cliente ligou antes."}).status_code == 302
    _db.session.expire_all()
    note = _db.session.scalars(
        _db.select(Message).where(Message.ticket_id == t.id, Message.body == "Cliente ligou antes.")
    ).one()
    assert note.is_internal is True
    assert sent_mail == []
    assert t.first_response_at is None
    # the customer's portal page (when that surface exists) never shows it
    if "/portal/demands/<protocol>" in {r.rule for r in app.url_map.iter_rules()}:
        login_as(client, app, world.customer_user)  # noqa: F405
        page = client.get(f"/portal/demands/{t.protocol}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert t.subject in html
        assert "Cliente ligou antes." not in html


def test_transfer_requires_reason_and_records_event(client, agent, world):
    t = world.ticket_x
    _post(client, t, "transfer", {"department": world.dept_y.id, "reason": ""})
    _db.session.expire_all()
    assert t.department_id == world.dept_x.id
    response = _post(
        client, t, "transfer", {"department": world.dept_y.id, "reason": "É logística"}
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert t.department_id == world.dept_y.id
    event = _db.session.scalars(
        _db.select(TicketEvent).where(
            TicketEvent.ticket_id == t.id, TicketEvent.action == "transferred"
        )
    ).one()
    assert (event.old_value, event.new_value, event.detail) == (
        "Billing",
        "Logistics",
        "É logística",
    )
    assert event.actor_id == world.agent_x.id
    # after the transfer the agent of X no longer works it
    assert client.get(_url(t)).status_code == 403


def test_assign_only_to_members(client, agent, world):
    t = world.ticket_x
    _post(client, t, "assign", {"assignee": str(world.agent_y.id)})
    _db.session.expire_all()
    assert t.assignee_id is None
    _post(client, t, "assign", {"assignee": str(world.agent_x2.id)})
    _db.session.expire_all()
    assert t.assignee_id == world.agent_x2.id
    _post(client, t, "assign", {"assignee": str(world.agent_x.id)})  # "me"
    _db.session.expire_all()
    assert t.assignee_id == world.agent_x.id
    _post(client, t, "assign", {"assignee": "none"})
    _db.session.expire_all()
    assert t.assignee_id is None
    assert t.events[-1].action == "assigned"


def test_assign_choices_are_department_members(client, agent, world):
    html = client.get(_url(world.ticket_x)).get_data(as_text=True)
    assert "Bruno X" in html and "Sofia Supervisor" in html
    assert "Yara Y" not in html


def test_status_transitions(client, agent, world, sent_mail):
    t = world.ticket_x
    _post(client, t, "status", {"status": "open"})
    _db.session.expire_all()
    assert t.status == "open"
    _post(client, t, "status", {"status": "resolved", "outcome": "Estorno feito."})
    _db.session.expire_all()
    assert t.status == "resolved" and t.outcome == "Estorno feito."
    assert len(sent_mail) == 1  # the "resolved" email
    response = _post(client, t, "status", {"status": "open"})  # not allowed from resolved
    assert response.status_code == 302
    _db.session.expire_all()
    assert t.status == "resolved"
    _post(client, t, "status", {"status": "closed"})
    _db.session.expire_all()
    assert t.status == "closed"
    html = client.get(_url(t)).get_data(as_text=True)
    assert "can no longer change" in html
    _post(client, t, "priority", {"priority": "4"})
    _db.session.expire_all()
    assert t.priority == 2


def test_domain_error_is_flashed_and_changes_nothing(client, agent, world):
    t = world.ticket_x
    t.status = "closed"
    _db.session.commit()
    response = _post(client, t, "note", {"body": "Tarde demais"}, follow_redirects=True)
    assert "closed" in response.get_data(as_text=True)
    _db.session.expire_all()
    assert len(t.messages) == 1


def test_priority_change(client, agent, world):
    t = world.ticket_x
    _post(client, t, "priority", {"priority": "4"})
    _db.session.expire_all()
    assert t.priority == 4
    html = client.get(_url(t)).get_data(as_text=True)
    assert "changed the priority from Normal to Urgent" in html
    _post(client, t, "priority", {"priority": "7"})
    _db.session.expire_all()
    assert t.priority == 4


def test_edit_details(client, agent, world):
    t = world.ticket_x
    response = _post(
        client,
        t,
        "details",
        {"kind": "request", "subject": "Estorno de cobrança", "description": "Nova", "remedy": ""},
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert (t.kind, t.subject, t.description, t.remedy) == (
        "request",
        "Estorno de cobrança",
        "Nova",
        "",
    )
    _post(client, t, "details", {"kind": "request", "subject": ""})
    _db.session.expire_all()
    assert t.subject == "Estorno de cobrança"


def test_attachment_download(client, agent, world):
    t, a = world.ticket_x, world.attachment_x
    response = client.get(f"{_url(t)}/attachments/{a.id}")
    assert response.status_code == 200
    assert response.data == b"boleto"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # an attachment of another ticket through this ticket's URL
    assert client.get(f"{_url(t)}/attachments/{world.attachment_y.id}").status_code == 404
    assert client.get(f"{_url(t)}/attachments/999999").status_code == 404


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_xss_is_escaped_on_console_pages(client, app, world, make_ticket, make_customer, db):
    from helpdesk.tickets.services import add_message

    evil = make_customer(name=XSS, phone="+5511912345678")
    t = place(make_ticket(customer=evil, subject=XSS, description=XSS, remedy=XSS), world.dept_x)  # noqa: F405
    add_message(t, None, XSS)
    add_message(t, world.agent_x2, XSS, internal=True)
    db.session.commit()
    login_as(client, app, world.agent_x)  # noqa: F405
    pages = [
        "/console/?queue=department",
        _url(t),
        f"/console/customers/{evil.id}",
        "/console/phone?by=phone&q=11912345678",
        f"/console/phone/{t.protocol}",
    ]
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        assert "<script>alert" not in html, page
        assert "<img src=x" not in html, page
        assert "&lt;script&gt;" in html, page


def test_workspace_query_count_is_bounded(client, agent, world, db, count_queries):
    from helpdesk.tickets.services import add_message

    t = world.ticket_x

    def measure():
        client.get(_url(t))
        with count_queries() as q:
            assert client.get(_url(t)).status_code == 200
        return q.count

    add_message(t, world.agent_x2, "Nota", internal=True)
    db.session.commit()
    few = measure()  # 2 messages
    for i in range(18):
        author = (world.agent_x2, world.supervisor, None)[i % 3]
        add_message(t, author, f"Mensagem {i}", internal=author is not None and i % 2 == 0)
    db.session.commit()
    many = measure()  # 20 messages
    assert many == few


def test_customer_page_lists_only_visible_demands(client, app, world):
    login_as(client, app, world.agent_x)  # noqa: F405
    html = client.get(f"/console/customers/{world.customer.id}").get_data(as_text=True)
    assert world.ticket_x.protocol in html and world.ticket_y.protocol not in html
    login_as(client, app, world.admin)  # noqa: F405
    html = client.get(f"/console/customers/{world.customer.id}").get_data(as_text=True)
    assert world.ticket_x.protocol in html and world.ticket_y.protocol in html
    assert client.get("/console/customers/999999").status_code == 404
    assert client.get(f"/console/customers/{world.customer.id}?cursor=zzz").status_code == 400


def test_history_names_the_changed_field_in_a_whole_sentence(client, app, world):
    from helpdesk.tickets.services import update_details

    ticket = world.ticket_x
    update_details(
        ticket,
        world.agent_x,
        kind=ticket.kind,
        subject="Assunto corrigido",
        description=ticket.description,
        remedy="Troca do aparelho",
    )
    _db.session.commit()
    login_as(client, app, world.agent_x)  # noqa: F405
    html = client.get(f"/console/tickets/{ticket.protocol}").get_data(as_text=True)
    assert f"{world.agent_x.name} changed the subject." in html
    assert f"{world.agent_x.name} changed the remedy sought." in html
