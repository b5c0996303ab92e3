"""The customer's timeline (customer 360): one list, newest first, of every contact and change
across channels: demands registered and resolved, phone calls, inbound emails, chat and social
conversations, survey answers, verdicts and changes to the record (resolutions and verdicts from the ticket events, so a
demand reopened later still shows that it was resolved).

One statement per page whatever the page holds: a UNION ALL of one indexed branch per source
(each filtered on the customer: `ix_tickets_customer`, `calls.customer_id`,
`conversations.customer_id`, `surveys.customer_id`, `customer_events.customer_id`; emails and
verdicts through the customer's tickets), each row already joined to its demand's protocol and
subject. Keyset paginated on (instant, kind, row id). An agent sees the rows of demands of their
departments (and every row that belongs to no demand), like the customer page's demand list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..channels.models import Call, Conversation
from ..core import cursors
from ..core.clock import as_utc
from ..core.cursors import Page, encode_cursor
from ..extensions import db
from ..mail.models import InboundMessage
from ..surveys.models import Survey
from ..tickets.models import Ticket, TicketEvent
from .models import CustomerEvent

# the kinds of row, in their tie-break order (a higher rank comes first at the same instant)
KINDS = {
    "registered": 1,
    "call": 2,
    "email": 3,
    "conversation": 4,
    "verdict": 5,
    "survey": 6,
    "resolved": 7,
    "record": 8,
}
KIND_BY_RANK = {rank: kind for kind, rank in KINDS.items()}
KIND_LABELS = {
    "registered": _l("Demand registered"),
    "call": _l("Phone call"),
    "email": _l("Email received"),
    "conversation": _l("Conversation"),
    "verdict": _l("Customer's verdict"),
    "survey": _l("Survey answered"),
    "resolved": _l("Demand resolved"),
    "record": _l("Record changed"),
}
CURSOR_KINDS = (cursors.DT, cursors.INT, cursors.ID)


@dataclass
class TimelineItem:
    kind: str
    at: datetime
    row_id: int
    protocol: str | None
    subject: str | None
    channel: str | None
    detail: str | None
    field: str | None
    actor: str | None


def _text(value):
    return sa.cast(value, sa.String)


def _none():
    return sa.cast(sa.null(), sa.String)


def _branch(kind, at, row_id, *, protocol, subject, channel, detail, field=None, actor=None):
    return sa.select(
        sa.literal(KINDS[kind], sa.Integer).label("rank"),
        at.label("at"),
        row_id.label("row_id"),
        _text(protocol).label("protocol"),
        _text(subject).label("subject"),
        _text(channel).label("channel"),
        _text(detail).label("detail"),
        (_text(field) if field is not None else _none()).label("field"),
        (_text(actor) if actor is not None else _none()).label("actor"),
    )


def _after(rank: int, at, row_id, values) -> sa.ColumnElement:
    """The keyset condition (instant, kind, id) descending, for one branch whose kind is `rank`."""
    last_at, last_rank, last_id = values
    if rank < last_rank:
        return at <= last_at
    if rank > last_rank:
        return at < last_at
    return sa.or_(at < last_at, sa.and_(at == last_at, row_id < last_id))


def _page_of(kind: str, branch, after, limit: int | None):
    """A branch cut to the page: its own keyset condition, order and limit, so each source reads
    only its newest rows from its index (wrapped: SQLite takes no LIMIT in a UNION member)."""
    if limit is None:
        return branch
    inner = branch.subquery()
    rank = KINDS[kind]
    stmt = sa.select(inner)
    if after is not None:
        stmt = stmt.where(_after(rank, inner.c.at, inner.c.row_id, after))
    return sa.select(
        stmt.order_by(inner.c.at.desc(), inner.c.row_id.desc()).limit(limit).subquery()
    )


def timeline_statement(
    customer_id: int,
    department_ids: list[int] | None,
    *,
    after: list | None = None,
    limit: int | None = None,
):
    """The union of every source for one customer, as a subquery; with `limit`, each source
    gives at most that many rows after the keyset `after` (instant, kind rank, id)."""

    def in_scope(ticket_department, optional: bool = False):
        if department_ids is None:
            return sa.true()
        inside = ticket_department.in_(department_ids or [-1])
        return sa.or_(ticket_department.is_(None), inside) if optional else inside

    mine = Ticket.customer_id == customer_id
    registered = _branch(
        "registered",
        Ticket.created_at,
        Ticket.id,
        protocol=Ticket.protocol,
        subject=Ticket.subject,
        channel=Ticket.channel,
        detail=Ticket.kind,
    ).where(mine, in_scope(Ticket.department_id))
    resolved = (
        _branch(
            "resolved",
            TicketEvent.created_at,
            TicketEvent.id,
            protocol=Ticket.protocol,
            subject=Ticket.subject,
            channel=Ticket.channel,
            detail=TicketEvent.new_value,
        )
        .select_from(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            mine,
            TicketEvent.action == "status",
            TicketEvent.new_value == "resolved",
            in_scope(Ticket.department_id),
        )
    )
    calls = (
        _branch(
            "call",
            Call.started_at,
            Call.id,
            protocol=Ticket.protocol,
            subject=Ticket.subject,
            channel=sa.literal("phone"),
            detail=Call.duration_seconds,
        )
        .select_from(Call)
        .outerjoin(Ticket, Ticket.id == Call.ticket_id)
        .where(Call.customer_id == customer_id, in_scope(Ticket.department_id, optional=True))
    )
    emails = (
        _branch(
            "email",
            InboundMessage.created_at,
            InboundMessage.id,
            protocol=Ticket.protocol,
            subject=Ticket.subject,
            channel=sa.literal("email"),
            detail=InboundMessage.subject,
        )
        .select_from(InboundMessage)
        .join(Ticket, Ticket.id == InboundMessage.ticket_id)
        .where(mine, InboundMessage.state != "held", in_scope(Ticket.department_id))
    )
    conversations = (
        _branch(
            "conversation",
            Conversation.created_at,
            Conversation.id,
            protocol=Ticket.protocol,
            subject=Ticket.subject,
            channel=Conversation.channel,
            detail=Conversation.contact_handle,
        )
        .select_from(Conversation)
        .outerjoin(Ticket, Ticket.id == Conversation.ticket_id)
        .where(
            Conversation.customer_id == customer_id,
            in_scope(Ticket.department_id, optional=True),
        )
    )
    surveys = (
        _branch(
            "survey",
            Survey.answered_at,
            Survey.id,
            protocol=Ticket.protocol,
            subject=Ticket.subject,
            channel=Survey.channel,
            detail=Survey.rating,
            field=Survey.nps,
        )
        .select_from(Survey)
        .join(Ticket, Ticket.id == Survey.ticket_id)
        .where(
            Survey.customer_id == customer_id,
            Survey.answered_at.is_not(None),
            in_scope(Ticket.department_id),
        )
    )
    verdicts = (
        _branch(
            "verdict",
            TicketEvent.created_at,
            TicketEvent.id,
            protocol=Ticket.protocol,
            subject=Ticket.subject,
            channel=sa.null(),
            detail=TicketEvent.new_value,
        )
        .select_from(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(mine, TicketEvent.action == "verdict", in_scope(Ticket.department_id))
    )
    record = (
        _branch(
            "record",
            CustomerEvent.created_at,
            CustomerEvent.id,
            protocol=sa.null(),
            subject=CustomerEvent.action,
            channel=sa.null(),
            detail=CustomerEvent.new_value,
            field=CustomerEvent.field,
            actor=User.name,
        )
        .select_from(CustomerEvent)
        .outerjoin(User, User.id == CustomerEvent.actor_id)
        .where(CustomerEvent.customer_id == customer_id)
    )
    branches = {
        "registered": registered,
        "resolved": resolved,
        "call": calls,
        "email": emails,
        "conversation": conversations,
        "survey": surveys,
        "verdict": verdicts,
        "record": record,
    }
    return sa.union_all(
        *(_page_of(kind, branch, after, limit) for kind, branch in branches.items())
    ).subquery("timeline")


def timeline_page(
    customer_id: int,
    department_ids: list[int] | None,
    *,
    cursor: str | None = None,
    limit: int = 30,
) -> Page:
    """One page of the timeline, newest first (a bad cursor: ValidationError on `cursor`)."""
    after = cursors.decode_cursor(cursor, CURSOR_KINDS) if cursor else None
    if after is not None and after[1] not in KIND_BY_RANK:
        raise cursors.bad_cursor()
    sub = timeline_statement(customer_id, department_ids, after=after, limit=limit + 1)
    stmt = (
        sa.select(sub)
        .order_by(sub.c.at.desc(), sub.c.rank.desc(), sub.c.row_id.desc())
        .limit(limit + 1)
    )
    rows = db.session.execute(stmt).all()
    items = [
        TimelineItem(
            kind=KIND_BY_RANK[row.rank],
            at=as_utc(row.at),
            row_id=row.row_id,
            protocol=row.protocol,
            subject=row.subject,
            channel=row.channel,
            detail=row.detail,
            field=row.field,
            actor=row.actor,
        )
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last.at, KINDS[last.kind], last.row_id])
    return Page(items, next_cursor)
