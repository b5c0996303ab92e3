"""The tamper-evident trail of ticket events: one hash chain per ticket.

Each `ticket_events` row stores `chain_hash = link(fields, previous row's chain_hash)` where the
fields are the ticket id, actor id, action, field name, public flag, instant, and the digest of the
free text (old value, new value, detail) — or, once the anonymiser replaced that text, the
original digest it kept in `text_digest`. Rows are chained in id order within a ticket. The links
are written by tickets/events.py (the only writer of events); this module computes them, checks
them (`verify_events`), seals rows written before the chain existed (`seal_events`), freezes the
text digests before anonymisation (`freeze_text_digests`) and gives a ticket's last link
(`final_hash`, printed on the history document).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from ..core import hashchain
from ..extensions import db
from .models import Ticket, TicketEvent

log = logging.getLogger(__name__)

EVENTS = TicketEvent.__table__
STREAM_BATCH = 5000


def event_fields(row) -> dict:
    """The hashed fields of one event (an ORM object, a Row or a dict with the column names)."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name, None)
    digest = get("text_digest") or hashchain.text_digest(
        get("old_value"), get("new_value"), get("detail")
    )
    return {
        "ticket": get("ticket_id"),
        "actor": get("actor_id"),
        "action": get("action"),
        "field": get("field"),
        "public": bool(get("is_public")),
        "at": hashchain.instant(get("created_at")),
        "text": digest,
    }


def event_hash(row, prev: str | None) -> str:
    return hashchain.link(event_fields(row), prev)


def lock_tickets(connection, ticket_ids: Iterable[int]) -> None:
    """Serialise writers of these tickets' chains (PostgreSQL row locks, in id order so two
    writers never deadlock on each other; SQLite allows one writer at a time anyway)."""
    ids = sorted(set(ticket_ids))
    if ids and connection.dialect.name == "postgresql":
        table = Ticket.__table__
        connection.execute(
            sa.select(table.c.id).where(table.c.id.in_(ids)).order_by(table.c.id).with_for_update()
        ).all()


