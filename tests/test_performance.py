"""Query-shape guards for the hot paths (ticket creation, the queue and ticket pages).

No timings here: these tests pin the number and kind of SQL statements and the behaviour the
performance changes must keep (same events, same routing, same response bodies).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from helpdesk.tickets.models import Ticket, TicketEvent
from helpdesk.tickets.protocol import is_valid
from helpdesk.tickets.services import register_ticket


def _register(customer, **kw):
    return register_ticket(
        actor=None,
        customer=customer,
        channel="web",
        kind="complaint",
        subject="Entrega atrasada",
        description="O rastreio não atualiza.",
        **kw,
    )


def test_register_inserts_ticket_once_without_follow_up_updates(
    db, default_department, make_user, make_customer, count_queries
):
    agent = make_user(role="agent", departments=[default_department])
    customer = make_customer(email="perf@example.com")
    with count_queries() as q:
        ticket = _register(customer)
    statements = [" ".join(s.split()).upper() for s in q.statements]
    assert not [s for s in statements if s.startswith("UPDATE TICKETS")]
    assert len([s for s in statements if s.startswith("INSERT INTO TICKETS")]) == 1
    assert len([s for s in statements if "FROM DEPARTMENTS" in s]) == 1  # default looked up once
    db.session.commit()
    events = db.session.scalars(
        sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    ).all()
    assert [e.action for e in events] == ["created", "routed", "assigned"]
    assert [e.detail for e in events] == ["complaint", "default", "least_loaded"]
    stored = db.session.get(Ticket, ticket.id)
    assert stored.assignee_id == agent.id
    assert stored.department_id == default_department.id
    assert stored.updated_at >= stored.created_at


def test_register_with_rule_priority_and_agent_records_every_event(
    db, default_department, make_department, make_user, make_customer
):
    from helpdesk.routing.services import create_rule

    billing = make_department("Cobrança")
    agent = make_user(role="agent", departments=[billing])
    create_rule(
        name="Fatura", keywords="fatura", department_id=billing.id, priority=3, agent_id=agent.id
    )
    db.session.commit()
    ticket = register_ticket(
        actor=None,
        customer=make_customer(),
        channel="web",
        kind="complaint",
        subject="Fatura errada",
    )
    db.session.commit()
    actions = db.session.scalars(
        sa.select(TicketEvent.action)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.id)
    ).all()
    assert actions == ["created", "routed", "priority", "assigned"]
    assert (ticket.department_id, ticket.priority, ticket.assignee_id) == (billing.id, 3, agent.id)


def test_protocol_number_is_taken_after_the_routing_and_sla_reads(
    db, default_department, make_user, make_customer, count_queries
):
    """The day's counter row stays locked until commit (PostgreSQL): take it after the reads."""
    make_user(role="agent", departments=[default_department])
    customer = make_customer(email="late@example.com")
    with count_queries() as q:
        ticket = _register(customer)
    statements = [" ".join(s.split()).upper() for s in q.statements]
    counter = next(i for i, s in enumerate(statements) if s.startswith("UPDATE PROTOCOL_COUNTERS"))
    reads = [
        i for i, s in enumerate(statements) if "FROM ROUTING_RULES" in s or "FROM SLA_POLICIES" in s
    ]
    assert reads and max(reads) < counter
    assert ticket.protocol and is_valid(ticket.protocol)


def test_a_rolled_back_registration_gives_its_protocol_number_back(
    db, default_department, make_customer
):
    customer = make_customer(email="gapfree@example.com")
    first = _register(customer).protocol
    db.session.commit()
    _register(customer)
    db.session.rollback()
    third = _register(customer).protocol
    db.session.commit()
    assert int(third[8:-1]) == int(first[8:-1]) + 1  # no gap where the rolled-back one was


def test_api_creation_body_is_built_before_commit_and_matches_a_read(
    client, db, default_department, make_user, count_queries
):
    from helpdesk.accounts.services import issue_api_token
    from tests.test_api_support import API, bearer

    agent = make_user("agent", password=None, name="Agente Paula")
    headers = bearer(issue_api_token(agent, "perf"))
    db.session.commit()
    body = {
        "kind": "complaint",
        "subject": "Cobrança indevida",
        "description": "Cobraram duas vezes.",
        "customer": {"name": "Maria Souza", "email": "maria@example.com", "phone": "11987654321"},
    }
    with count_queries() as q:
        created = client.post(f"{API}/tickets", json=body, headers=headers)
    assert created.status_code == 201
    # nothing is read again after the commit to build the response
    statements = [" ".join(s.split()).upper() for s in q.statements]
    assert len([s for s in statements if s.startswith("SELECT TICKETS.")]) == 0
    assert not [s for s in statements if s.startswith("SELECT ATTACHMENTS.ID")]  # none: new
    data = created.get_json()
    read = client.get(f"{API}/tickets/{data['protocol']}", headers=headers).get_json()
    assert {k: read[k] for k in data} == data
    assert data["assignee"]["name"] == "Agente Paula"
    assert data["customer"]["emails"] == ["maria@example.com"]
    assert created.headers["Location"].endswith(f"/tickets/{data['protocol']}")


# labels resolved once per catalog -------------------------------------------------------------


