"""The health check answers and a ticket can be registered through the intake service."""

from helpdesk.tickets import protocol


def test_healthz_reports_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_register_ticket_issues_valid_protocol_and_acknowledges(make_ticket, sent_mail, db):
    from helpdesk.core.unit import commit

    ticket = make_ticket(kind="complaint", subject="Cobrança indevida")
    commit()
    assert protocol.is_valid(ticket.protocol)
    assert [e.action for e in ticket.events][:2] == ["created", "routed"]