def last_hashes(connection, ticket_ids: Iterable[int]) -> dict[int, str | None]:
    """The chain_hash of each ticket's newest event, in one statement (absent: no event yet)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    newest = (
        sa.select(sa.func.max(EVENTS.c.id).label("id"))
        .where(EVENTS.c.ticket_id.in_(ids))
        .group_by(EVENTS.c.ticket_id)
        .subquery()
    )
    rows = connection.execute(
        sa.select(EVENTS.c.ticket_id, EVENTS.c.chain_hash).join(newest, newest.c.id == EVENTS.c.id)
    )
    return dict(rows.all())


def heads_for_writing(connection, ticket_ids: Iterable[int]) -> dict[int, str | None]:
    """The last links to chain new events on. A ticket whose newest event has no link yet (rows
    of a bulk loader or from before the chain) is sealed first, so that the new events continue
    its whole chain instead of starting a fork that a later `--seal` could not join."""
    heads = last_hashes(connection, ticket_ids)
    unsealed = [ticket_id for ticket_id, link in heads.items() if link is None]
    if unsealed:
        seal_events(connection, ticket_ids=unsealed)
        heads.update(last_hashes(connection, unsealed))
    return heads


def final_hash(ticket_id: int) -> str | None:
    """The last link of a ticket's chain (None when it has no event): printed on the history
    document so a dossier can be checked against the database later (`audit verify`)."""
    return db.session.scalar(
        sa.select(EVENTS.c.chain_hash)
        .where(EVENTS.c.ticket_id == ticket_id)
        .order_by(EVENTS.c.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Broken:
    """The first row of a chain whose stored hash is not what its content and predecessor give."""

    ticket_id: int
    event_id: int
    reason: str  # "altered" (content or order changed) or "unsealed" (no hash stored)
    protocol: str | None = None


_COLUMNS = (
    EVENTS.c.id,
    EVENTS.c.ticket_id,
    EVENTS.c.actor_id,
    EVENTS.c.action,
    EVENTS.c.field,
    EVENTS.c.old_value,
    EVENTS.c.new_value,
    EVENTS.c.detail,
    EVENTS.c.is_public,
    EVENTS.c.created_at,
    EVENTS.c.chain_hash,
    EVENTS.c.text_digest,
)


def _stream(connection, ticket_ids: list[int] | None = None) -> Iterator:
    """Every event (or these tickets' events) ordered by (ticket, id), read in keyset pages on
    the (ticket_id, id) index, so memory stays flat on a database of any size."""
    after = (0, 0)
    while True:
        stmt = sa.select(*_COLUMNS).where(
            sa.tuple_(EVENTS.c.ticket_id, EVENTS.c.id) > sa.tuple_(*after)
        )
        if ticket_ids is not None:
            stmt = stmt.where(EVENTS.c.ticket_id.in_(ticket_ids))
        rows = connection.execute(
            stmt.order_by(EVENTS.c.ticket_id, EVENTS.c.id).limit(STREAM_BATCH)
        ).all()
        yield from rows
        if len(rows) < STREAM_BATCH:
            return
        after = (rows[-1].ticket_id, rows[-1].id)


def verify_events(connection, *, limit: int = 20) -> tuple[int, list[Broken]]:
    """Check every ticket's chain; returns (events checked, the first broken row of each broken
    ticket, at most `limit` of them, with its protocol)."""
    checked, broken = 0, []
    ticket, prev, skip = None, None, False
    for row in _stream(connection):
        checked += 1
        if row.ticket_id != ticket:
            ticket, prev, skip = row.ticket_id, None, False
        if skip:
            continue
        if row.chain_hash is None:
            broken.append(Broken(row.ticket_id, row.id, "unsealed"))
        elif event_hash(row._mapping, prev) != row.chain_hash:
            broken.append(Broken(row.ticket_id, row.id, "altered"))
        else:
            prev = row.chain_hash
            continue
        skip = True  # the rest of this chain follows from the broken row
        if len(broken) >= limit:
            break
    if broken:
        table = Ticket.__table__
        protocols = dict(
            connection.execute(
                sa.select(table.c.id, table.c.protocol).where(
                    table.c.id.in_({b.ticket_id for b in broken})
                )
            ).all()
        )
        broken = [
            Broken(b.ticket_id, b.event_id, b.reason, protocols.get(b.ticket_id)) for b in broken
        ]
    return checked, broken


def verify_ticket(connection, ticket_id: int) -> tuple[list[tuple[int, str]], Broken | None]:
    """Check one ticket's chain: ((event id, link) of every event in order, the first broken row
    or None). What `audit verify --ticket` compares a printed final hash with."""
    rows = connection.execute(
        sa.select(*_COLUMNS).where(EVENTS.c.ticket_id == ticket_id).order_by(EVENTS.c.id)
    ).all()
    links, prev = [], None
    for row in rows:
        if row.chain_hash is None:
            return links, Broken(row.ticket_id, row.id, "unsealed")
        if event_hash(row._mapping, prev) != row.chain_hash:
            return links, Broken(row.ticket_id, row.id, "altered")
        prev = row.chain_hash
        links.append((row.id, row.chain_hash))
    return links, None


def seal_events(connection, *, ticket_ids: list[int] | None = None) -> int:
    """Compute the links of events stored without one (written before the chain existed, or by
    a bulk loader), in chain order; rows already sealed are left as they are. `ticket_ids`: only
    these tickets' chains. Returns how many rows were sealed."""
    sealed, pending = 0, []
    ticket, prev = None, None
    update = (
        sa.update(EVENTS)
        .where(EVENTS.c.id == sa.bindparam("b_id"))
        .values(chain_hash=sa.bindparam("b_hash"))
    )
    for row in _stream(connection, sorted(ticket_ids) if ticket_ids is not None else None):
        if row.ticket_id != ticket:
            ticket, prev = row.ticket_id, None
        if row.chain_hash is None:
            prev = event_hash(row._mapping, prev)
            pending.append({"b_id": row.id, "b_hash": prev})
            if len(pending) >= STREAM_BATCH:
                connection.execute(update, pending)
                sealed += len(pending)
                pending = []
        else:
            prev = row.chain_hash
    if pending:
        connection.execute(update, pending)
        sealed += len(pending)
    if sealed:
        log.info("Sealed %s ticket events into their chains", sealed)
    return sealed


def freeze_text_digests(ticket_ids: Iterable[int]) -> int:
    """Before the anonymiser replaces the free text (old value, new value, detail) of these
    tickets' events: store the digest of the original text in `text_digest`, which the chain
    covers from then on. Idempotent (rows already frozen keep their digest). Returns how many."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return 0
    db.session.flush()
    rows = db.session.execute(
        sa.select(EVENTS.c.id, EVENTS.c.old_value, EVENTS.c.new_value, EVENTS.c.detail).where(
            EVENTS.c.ticket_id.in_(ids), EVENTS.c.text_digest.is_(None)
        )
    ).all()
    if rows:
        db.session.execute(
            sa.update(EVENTS)
            .where(EVENTS.c.id == sa.bindparam("b_id"))
            .values(text_digest=sa.bindparam("b_digest")),
            [
                {
                    "b_id": r.id,
                    "b_digest": hashchain.text_digest(r.old_value, r.new_value, r.detail),
                }
                for r in rows
            ],
        )
    return len(rows)
