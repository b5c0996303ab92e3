"""Data subjects and records (rules 4 and 6): the customer export and anonymisation through the
CLI, the anonymiser's registry, retention with its legal hold."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from helpdesk.customers.documents import make_cpf
from tests import test_api_support as support
from tests.test_api_support import API, bearer

token_for = support.token_for


def _world(db, make_user, make_customer, make_ticket):
    from helpdesk.sla.policies import ensure_default_policy
    from helpdesk.tickets.services import add_message

    ensure_default_policy()
    agent = make_user("agent", name="Agente Ana")
    cpf = make_cpf("987654321")
    customer = make_customer(
        name="Joana Paranhos", email="joana@example.com", phone="11944445555", document=cpf
    )
    first = make_ticket(customer=customer, channel="phone", subject="Cobrança indevida Joana")
    second = make_ticket(
        customer=customer, channel="email", kind="request", description="Meu telefone 11944445555"
    )
    add_message(first, agent, "Olá Joana, estornamos o valor.")
    add_message(first, None, "Obrigada, recebi.", author_name="Joana Paranhos")
    add_message(second, agent, "Nota interna sobre Joana", internal=True)
    db.session.commit()
    return agent, customer, cpf, [first, second]


def _counts(db):
    from helpdesk.tickets.models import Message, Ticket

    return (
        sorted(
            db.session.execute(
                sa.select(Ticket.status, Ticket.channel, Ticket.kind, sa.func.count()).group_by(
                    Ticket.status, Ticket.channel, Ticket.kind
                )
            ).all()
        ),
        db.session.scalar(sa.select(sa.func.count()).select_from(Message)),
    )


def test_cli_export_lists_every_message(app, db, make_user, make_customer, make_ticket, tmp_path):
    from helpdesk.tickets.models import Message

    _agent, _customer, cpf, tickets = _world(db, make_user, make_customer, make_ticket)
    out = tmp_path / "joana.json"
    result = app.test_cli_runner().invoke(
        args=["customers", "export", "JOANA@example.com", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["customer"]["name"] == "Joana Paranhos"
    assert data["customer"]["document"] == cpf
    assert data["customer"]["phones"] == ["+5511944445555"]
    assert [d["protocol"] for d in data["demands"]] == [t.protocol for t in tickets]
    exported = sorted(m["body"] for d in data["demands"] for m in d["messages"])
    stored = sorted(
        db.session.scalars(
            sa.select(Message.body).where(Message.ticket_id.in_([t.id for t in tickets]))
        )
    )
    assert exported == stored and "Nota interna sobre Joana" in exported
    assert data["demands"][0]["deadlines"], "the SLA instants are part of the record"

    missing = app.test_cli_runner().invoke(
        args=["customers", "export", "nobody@example.com", "--out", str(out)]
    )
    assert missing.exit_code == 1 and "no customer" in missing.output


def test_cli_anonymise_removes_personal_data_and_keeps_counts(
    app, db, client, make_user, make_customer, make_ticket, token_for
):
    agent, customer, cpf, tickets = _world(db, make_user, make_customer, make_ticket)
    other = make_ticket(subject="Outro cliente")
    before = _counts(db)
    runner = app.test_cli_runner()

    unconfirmed = runner.invoke(args=["customers", "anonymise", "joana@example.com"])
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.output

    result = runner.invoke(args=["customers", "anonymise", "joana@example.com", "--yes"])
    assert result.exit_code == 0, result.output
    assert _counts(db) == before

    hdrs = bearer(token_for(make_user("admin")))
    for ticket in tickets:
        body = client.get(f"{API}/tickets/{ticket.protocol}", headers=hdrs).get_data(as_text=True)
        for secret in ("Joana", "joana@example.com", "944445555", cpf, "Cobrança indevida"):
            assert secret not in body, secret
        assert ticket.protocol in body
    found = client.get(f"{API}/customers?document={cpf}", headers=hdrs).get_json()
    assert found == {"items": []}
    assert client.get(f"{API}/customers?email=joana@example.com", headers=hdrs).get_json() == {
        "items": []
    }
    # the search index forgot the text too
    listing = client.get(f"{API}/tickets?q=Paranhos", headers=hdrs)
    assert listing.status_code == 200 and listing.get_json()["items"] == []
    # someone else's demand is untouched
    assert "Outro cliente" in client.get(f"{API}/tickets/{other.protocol}", headers=hdrs).get_data(
        as_text=True
    )
    # every message body is replaced too (answers quote the customer)
    thread = client.get(f"{API}/tickets/{tickets[0].protocol}", headers=hdrs).get_data(as_text=True)
    assert "estornamos" not in thread


def test_anonymise_clears_the_record_notes_their_history_and_survey_comments(
    app, db, client, make_user, make_customer, make_ticket, token_for
):
    from helpdesk.customers.models import CustomerEvent
    from helpdesk.surveys.models import Survey

    _agent, customer, _cpf, tickets = _world(db, make_user, make_customer, make_ticket)
    hdrs = bearer(token_for(make_user("admin")))
    record = f"{API}/customers/{customer.id}"
    patched = client.patch(
        record,
        headers=hdrs,
        json={
            "customer_notes": "Joana prefere ligação à tarde",
            "customer_important_dates": "Aniversário da Joana: 12/03",
        },
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    db.session.add(
        Survey(
            ticket_id=tickets[0].id,
            customer_id=customer.id,
            status="answered",
            rating=2,
            customer_comment="Joana: demoraram demais",
        )
    )
    db.session.commit()

    result = app.test_cli_runner().invoke(
        args=["customers", "anonymise", "joana@example.com", "--yes"]
    )
    assert result.exit_code == 0, result.output

    shown = client.get(record, headers=hdrs).get_data(as_text=True)
    assert "Joana" not in shown and "12/03" not in shown
    db.session.expire_all()
    assert db.session.scalar(sa.select(Survey.customer_comment)) == ""
    assert db.session.scalar(sa.select(Survey.rating)) == 2, "the rating still counts"
    values = db.session.execute(
        sa.select(CustomerEvent.old_value, CustomerEvent.new_value).where(
            CustomerEvent.customer_id == customer.id
        )
    ).all()
    assert values and all(v == (None, None) for v in values)


def test_legal_hold_refuses_anonymisation(app, db, make_user, make_customer, make_ticket):
    from helpdesk.customers.models import Customer

    _agent, customer, _cpf, tickets = _world(db, make_user, make_customer, make_ticket)
    tickets[1].legal_hold = True
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["customers", "anonymise", "joana@example.com", "--yes"]
    )
    assert result.exit_code == 1
    assert "legal hold" in result.output and tickets[1].protocol in result.output
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "Joana Paranhos"


def test_retention_dry_run_then_run(app, db, make_user, make_customer, make_ticket):
    from helpdesk.core import clock
    from helpdesk.customers.models import Customer
    from helpdesk.tickets.models import Ticket

    _agent, customer, _cpf, tickets = _world(db, make_user, make_customer, make_ticket)
    held_customer = make_customer(name="Retida Silva")
    held = make_ticket(customer=held_customer)
    recent = make_ticket(subject="Recente")
    long_ago = clock.now() - timedelta(days=800)
    for ticket in (*tickets, held):
        ticket.status = "closed"
        ticket.resolved_at = ticket.closed_at = long_ago
    for row in (customer, held_customer):
        row.created_at = long_ago
    held_customer.legal_hold = True
    recent.status, recent.resolved_at = "resolved", clock.now() - timedelta(days=30)
    db.session.commit()
    before = _counts(db)
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would anonymise 2 demand(s) and 1 customer(s)" in dry.output
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "Joana Paranhos"

    run = runner.invoke(args=["retention", "run"])
    assert "anonymised 2 demand(s) and 1 customer(s)" in run.output
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "Anonymised"
    assert db.session.get(Customer, held_customer.id).name == "Retida Silva"
    assert db.session.get(Ticket, held.id).subject != "[anonymised]"
    assert db.session.get(Ticket, recent.id).subject == "Recente"
    assert _counts(db) == before
    again = runner.invoke(args=["retention", "run", "--dry-run"])
    assert "would anonymise 0 demand(s) and 0 customer(s)" in again.output


# history requests (rule 4) ---------------------------------------------------------------------


def test_portal_history_request_is_fulfilled_as_pdf_with_every_message(
    app, db, client, auth, make_user, make_ticket
):
    import io

    from pypdf import PdfReader

    from helpdesk.compliance.history import fulfil_history
    from helpdesk.compliance.models import DataRequest
    from helpdesk.notifications.models import OutboxMessage
    from helpdesk.sla.models import TicketSla
    from helpdesk.sla.policies import ensure_default_policy
    from helpdesk.tickets.services import add_message
    from tests.conftest import csrf_from, customer_of

    ensure_default_policy()
    agent = make_user("agent", name="Agente Ana")
    user = make_user("customer", email="conceição@example.com", name="Conceição Ñúñez")
    customer = customer_of(user)
    first = make_ticket(customer=customer, subject="Cobrança em duplicidade")
    second = make_ticket(customer=customer, channel="phone", kind="request")
    add_message(first, agent, "Olá Conceição, o estorno sai em 3 dias úteis.")
    add_message(first, user, "Ótimo, obrigada! Aguardo.")
    add_message(second, agent, "Segredo interno", internal=True)
    add_message(second, agent, "Pedido atendido: segunda via enviada.")
    db.session.commit()

    auth.login(user)
    response = client.post(
        "/portal/history",
        data={"csrf_token": csrf_from(client, "/portal/history")},
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    row = db.session.scalar(sa.select(DataRequest).where(DataRequest.customer_id == customer.id))
    assert row is not None and row.status == "open" and row.ticket.kind == "request"
    due = db.session.scalar(
        sa.select(TicketSla.due_at).where(
            TicketSla.ticket_id == row.ticket_id, TicketSla.target == "resolution"
        )
    )
    assert due - row.ticket.created_at == timedelta(days=5)
    assert "5" in page and row.ticket.protocol[:4] in page
    assert row.ticket.sla_due_at is not None  # the board and the sweep see it

    fulfil_history(row, actor=agent)
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(DataRequest, row.id)
    assert row.status == "fulfilled" and row.ticket.status == "resolved"

    pdf = client.get(f"/portal/history/{row.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    text = " ".join(text.split())
    for body in (
        "Olá Conceição, o estorno sai em 3 dias úteis.",
        "Ótimo, obrigada! Aguardo.",
        "Pedido atendido: segunda via enviada.",
        "Conceição Ñúñez",
        first.protocol,
        second.protocol,
    ):
        assert body in text, body
    assert "Segredo interno" not in text
    html = client.get(f"/portal/history/{row.id}.html").get_data(as_text=True)
    assert "Pedido atendido" in html and "Segredo interno" not in html

    mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "history_ready"))
    assert mail is not None and "conceição@example.com" in mail.to_addr
    link = next(w for w in mail.body_text.split() if "/portal/history/" in w)
    path = link.split("://", 1)[-1].split("/", 1)[1]
    other = app.test_client()
    by_link = other.get("/" + path)
    assert by_link.status_code == 200 and by_link.data == pdf.data
    forged = other.get("/" + path[:-3] + "xyz")
    assert forged.status_code == 404
    assert other.get(f"/portal/history/{row.id}.pdf").status_code in (302, 401)


def test_expired_history_link_is_refused(app, db, client, make_user, make_ticket):
    from helpdesk.compliance.history import fulfil_history, link_token, request_history
    from tests.conftest import customer_of

    user = make_user("customer")
    row = request_history(customer_of(user), actor=user)
    fulfil_history(row)
    db.session.commit()
    token = link_token(row)
    assert client.get(f"/portal/history/{token}").status_code == 200
    app.config["HISTORY_LINK_DAYS"] = 0
    try:
        import time

        time.sleep(1.1)
        refused = client.get(f"/portal/history/{token}")
    finally:
        app.config.pop("HISTORY_LINK_DAYS")
    assert refused.status_code == 404


def test_api_history_request_and_export(app, db, client, make_user, token_for):
    from datetime import datetime

    from tests.conftest import customer_of

    user = make_user("customer", name="Lúcia Prado")
    stranger = make_user("customer")
    agent = make_user("agent")
    customer = customer_of(user)
    mine, staff = bearer(token_for(user)), bearer(token_for(agent))

    created = client.post(f"{API}/customers/{customer.id}/history-requests", headers=mine)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["status"] == "open" and body["channel"] == "api" and body["protocol"]
    asked = datetime.fromisoformat(body["requested_at"])
    assert datetime.fromisoformat(body["due_at"]) - asked == timedelta(days=5)

    theirs = bearer(token_for(stranger))
    assert (
        client.post(f"{API}/customers/{customer.id}/history-requests", headers=theirs).status_code
        == 404
    )
    bad = client.post(
        f"{API}/customers/{customer.id}/history-requests", headers=staff, json={"channel": "fax"}
    )
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
    phone = client.post(
        f"{API}/customers/{customer.id}/history-requests", headers=staff, json={"channel": "phone"}
    )
    assert phone.status_code == 201 and phone.get_json()["channel"] == "phone"

    assert (
        client.post(f"{API}/history-requests/{body['id']}/fulfil", headers=mine).status_code == 403
    )
    done = client.post(f"{API}/history-requests/{body['id']}/fulfil", headers=staff)
    assert done.status_code == 200 and done.get_json()["status"] == "fulfilled"
    listed = client.get(f"{API}/customers/{customer.id}/history-requests", headers=mine).get_json()
    assert [r["status"] for r in listed["items"]] == ["open", "fulfilled"]

    export = client.get(f"{API}/customers/{customer.id}/export", headers=mine)
    assert export.status_code == 200 and export.get_json()["customer"]["name"] == "Lúcia Prado"
    assert client.get(f"{API}/customers/{customer.id}/export", headers=theirs).status_code == 404


# the console -----------------------------------------------------------------------------------


def test_console_phone_history_request_fulfil_correct_and_refused_anonymisation(
    app, db, client, auth, make_user, make_customer, make_ticket
):
    from helpdesk.compliance.models import DataRequest
    from helpdesk.customers.models import Customer
    from helpdesk.notifications.models import OutboxMessage
    from tests.conftest import csrf_from

    supervisor = make_user("supervisor")
    customer = make_customer(name="Rui Barbosa", email="rui@example.com")
    email_ticket = make_ticket(customer=customer, channel="email", subject="Quero meu histórico")
    page = f"/console/customers/{customer.id}"
    auth.login(supervisor)
    csrf = csrf_from(client, page)
    assert "Rui Barbosa" in client.get(page).get_data(as_text=True)

    made = client.post(f"{page}/history-requests", data={"csrf_token": csrf, "channel": "phone"})
    assert made.status_code == 302
    row = db.session.scalar(sa.select(DataRequest).where(DataRequest.customer_id == customer.id))
    assert row.channel == "phone" and row.ticket.channel == "phone"

    marked = client.post(
        f"/console/tickets/{email_ticket.protocol}/history-request", data={"csrf_token": csrf}
    )
    assert marked.status_code == 302
    db.session.expire_all()
    converted = db.session.scalar(
        sa.select(DataRequest).where(DataRequest.ticket_id == email_ticket.id)
    )
    assert converted is not None and converted.channel == "email"

    client.post(f"/console/history-requests/{row.id}/fulfil", data={"csrf_token": csrf})
    db.session.expire_all()
    assert db.session.get(DataRequest, row.id).status == "fulfilled"
    assert db.session.scalar(
        sa.select(sa.func.count()).where(OutboxMessage.kind == "history_ready")
    )
    pdf = client.get(f"/console/history-requests/{row.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    bad = client.post(
        f"{page}/correct",
        data={"csrf_token": csrf, "name": "Rui B. Barbosa", "document": "111.111.111-12"},
        follow_redirects=True,
    )
    assert "CPF" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "Rui Barbosa"  # rolled back together
    good = client.post(
        f"{page}/correct", data={"csrf_token": csrf, "name": "Rui B. Barbosa", "document": ""}
    )
    assert good.status_code == 302
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "Rui B. Barbosa"
    audit = db.session.scalar(sa.select(DataRequest).where(DataRequest.kind == "correction"))
    assert audit.note == "name" and audit.requested_by_id == supervisor.id

    client.post(f"{page}/legal-hold", data={"csrf_token": csrf, "held": "y"})
    refused = client.post(
        f"{page}/anonymise", data={"csrf_token": csrf, "confirm": "y"}, follow_redirects=True
    )
    text = refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "Rui B. Barbosa"
    refusal = db.session.scalar(sa.select(DataRequest).where(DataRequest.kind == "anonymise"))
    assert refusal.status == "refused" and "A legal hold applies" in text

    client.post(f"{page}/legal-hold", data={"csrf_token": csrf})
    client.post(f"{page}/anonymise", data={"csrf_token": csrf, "confirm": "y"})
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "Anonymised"


def test_console_anonymise_is_for_supervisors(db, client, auth, make_user, make_customer):
    from tests.conftest import csrf_from

    agent = make_user("agent")
    customer = make_customer()
    auth.login(agent)
    page = f"/console/customers/{customer.id}"
    csrf = csrf_from(client, page)
    assert (
        client.post(f"{page}/anonymise", data={"csrf_token": csrf, "confirm": "y"}).status_code
        == 403
    )
    assert client.post(f"{page}/legal-hold", data={"csrf_token": csrf}).status_code == 403


def test_retention_is_a_scheduled_job(app, db, make_ticket):
    from apscheduler.schedulers.background import BackgroundScheduler

    from helpdesk import scheduler as module
    from helpdesk.core import clock
    from helpdesk.tickets.models import Ticket

    ticket = make_ticket(subject="Antiga")
    ticket.status, ticket.closed_at = "closed", clock.now() - timedelta(days=731)
    db.session.commit()
    sched = module.build_scheduler(app, cls=BackgroundScheduler)
    assert "retention" in {job.id for job in sched.get_jobs()}
    result = module.run_job("retention")
    assert result["tickets"] == 1
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).subject == "[anonymised]"
    assert module.run_job("retention") is None  # idempotent: nothing left
