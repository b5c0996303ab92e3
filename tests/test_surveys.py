"""Satisfaction surveys: sent after resolution (once), rated from the email link without signing
in (a GET never votes), stored on the ticket, a bad rating opens a follow-up for the supervisor."""

import re
from datetime import timedelta

import sqlalchemy as sa

from helpdesk.core.clock import as_utc, now
from helpdesk.notifications.models import OutboxMessage
from helpdesk.surveys.models import FollowUp, Survey
from helpdesk.surveys.services import send_due_surveys
from helpdesk.tickets.models import TicketEvent
from helpdesk.tickets.services import change_status


def _resolve(db, ticket, agent):
    change_status(ticket, agent, "resolved")
    db.session.commit()


def _survey_mails(db):
    return db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.kind.like("survey%"))
        .order_by(OutboxMessage.id)
    ).all()


def _link(mail, rating):
    match = re.search(r"(/survey/[\w.\-]+)\?rating=" + str(rating), mail.body_text)
    assert match, mail.body_text
    return match.group(1)


def test_resolved_demand_gets_one_survey_rated_from_the_email_without_login(
    app, db, client, make_user, make_ticket, make_customer
):
    app.config["SURVEY_DELAY_MINUTES"] = 0
    agent = make_user("agent")
    customer = make_customer(email="ana@example.com", locale="pt_BR")
    ticket = make_ticket(customer=customer, subject="Entrega atrasada")
    _resolve(db, ticket, agent)

    assert send_due_surveys()["sent"] == 1
    db.session.commit()
    assert send_due_surveys().get("sent", 0) == 0  # never twice for one demand
    mails = _survey_mails(db)
    assert len(mails) == 1
    mail = mails[0]
    assert mail.to_addr.endswith("<ana@example.com>")
    assert "Como foi" in mail.subject  # the customer's language
    path = _link(mail, 4)

    # the mail scanner's GET records nothing; the page has 4 preselected
    page = client.get(path + "?rating=4")
    assert page.status_code == 200
    assert re.search(rb"<input checked[^>]*value=\"4\"", page.data), page.data.decode()[-3000:]
    db.session.expire_all()
    assert db.session.get(Survey, _sid(db, ticket)).answered_at is None

    answered = client.post(path, data={"rating": "4", "comment": "Rápido e gentil"})
    assert answered.status_code == 200
    db.session.expire_all()
    survey = db.session.scalar(sa.select(Survey).where(Survey.ticket_id == ticket.id))
    assert survey.rating == 4 and survey.customer_comment == "Rápido e gentil"
    assert db.session.get(type(ticket), ticket.id).rating == 4
    assert (
        db.session.scalar(
            sa.select(TicketEvent).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.action == "rated"
            )
        ).new_value
        == "4"
    )
    # one use: the second answer is refused and changes nothing
    again = client.post(path, data={"rating": "1"})
    assert again.status_code in (409, 410)
    db.session.expire_all()
    assert db.session.get(type(ticket), ticket.id).rating == 4
    assert db.session.scalar(sa.select(sa.func.count(FollowUp.id))) == 0


def _sid(db, ticket):
    return db.session.scalar(sa.select(Survey.id).where(Survey.ticket_id == ticket.id))


def test_low_rating_opens_a_follow_up_for_the_department_supervisor(
    app, db, client, auth, make_user, make_ticket
):
    app.config["SURVEY_DELAY_MINUTES"] = 0
    agent = make_user("agent")
    supervisor = make_user("supervisor")
    ticket = make_ticket(subject="Cobrança indevida")
    _resolve(db, ticket, agent)
    send_due_surveys()
    db.session.commit()
    path = _link(_survey_mails(db)[0], 1)
    assert client.post(path, data={"rating": "1", "comment": "Ninguém resolveu"}).status_code == 200

    follow = db.session.scalar(sa.select(FollowUp).where(FollowUp.ticket_id == ticket.id))
    assert follow is not None and follow.assignee_id == supervisor.id
    assert follow.done_at is None and as_utc(follow.due_at) > now()

    auth.login(supervisor)
    page = client.get("/console/follow-ups")
    assert page.status_code == 200 and b"Overdue" not in page.data
    assert ticket.customer.name.encode() in page.data
    # overdue shows as such
    follow.due_at = now() - timedelta(hours=1)
    db.session.commit()
    assert b"Overdue" in client.get("/console/follow-ups").data


def test_agent_cannot_see_the_follow_up_list(db, client, auth, make_user):
    auth.login(make_user("agent"))
    assert client.get("/console/follow-ups").status_code == 403


def test_survey_waits_for_the_delay_and_expired_or_forged_links_are_refused(
    app, db, client, make_user, make_ticket
):
    app.config["SURVEY_DELAY_MINUTES"] = 60
    agent = make_user("agent")
    ticket = make_ticket()
    _resolve(db, ticket, agent)
    assert send_due_surveys().get("sent", 0) == 0
    db.session.commit()
    survey = db.session.scalar(sa.select(Survey).where(Survey.ticket_id == ticket.id))
    assert survey.status == "pending"
    survey.due_at = now() - timedelta(minutes=1)
    db.session.commit()
    assert send_due_surveys()["sent"] == 1
    db.session.commit()
    path = _link(_survey_mails(db)[0], 5)
    assert client.get("/survey/1.forged?rating=5").status_code == 404
    assert client.post(path, data={"rating": "9"}).status_code == 422
    survey = db.session.scalar(sa.select(Survey).where(Survey.ticket_id == ticket.id))
    survey.expires_at = now() - timedelta(seconds=1)
    db.session.commit()
    assert client.post(path, data={"rating": "5"}).status_code == 410
    db.session.expire_all()
    assert db.session.get(type(ticket), ticket.id).rating is None


