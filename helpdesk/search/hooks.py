"""Keeps the index current in the writing transaction: after every flush, the tickets whose
indexed text changed (the ticket's subject or description, a message, an attachment, the
customer's name, document, language, emails or phones, the ticket's tags, a tag's name) are
re-indexed on the same connection.

Listening to the flush rather than calling the indexer from each service means no service can
forget it (registration, replies, notes, inbound mail, phone calls, customer edits, the demo).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..customers.models import Customer, CustomerEmail, CustomerPhone
from ..tickets.models import Attachment, Message, Tag, Ticket, ticket_tags
from .indexer import Indexed, index_tickets, rows_for_new
from .models import SearchDocument

_TICKET_FIELDS = ("subject", "description", "customer_id", "protocol", "tags")
_CUSTOMER_FIELDS = ("name", "document", "locale")
_CHILD_FIELDS = {Message: ("body", "is_internal", "ticket_id"), Attachment: ("filename",)}
_ENABLED = "search_index"
_TAGGED = "search_tagged"  # session.info key: tickets of a renamed or deleted tag (before_flush)  # session.info key: False turns the hook off (bulk loaders, reindex)


def _changed(obj, fields) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def touched(session: Session) -> tuple[set[int], set[int]]:
    """(ticket ids, customer ids) whose search rows this flush makes stale."""
    tickets: set[int] = set()
    customers: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Ticket):
            tickets.add(obj.id)
        elif isinstance(obj, Message | Attachment):
            tickets.add(obj.ticket_id)
        elif isinstance(obj, CustomerEmail | CustomerPhone):
            customers.add(obj.customer_id)
    for obj in session.dirty:
        if isinstance(obj, Ticket) and _changed(obj, _TICKET_FIELDS):
            tickets.add(obj.id)
        elif isinstance(obj, Message | Attachment) and _changed(obj, _CHILD_FIELDS[type(obj)]):
            tickets.add(obj.ticket_id)
        elif isinstance(obj, Customer) and _changed(obj, _CUSTOMER_FIELDS):
            customers.add(obj.id)
        elif isinstance(obj, CustomerEmail | CustomerPhone) and _changed(
            obj, ("email",) if isinstance(obj, CustomerEmail) else ("number",)
        ):
            customers.add(obj.customer_id)
    for obj in session.deleted:
        if isinstance(obj, Message | Attachment):
            tickets.add(obj.ticket_id)
        elif isinstance(obj, CustomerEmail | CustomerPhone):
            customers.add(obj.customer_id)
    tickets.discard(None)
    customers.discard(None)
    return tickets, customers


@sa.event.listens_for(Session, "before_flush")
def _tagged_before_flush(session: Session, _flush_context, _instances) -> None:
    """A renamed or deleted tag changes its tickets' rows: find them while the links exist."""
    if session.info.get(_ENABLED) is False:
        return
    tag_ids = {obj.id for obj in session.deleted if isinstance(obj, Tag) and obj.id is not None} | {
        obj.id
        for obj in session.dirty
        if isinstance(obj, Tag) and obj.id is not None and _changed(obj, ("name",))
    }
    if tag_ids:
        ids = session.connection().scalars(
            sa.select(ticket_tags.c.ticket_id).where(ticket_tags.c.tag_id.in_(tag_ids))
        )
        session.info.setdefault(_TAGGED, set()).update(ids)


@sa.event.listens_for(Session, "after_flush")
def _index_after_flush(session: Session, _flush_context) -> None:
    if session.info.get(_ENABLED) is False:
        return
    tickets, customers = touched(session)
    tickets |= session.info.pop(_TAGGED, set())
    if not tickets and not customers:
        return
    conn = session.connection()
    # tickets this flush inserted (a registration): their rows come from the objects in memory
    fresh = [
        obj
        for obj in session.new
        if isinstance(obj, Ticket)
        and obj.protocol is not None
        and "customer" not in sa.inspect(obj).unloaded  # else the read of build_rows
    ]
    fresh_ids = {t.id for t in fresh}
    if customers:
        tickets |= set(
            conn.scalars(sa.select(Indexed.id).where(Indexed.customer_id.in_(customers)))
        )
    index_tickets(conn, tickets - fresh_ids)
    if fresh:
        children = [
            obj
            for obj in session.new
            if isinstance(obj, Message | Attachment) and obj.ticket_id in fresh_ids
        ]
        conn.execute(
            sa.insert(SearchDocument.__table__), rows_for_new(conn, fresh, children, customers)
        )


def disable(session: Session) -> None:
    """Turn the hook off for this session (a bulk load that reindexes at its end)."""
    session.info[_ENABLED] = False
