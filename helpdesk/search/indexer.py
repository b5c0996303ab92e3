"""Build the search rows of a set of tickets, set-based: a few statements per batch of tickets,
whatever the batch's size; called inside the writing transaction (see `hooks`) and by
`flask --app wsgi search reindex`."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from ..core.clock import now
from ..customers.models import Customer, CustomerEmail, CustomerPhone
from ..tickets.models import Attachment, Message, Tag, Ticket, ticket_tags
from .models import RECENCY_BUCKET, SearchDocument

log = logging.getLogger(__name__)

BATCH = 1000
# the tickets as the indexer reads them: named apart in the SQL log, so that a statement log tells
# the index's reads (inside the writing transaction) from a view's
Indexed = aliased(Ticket, name="indexed_tickets")


def config_for(locale: str | None) -> str:
    """The text search configuration of a ticket, from its customer's language."""
    locale = (locale or "").lower()
    if locale.startswith("es"):
        return "es_unaccent"
    if locale.startswith("en"):
        return "simple_unaccent"
    return "pt_unaccent"  # the app's default audience writes Portuguese


def phone_keys(e164: str) -> list[str]:
    """A phone as the digit strings people type: with and without the country code."""
    keys = [e164.lstrip("+")]
    try:
        national = str(phonenumbers.parse(e164).national_number)
    except phonenumbers.NumberParseException:
        return keys
    return [*keys, national]


def _words(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text).strip()


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def build_rows(conn: Connection, ticket_ids: list[int]) -> list[dict]:
    """The search rows of these tickets: six statements, whatever their number."""
    tickets = conn.execute(
        sa.select(
            Indexed.id,
            Indexed.protocol,
            Indexed.subject,
            Indexed.description,
            Indexed.customer_id,
            Customer.name,
            Customer.document,
            Customer.locale,
        )
        .join(Customer, Customer.id == Indexed.customer_id)
        .where(Indexed.id.in_(ticket_ids))
    ).all()
    if not tickets:
        return []
    customer_ids = {t.customer_id for t in tickets}
    public, internal = defaultdict(list), defaultdict(list)
    for ticket_id, body, is_internal in conn.execute(
        sa.select(Message.ticket_id, Message.body, Message.is_internal)
        .where(Message.ticket_id.in_(ticket_ids))
        .order_by(Message.ticket_id, Message.id)
    ):
        (internal if is_internal else public)[ticket_id].append(body or "")
    files, internal_files = defaultdict(list), defaultdict(list)
    for ticket_id, filename, is_internal in conn.execute(
        sa.select(Attachment.ticket_id, Attachment.filename, Message.is_internal)
        .outerjoin(Message, Message.id == Attachment.message_id)
        .where(Attachment.ticket_id.in_(ticket_ids))
        .order_by(Attachment.id)
    ):
        # whole and as its words (PostgreSQL's parser keeps `a-b.pdf` as one file token); a file
        # of an internal note is as internal as the note
        (internal_files if is_internal else files)[ticket_id].append(
            f"{filename} ({_words(filename)})"
        )
    contacts = defaultdict(list)
    for customer_id, email in conn.execute(
        sa.select(CustomerEmail.customer_id, CustomerEmail.email).where(
            CustomerEmail.customer_id.in_(customer_ids)
        )
    ):
        # whole (PostgreSQL's parser keeps an address as one token) and as its words
        contacts[customer_id].extend([email, _words(email)])
    for customer_id, number in conn.execute(
        sa.select(CustomerPhone.customer_id, CustomerPhone.number).where(
            CustomerPhone.customer_id.in_(customer_ids)
        )
    ):
        contacts[customer_id].extend(phone_keys(number))
    tags = defaultdict(list)
    for ticket_id, name in conn.execute(
        sa.select(ticket_tags.c.ticket_id, Tag.name)
        .join(Tag, Tag.id == ticket_tags.c.tag_id)
        .where(ticket_tags.c.ticket_id.in_(ticket_ids))
    ):
        tags[ticket_id].append(name)  # `q=boleto` finds the tickets tagged "boleto atrasado"
    at = now()
    rows = []
    for t in tickets:
        keys = [t.protocol, t.protocol[:-1], t.name or "", *contacts[t.customer_id], *tags[t.id]]
        if t.document:
            keys.append(t.document)
        rows.append(
            {
                "ticket_id": t.id,
                "config": config_for(t.locale),
                "public_text": "\n".join(
                    [t.subject or "", t.description or "", *public[t.id], *files[t.id]]
                ),
                "internal_text": "\n".join([*internal[t.id], *internal_files[t.id]]),
                "keys": " ".join(keys),
                "recency": t.id // RECENCY_BUCKET,
                "updated_at": at,
            }
        )
    return rows


def index_tickets(conn: Connection, ticket_ids: Iterable[int]) -> int:
    """(Re)write the search rows of these tickets in the connection's transaction; returns how
    many rows were written (a ticket that no longer exists loses its row)."""
    ids = sorted({int(i) for i in ticket_ids if i is not None})
    written = 0
    table = SearchDocument.__table__
    for chunk in _chunks(ids, BATCH):
        rows = build_rows(conn, chunk)
        conn.execute(sa.delete(table).where(table.c.ticket_id.in_(chunk)))
        if rows:
            conn.execute(sa.insert(table), rows)
        written += len(rows)
    return written


def reindex_all(conn: Connection, *, batch: int = BATCH, progress=None) -> int:
    """Rebuild the whole index in batches of ticket ids (keyset over tickets.id)."""
    last, total = 0, 0
    while True:
        ids = list(
            conn.scalars(
                sa.select(Ticket.id).where(Ticket.id > last).order_by(Ticket.id).limit(batch)
            )
        )
        if not ids:
            break
        total += index_tickets(conn, ids)
        last = ids[-1]
        if progress:
            progress(total)
    # rows of tickets gone (SQLite without foreign keys): an anti-join, as NOT IN (subquery)
    # over a million ids outgrows PostgreSQL's work_mem and is planned as a rescan per row
    docs = SearchDocument.__table__
    conn.execute(sa.delete(docs).where(~sa.exists().where(Ticket.id == docs.c.ticket_id)))
    return total
