"""The product feedback list: staff forward a suggestion to a topic (new or existing, by title)
from the ticket workspace; the list shows topics by the number of distinct customers asking,
and each topic its demands."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..feedback.models import FeedbackItem, FeedbackTopic
from ..feedback.services import MAX_TITLE, topic_of, topic_titles
from ..tickets.models import Ticket
from .blueprint import bp

LIST_SIZE = 200


class ForwardForm(FlaskForm):
    title = StringField(
        _l("Feedback topic (an existing title or a new one)"),
        validators=[DataRequired(), Length(max=MAX_TITLE)],
    )


def feedback_panel(ticket: Ticket) -> dict:
    """What the workspace shows of the feedback list (suggestions only: no query otherwise)."""
    if ticket.kind != "suggestion":
        return {"feedback_form": None}
    topic = topic_of(ticket.id)
    return {
        "feedback_form": ForwardForm(formdata=None),
        "feedback_topic": topic,
        "feedback_titles": [] if topic else topic_titles(),
    }


@bp.get("/feedback")
def feedback_topics():
    topics = db.session.scalars(
        sa.select(FeedbackTopic)
        .order_by(FeedbackTopic.customer_count.desc(), FeedbackTopic.id.desc())
        .limit(LIST_SIZE)
    ).all()
    return render_template("console/feedback.html", topics=topics)


@bp.get("/feedback/<int:topic_id>")
def feedback_topic(topic_id: int):
    topic = db.session.get(FeedbackTopic, topic_id)
    if topic is None:
        abort(404)
    items = db.session.scalars(
        sa.select(FeedbackItem)
        .where(FeedbackItem.topic_id == topic.id)
        .order_by(FeedbackItem.id.desc())
        .limit(LIST_SIZE)
        .options(
            selectinload(FeedbackItem.ticket).selectinload(Ticket.customer),
            selectinload(FeedbackItem.added_by),
        )
    ).all()
    return render_template("console/feedback_topic.html", topic=topic, items=items)
