"""Surveys: create one per resolved demand (once), send it when due, record the answer, open a
follow-up after a bad rating.

Idempotent across schedulers: the unique ticket_id means a demand gets one survey however many
processes create it, and a conditional UPDATE (pending -> sending) claims each row for exactly one
sender, as the outbox does.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..accounts.services import department_supervisors
from ..channels.queries import conversation_of
from ..core.clock import as_utc, iso, now
from ..core.errors import Conflict, ValidationError
from ..core.tokens import hash_token, sign
from ..extensions import db
from ..notifications.services import queue_email
from ..tickets.events import record_event
from ..tickets.models import Ticket
from ..tickets.protocol import display as display_protocol
from ..webhooks.services import emit_event
from .models import FollowUp, Survey

log = logging.getLogger(__name__)

LOW_RATING = 2  # a rating at or below this opens a follow-up


def delay_for(channel: str) -> timedelta:
    """SURVEY_DELAY_MINUTES, or the channel's own (SURVEY_CHANNEL_DELAYS "phone:0,email:60")."""
    minutes = current_app.config["SURVEY_DELAY_MINUTES"]
    for item in current_app.config["SURVEY_CHANNEL_DELAYS"]:
        name, _, value = item.partition(":")
        if name.strip() == channel and value.strip().isdigit():
            minutes = int(value)
    return timedelta(minutes=minutes)


def create_due_surveys(limit: int = 500) -> int:
    """A survey row for each demand resolved lately that has none (never a second one)."""
    if not current_app.config["SURVEYS_ENABLED"]:
        return 0
    horizon = now() - timedelta(days=current_app.config["SURVEY_MAX_AGE_DAYS"])
    rows = db.session.execute(
        sa.select(Ticket.id, Ticket.customer_id, Ticket.channel, Ticket.resolved_at)
        .outerjoin(Survey, Survey.ticket_id == Ticket.id)
        .where(
            Survey.id.is_(None),
            Ticket.rating.is_(None),  # rated already (the verdict): not asked again
            Ticket.status.in_(("resolved", "closed")),
            Ticket.resolved_at.is_not(None),
            Ticket.resolved_at >= horizon,
        )
        .order_by(Ticket.id)
        .limit(limit)
    ).all()
    created = 0
    for ticket_id, customer_id, channel, resolved_at in rows:
        try:
            with db.session.begin_nested():
                db.session.add(
                    Survey(
                        ticket_id=ticket_id,
                        customer_id=customer_id,
                        due_at=as_utc(resolved_at) + delay_for(channel),
                        token_salt=secrets.token_hex(16),
                    )
                )
            created += 1
        except IntegrityError:  # another scheduler created it first
            continue
    return created


def raw_token(survey: Survey) -> str:
    return f"{survey.id}.{sign(current_app.config['SECRET_KEY'], f'survey.{survey.id}.{survey.token_salt}', 40)}"


def survey_for_token(token: str) -> Survey | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(sa.select(Survey).where(Survey.token_hash == hash_token(token)))


