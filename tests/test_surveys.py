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