def test_template_labels_follow_the_locale_of_each_render(app, db):
    from flask import render_template_string
    from flask_babel import force_locale

    source = "{{ status_labels['new'] }}|{{ kind_labels|length }}"
    with app.test_request_context("/"):
        with force_locale("pt_BR"):
            first = render_template_string(source)
        with force_locale("es"):
            second = render_template_string(source)
        with force_locale("pt_BR"):
            again = render_template_string(source)
        with force_locale("en"):
            english = render_template_string(source)
    assert first.startswith("Nova|") and again == first
    assert second.startswith("Nuevo|")
    assert english.startswith("New|")


def test_cached_labels_are_read_only(app, db):
    from helpdesk.core.web import _resolved_labels

    with app.test_request_context("/"):
        labels = _resolved_labels()
        with pytest.raises(TypeError):
            labels["status_labels"]["new"] = "changed"
        assert _resolved_labels()["status_labels"]["new"] == labels["status_labels"]["new"]


# API token lookup --------------------------------------------------------------------------------


def test_api_token_owner_is_loaded_in_one_statement(db, make_user, count_queries):
    from helpdesk.accounts.services import issue_api_token, set_user_active, user_for_api_token

    agent = make_user("agent", password=None)
    raw = issue_api_token(agent, "perf")
    db.session.commit()
    agent_id = agent.id
    db.session.expunge_all()
    with count_queries() as q:
        owner = user_for_api_token(raw)
    assert q.count == 1
    assert owner.id == agent_id
    assert user_for_api_token(raw + "x") is None
    set_user_active(owner, False)
    db.session.commit()
    assert user_for_api_token(raw) is None


# dates: cached patterns, same text as Babel -------------------------------------------------------


@pytest.mark.parametrize("locale", ["pt_BR", "es", "en"])
@pytest.mark.parametrize(
    "zone", ["America/Sao_Paulo", "America/Manaus", "America/Argentina/Buenos_Aires", "UTC"]
)
def test_fmt_dt_matches_babel(app, locale, zone):
    import random
    from datetime import UTC, datetime, timedelta

    import pytz
    from babel import dates
    from flask import g
    from flask_babel import force_locale

    from helpdesk.core.i18n import fmt_dt, numeric_date_pattern

    rng = random.Random(7)
    start = datetime(2017, 1, 1)  # Brazil still had summer time until 2019
    values = [start + timedelta(seconds=rng.randrange(0, 10**9)) for _ in range(300)]
    values += [v.replace(tzinfo=UTC) for v in values[:50]]
    with app.test_request_context("/"), force_locale(locale):
        fmt_dt(values[0])  # binds the request's Babel context
        g._flask_babel.babel_tzinfo = pytz.timezone(zone)
        for value in values:
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            for format in ("short", "medium", "long", "dd/MM/yyyy HH:mm"):
                if format == "short":  # Babel's short time with the numeric date (02/12/2026)
                    local = aware.astimezone(pytz.timezone(zone))
                    expected = (
                        dates.get_datetime_format("short", locale=locale)
                        .replace("'", "")
                        .replace(
                            "{1}", dates.format_date(local, numeric_date_pattern(locale), locale)
                        )
                        .replace("{0}", dates.format_time(local, "short", locale=locale))
                    )
                else:
                    expected = dates.format_datetime(
                        aware, format, tzinfo=pytz.timezone(zone), locale=locale
                    )
                assert fmt_dt(value, format) == expected
        assert fmt_dt(None) == ""


# queue counters in one statement -------------------------------------------------------------


def test_queue_counts_in_one_statement_and_capped(
    db, default_department, make_user, make_customer, make_ticket, count_queries
):
    from helpdesk.console.queue import COUNT_CAP, _bounded_counts

    agent = make_user("agent", departments=[default_department])
    customer = make_customer()
    mine = [make_ticket(customer=customer) for _ in range(3)]  # routed to the only agent
    for ticket in mine[:1]:
        ticket.assignee_id = None
    db.session.commit()
    _bounded_counts(agent)  # loads the agent and their departments
    with count_queries() as q:
        counts = _bounded_counts(agent)
    assert q.count == 1
    assert counts == {"mine": "2", "unassigned": "1", "department": "3"}
    for _ in range(COUNT_CAP):
        make_ticket(customer=customer)
    assert _bounded_counts(agent) == {
        "mine": f"{COUNT_CAP}+",
        "unassigned": "1",
        "department": f"{COUNT_CAP}+",
    }


# console ticket page: one lookup with the eager loads -------------------------------------------


def test_console_ticket_page_loads_the_ticket_once(
    client, auth, db, default_department, make_user, make_ticket, count_queries
):
    agent = make_user("agent", departments=[default_department])
    ticket = make_ticket(subject="Entrega atrasada")
    protocol = ticket.protocol
    auth.login(agent)
    with count_queries() as q:
        response = client.get(f"/console/tickets/{protocol}")
    assert response.status_code == 200
    assert "Entrega atrasada" in response.get_data(as_text=True)
    by_key = [
        s for s in (" ".join(s.split()) for s in q.statements) if s.startswith("SELECT tickets.")
    ]
    assert len([s for s in by_key if "WHERE tickets.protocol =" in s]) == 1
    assert not [s for s in by_key if "WHERE tickets.id =" in s]
    assert client.get(f"/console/tickets/{protocol[:-1]}9").status_code in (400, 404)
    wrong = protocol[:-1] + str((int(protocol[-1]) + 1) % 10)
    assert client.get(f"/console/tickets/{wrong}").status_code == 400