def test_cli_sends_every_due_survey_now(app, db, make_user, make_ticket):
    app.config["SURVEY_DELAY_MINUTES"] = 0
    agent = make_user("agent")
    for _ in range(2):
        _resolve(db, make_ticket(), agent)
    result = app.test_cli_runner().invoke(args=["surveys", "send"])
    assert result.exit_code == 0, result.output
    assert "2 survey(s) sent" in result.output
    assert len(_survey_mails(db)) == 2


def test_opt_out_stops_the_surveys(app, db, client, make_user, make_ticket, make_customer):
    app.config["SURVEY_DELAY_MINUTES"] = 0
    agent = make_user("agent")
    customer = make_customer()
    _resolve(db, make_ticket(customer=customer), agent)
    send_due_surveys()
    db.session.commit()
    path = _link(_survey_mails(db)[0], 5)
    assert client.get(path + "/opt-out").status_code == 200
    assert client.post(path + "/opt-out").status_code == 200
    _resolve(db, make_ticket(customer=customer), agent)
    result = send_due_surveys()
    db.session.commit()
    assert result.get("skipped") == 1 and len(_survey_mails(db)) == 1


def test_a_whatsapp_customer_without_email_gets_the_survey_through_the_connector(
    app, db, client, make_user, monkeypatch
):
    """No email: the survey link goes back through the conversation the demand came from (a
    `ticket.survey` webhook with the text in the customer's language), and it works like the
    email's; without a connector subscribed to it, the survey is skipped, not lost silently."""
    import json

    from helpdesk.channels.conversations import receive_message
    from helpdesk.webhooks.models import WebhookDelivery
    from helpdesk.webhooks.services import create_subscription

    monkeypatch.setitem(app.config, "SURVEY_DELAY_MINUTES", 0)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", ["127.0.0.1/32"])  # the connector
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "pt_BR")  # as deployed
    agent = make_user("agent")
    connector = make_user("integration")
    create_subscription(None, url="http://127.0.0.1:9/connector", events=["ticket.survey"])
    _conversation, ticket, _ = receive_message(
        actor=connector,
        channel="whatsapp",
        external_id="wa-5511977776666",
        contact="+55 11 97777-6666",
        text="Meu pedido não chegou",
        name="Rita",
    )
    assert ticket.customer.primary_email is None
    _resolve(db, ticket, agent)

    assert send_due_surveys()["sent"] == 1
    db.session.commit()
    delivery = db.session.scalar(
        sa.select(WebhookDelivery).where(WebhookDelivery.event == "ticket.survey")
    )
    body = json.loads(delivery.body)
    assert body["conversation"]["conversation_id"] == "wa-5511977776666"
    assert body["data"]["url"] in body["data"]["text"] and "Como foi" in body["data"]["text"]
    path = "/survey/" + body["data"]["url"].rsplit("/survey/", 1)[1]
    page = client.get(path + "?rating=5")
    assert page.status_code == 200
    answered = client.post(path, data={"rating": "5"})
    assert answered.status_code == 200
    db.session.expire_all()
    assert db.session.get(Survey, _sid(db, ticket)).rating == 5
    assert db.session.get(Survey, _sid(db, ticket)).channel == "whatsapp"

    # a second WhatsApp demand, no connector listening any more: skipped
    db.session.execute(sa.text("UPDATE webhook_subscriptions SET active = false"))
    _c, other, _ = receive_message(
        actor=connector,
        channel="whatsapp",
        external_id="wa-5511955554444",
        contact="+55 11 95555-4444",
        text="Cobrança errada",
    )
    _resolve(db, other, agent)
    assert send_due_surveys().get("sent", 0) == 0
    db.session.commit()
    assert db.session.get(Survey, _sid(db, other)).status == "skipped"


def test_a_bad_rating_in_the_portal_verdict_opens_a_follow_up_and_no_survey_follows(
    app, db, client, auth, make_user, make_ticket, make_customer, monkeypatch
):
    """The customer's verdict carries a rating too: a bad one gets the same call back as a bad
    survey answer, and a demand they rated is not surveyed again."""
    from helpdesk.tickets.services import add_message

    monkeypatch.setitem(app.config, "SURVEY_DELAY_MINUTES", 0)
    agent = make_user("agent")
    user = make_user("customer", email="lia@example.com")
    from tests.conftest import customer_of

    ticket = make_ticket(customer=customer_of(user), subject="Estorno")
    add_message(ticket, agent, "Estorno feito.")
    _resolve(db, ticket, agent)
    auth.login(user)
    url = f"/portal/demands/{ticket.protocol}"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answered = client.post(
        f"{url}/verdict", data={"resolved": "yes", "rating": "1", "csrf_token": token}
    )
    assert answered.status_code == 302
    db.session.expire_all()
    follow = db.session.scalar(sa.select(FollowUp).where(FollowUp.ticket_id == ticket.id))
    assert follow is not None and follow.done_at is None
    assert send_due_surveys().get("sent", 0) == 0
    db.session.commit()
    assert _survey_mails(db) == []
