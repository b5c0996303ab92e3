"""Forward a suggestion to a feedback topic (new or existing, found by title) and list the
topics by the number of distinct customers asking."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..core.clock import now
from ..core.errors import Conflict, ValidationError
from ..core.text import clean_text
from ..extensions import db
from ..tickets.events import record_event
from ..tickets.models import Ticket
from .models import FeedbackItem, FeedbackTopic

log = logging.getLogger(__name__)

MAX_TITLE = 200


def title_key(title: str) -> str:
    return " ".join(title.split()).casefold()[:MAX_TITLE]


def forward_suggestion(ticket: Ticket, actor: User, title: str) -> FeedbackTopic:
    """Add a suggestion to the topic with this title (created when there is none); the topic's
    count of distinct customers is recomputed (one indexed count). Once per demand."""
    if ticket.kind != "suggestion":
        raise ValidationError(_l("Only suggestions go to the feedback list."), field="title")
    title = " ".join(clean_text(title, "title", required=True, limit=MAX_TITLE).split())
    existing = db.session.scalar(sa.select(FeedbackItem).where(FeedbackItem.ticket_id == ticket.id))
    if existing is not None:
        raise Conflict(
            _l(
                "This suggestion is already on the feedback list (“%(title)s”).",
                title=existing.topic.title,
            ),
            field="title",
        )
    key = title_key(title)
    at = now()
    # the topic row is locked until the commit: two suggestions added at once are counted one
    # after the other (each count sees the other's row)
    by_title = sa.select(FeedbackTopic).where(FeedbackTopic.title_key == key).with_for_update()
    topic = db.session.scalar(by_title)
    if topic is None:
        topic = FeedbackTopic(title=title, title_key=key, created_by_id=actor.id, created_at=at)
        try:
            with db.session.begin_nested():
                db.session.add(topic)
                db.session.flush()
        except IntegrityError:  # created by someone else a moment ago
            topic = db.session.scalar(by_title)
    db.session.add(
        FeedbackItem(
            topic_id=topic.id,
            ticket_id=ticket.id,
            customer_id=ticket.customer_id,
            added_by_id=actor.id,
            created_at=at,
        )
    )
    record_event(ticket, actor, "feedback_forwarded", new=topic.title)
    db.session.flush()
    topic.customer_count = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(FeedbackItem.customer_id))).where(
            FeedbackItem.topic_id == topic.id
        )
    )
    topic.last_added_at = at
    db.session.flush()
    log.info(
        "Ticket %s forwarded to feedback topic %s by user %s (%s customers)",
        ticket.protocol,
        topic.id,
        actor.id,
        topic.customer_count,
    )
    return topic


def topic_titles(limit: int = 200) -> list[str]:
    """Titles to offer when forwarding (the most asked first)."""
    return list(
        db.session.scalars(
            sa.select(FeedbackTopic.title)
            .order_by(FeedbackTopic.customer_count.desc(), FeedbackTopic.id.desc())
            .limit(limit)
        )
    )


def topic_of(ticket_id: int) -> FeedbackTopic | None:
    return db.session.scalar(
        sa.select(FeedbackTopic)
        .join(FeedbackItem, FeedbackItem.topic_id == FeedbackTopic.id)
        .where(FeedbackItem.ticket_id == ticket_id)
    )


def recount_topics_of(customer_id: int) -> None:
    """After two customer records were merged: the topics this customer asked for count them once
    (one statement)."""
    topic_ids = sa.select(FeedbackItem.topic_id).where(FeedbackItem.customer_id == customer_id)
    distinct_customers = (
        sa.select(sa.func.count(sa.distinct(FeedbackItem.customer_id)))
        .where(FeedbackItem.topic_id == FeedbackTopic.id)
        .scalar_subquery()
    )
    db.session.execute(
        sa.update(FeedbackTopic)
        .where(FeedbackTopic.id.in_(topic_ids))
        .values(customer_count=distinct_customers),
        execution_options={"synchronize_session": False},
    )
