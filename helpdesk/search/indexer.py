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
        # a file of an internal note is as internal as the note
        (internal_files if is_internal else files)[ticket_id].append(_file(filename))
    contacts = _contacts(conn, customer_ids)
    tags = defaultdict(list)
    for ticket_id, name in conn.execute(
        sa.select(ticket_tags.c.ticket_id, Tag.name)
        .join(Tag, Tag.id == ticket_tags.c.tag_id)
        .where(ticket_tags.c.ticket_id.in_(ticket_ids))
    ):
        tags[ticket_id].append(name)  # `q=boleto` finds the tickets tagged "boleto atrasado"
    at = now()
    return [
        _row(
            t,
            t,
            contacts[t.customer_id],
            tags[t.id],
            public=[*public[t.id], *files[t.id]],
            internal=[*internal[t.id], *internal_files[t.id]],
            at=at,
        )
        for t in tickets
    ]


def _file(filename: str) -> str:
    # whole and as its words (PostgreSQL's parser keeps `a-b.pdf` as one file token)
    return f"{filename} ({_words(filename)})"


def _row(ticket, customer, contacts, tags, *, public, internal, at) -> dict:
    """One search row: `ticket` has id, protocol, subject, description; `customer` name,
    document, locale (a Ticket and a Customer, or one row of build_rows' read holding both)."""
    keys = [ticket.protocol, ticket.protocol[:-1], customer.name or "", *contacts, *tags]
    if customer.document:
        keys.append(customer.document)
    return {
        "ticket_id": ticket.id,
        "config": config_for(customer.locale),
        "public_text": "\n".join([ticket.subject or "", ticket.description or "", *public]),
        "internal_text": "\n".join(internal),
        "keys": " ".join(keys),
        "recency": ticket.id // RECENCY_BUCKET,
        "updated_at": at,
    }


def contact_keys(email_rows, phone_rows) -> defaultdict[int, list[str]]:
    """Customer id -> the search keys of their emails (whole, and as words: PostgreSQL's parser
    keeps an address as one token) and phones (as typed, with and without the country code)."""
    contacts = defaultdict(list)
    for customer_id, email in email_rows:
        contacts[customer_id].extend([email, _words(email)])
    for customer_id, number in phone_rows:
        contacts[customer_id].extend(phone_keys(number))
    return contacts


def _contacts(conn: Connection, customer_ids) -> defaultdict[int, list[str]]:
    return contact_keys(
        conn.execute(
            sa.select(CustomerEmail.customer_id, CustomerEmail.email).where(
                CustomerEmail.customer_id.in_(customer_ids)
            )
        ),
        conn.execute(
            sa.select(CustomerPhone.customer_id, CustomerPhone.number).where(
                CustomerPhone.customer_id.in_(customer_ids)
            )
        ),
    )


def rows_for_new(
    conn: Connection, tickets: list[Ticket], children: Iterable, stale_contacts: set[int]
) -> list[dict]:
    """The rows of tickets INSERTed by the flush that is ending, from the objects themselves:
    nothing of theirs is in the database but what this flush wrote, so their messages and
    attachments are `children` (the flush's new Message and Attachment objects) and their tags
    the collection in memory. The customers' contacts are read when their collections are not
    loaded or this flush changed them (`stale_contacts`: a row added without its collection).
    Saves a registration five statements of build_rows (and the DELETE)."""
    by_ticket: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    for child in children:
        if isinstance(child, Message):
            by_ticket[child.ticket_id][1 if child.is_internal else 0].append(child.body or "")
        else:  # an Attachment: as internal as its note
            note = child.message
            internal = note is not None and note.is_internal
            by_ticket[child.ticket_id][1 if internal else 0].append(_file(child.filename))
    contacts: dict[int, list[str]] = {}
    unloaded = set()
    for t in tickets:
        state = sa.inspect(t.customer)
        if (
            t.customer_id in stale_contacts
            or "emails" in state.unloaded
            or "phones" in state.unloaded
        ):
            unloaded.add(t.customer_id)
        else:
            contacts[t.customer_id] = contact_keys(
                [(t.customer_id, e.email) for e in t.customer.emails],
                [(t.customer_id, p.number) for p in t.customer.phones],
            )[t.customer_id]
    if unloaded:
        contacts.update(_contacts(conn, unloaded))
    at = now()
    rows = []
    for t in tickets:
        public, internal = by_ticket[t.id]
        # a ticket this flush inserted has tag links only through its collection: not loaded, none
        tags = [] if "tags" in sa.inspect(t).unloaded else [tag.name for tag in t.tags]
        rows.append(
            _row(
                t,
                t.customer,
                contacts.get(t.customer_id, []),
                tags,
                public=public,
                internal=internal,
                at=at,
            )  # fmt: skip
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


def refresh_statistics(conn: Connection) -> None:
    """After a full rebuild (committed): PostgreSQL's planner still believes the table is as it
    was (empty, after a restore), picks sequential scans and a search over 1M tickets takes
    45 s instead of 70 ms until autovacuum's ANALYZE comes round. SQLite needs nothing."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ANALYZE search_documents"))