def _claim(where, values: dict, limit: int) -> list[int]:
    wanted = sa.select(Survey.id).where(*where).order_by(Survey.id).limit(limit)
    claimed = list(
        db.session.scalars(
            sa.update(Survey)
            .where(Survey.id.in_(wanted), *where)
            .values(**values)
            .returning(Survey.id)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    return claimed


def _recipient(ticket: Ticket) -> tuple[str | None, str | None]:
    customer = ticket.customer
    locale = customer.locale or (customer.user.locale if customer.user else None)
    return customer.primary_email, locale


def _queue(survey: Survey, *, reminder: bool) -> bool:
    ticket = survey.ticket
    email, locale = _recipient(ticket)
    if ticket.customer.surveys_opted_out_at is not None:
        return False
    if ticket.rating is not None and survey.answered_at is None:
        return False  # the customer rated it meanwhile (their verdict): asked once is enough
    if email:
        queue_email(
            kind="survey_reminder" if reminder else "survey",
            to=email,
            to_name=ticket.customer.name,
            template="survey",
            locale=locale,
            ticket=ticket,
            token=raw_token(survey),
            reminder=reminder,
            days=current_app.config["SURVEY_LINK_DAYS"],
        )
        survey.channel = "email"
        return True
    return _queue_through_connector(survey, locale, reminder=reminder)


def _queue_through_connector(survey: Survey, locale: str | None, *, reminder: bool) -> bool:
    """No email (a WhatsApp or chat customer): the link goes back through the conversation the
    demand came from, as agents' answers do: a `ticket.survey` webhook to the connector, with the
    text to send in the customer's language. False (skipped) when the demand has no conversation
    or no connector subscribed to the event."""
    ticket = survey.ticket
    conversation = conversation_of(ticket)
    if conversation is None:
        return False
    url = f"{current_app.config['BASE_URL'].rstrip('/')}/survey/{raw_token(survey)}"
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = _(
            "Your demand %(protocol)s was resolved. How did we do? Rate us in one click: %(url)s",
            protocol=display_protocol(ticket.protocol),
            url=url,
        )
    sent = emit_event(
        ticket,
        "ticket.survey",
        {
            "url": url,
            "text": text,
            "reminder": reminder,
            "expires_at": iso(survey.expires_at),
        },
    )
    if not sent:
        return False
    survey.channel = conversation.channel
    return True


def send_due_surveys(limit: int = 100) -> dict:
    """Create missing surveys, then send every due one and every due reminder (claimed first)."""
    created = create_due_surveys()
    db.session.commit()
    claimed = _claim(
        (Survey.status == "pending", Survey.due_at <= now()),
        {"status": "sending", "claimed_at": now()},
        limit,
    )
    sent = skipped = 0
    days = current_app.config["SURVEY_LINK_DAYS"]
    for survey in db.session.scalars(sa.select(Survey).where(Survey.id.in_(claimed))):
        survey.token_hash = hash_token(raw_token(survey))
        survey.expires_at = now() + timedelta(days=days)
        if _queue(survey, reminder=False):
            survey.status, survey.sent_at = "sent", now()
            sent += 1
        else:
            survey.status = "skipped"
            skipped += 1
        db.session.commit()
    reminded = 0
    remind_after = current_app.config["SURVEY_REMINDER_DAYS"]
    if remind_after > 0:
        ids = _claim(
            (
                Survey.status == "sent",
                Survey.reminded_at.is_(None),
                Survey.channel == "email",
                Survey.sent_at <= now() - timedelta(days=remind_after),
                Survey.expires_at > now(),
            ),
            {"reminded_at": now()},
            limit,
        )
        for survey in db.session.scalars(sa.select(Survey).where(Survey.id.in_(ids))):
            reminded += int(_queue(survey, reminder=True))
            db.session.commit()
    result = {"created": created, "sent": sent, "skipped": skipped, "reminded": reminded}
    return result if any(result.values()) else {}


def usable(survey: Survey | None) -> str | None:
    """Why the link cannot be used (None: it can)."""
    if survey is None:
        return "invalid"
    if survey.answered_at is not None:
        return "answered"
    if survey.expires_at is None or as_utc(survey.expires_at) <= now():
        return "expired"
    return None


def answer_survey(
    survey: Survey, rating, *, nps=None, comment: str = "", actor: User | None = None
) -> Survey:
    """Record the customer's answer once: the survey, `tickets.rating`, a ticket event, and a
    follow-up for the supervisor when the rating is bad."""
    reason = usable(survey)
    if reason == "answered":
        raise Conflict(_l("This survey was already answered. Thank you!"))
    if reason:
        raise ValidationError(_l("This survey link has expired."), field="token")
    if rating not in (1, 2, 3, 4, 5):
        raise ValidationError(_l("The rating goes from 1 to 5."), field="rating")
    if nps is not None and nps not in range(11):
        raise ValidationError(_l("The recommendation score goes from 0 to 10."), field="nps")
    comment = (comment or "").strip()
    if len(comment) > 4000:
        raise ValidationError(_l("The comment is too long."), field="comment")
    # conditional: two clicks at once record one answer
    done = db.session.execute(
        sa.update(Survey)
        .where(Survey.id == survey.id, Survey.answered_at.is_(None))
        .values(
            answered_at=now(), rating=rating, nps=nps, customer_comment=comment, status="answered"
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(_l("This survey was already answered. Thank you!"))
    db.session.refresh(survey)
    ticket = survey.ticket
    old = ticket.rating
    ticket.rating = rating
    record_event(
        ticket, actor, "rated", field="rating", old=old, new=rating, detail="survey", public=True
    )
    if rating <= LOW_RATING:
        open_follow_up(ticket, survey)
    log.info("Survey %s answered: %s", survey.id, rating)
    return survey


def open_follow_up(ticket: Ticket, survey: Survey | None) -> FollowUp:
    supervisor = next(iter(department_supervisors(ticket.department_id)), None)
    follow = FollowUp(
        ticket_id=ticket.id,
        survey_id=survey.id if survey else None,
        department_id=ticket.department_id,
        assignee_id=supervisor.id if supervisor else None,
        due_at=now() + timedelta(hours=current_app.config["SURVEY_FOLLOW_UP_HOURS"]),
    )
    db.session.add(follow)
    record_event(ticket, None, "follow_up_opened", detail="low_rating")
    return follow


def close_follow_up(follow: FollowUp, actor: User) -> None:
    if follow.done_at is not None:
        return
    follow.done_at = now()
    follow.done_by_id = actor.id
    record_event(follow.ticket, actor, "follow_up_done")


def open_follow_ups(department_ids: list[int] | None):
    query = sa.select(FollowUp).where(FollowUp.done_at.is_(None)).order_by(FollowUp.due_at)
    if department_ids is not None:
        query = query.where(FollowUp.department_id.in_(department_ids))
    return db.session.scalars(query.limit(500)).all()
