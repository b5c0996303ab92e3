"""The search service: parse what was typed, match it with the database's engine (SQLite FTS5
or PostgreSQL full-text), combine it with a ticket filter (the queues' filters and permission
scope, `tickets.queries.TicketFilter`), rank by relevance then recency, keyset-paginate, and
highlight a snippet. Also the exact identifiers that jump straight to a ticket or a customer.

Nothing typed reaches an engine's query syntax: the query is cut into words, quoted phrases and
identifiers here, and each engine's expression is built from those words alone.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import joinedload

from ..core import cursors
from ..core.cursors import Page, encode_cursor
from ..core.errors import DomainError
from ..customers.documents import digits, is_valid_document
from ..customers.models import Customer, CustomerEmail, CustomerPhone
from ..customers.services import find_customers, normalize_email, normalize_phone
from ..extensions import db
from ..tickets import protocol as protocols
from ..tickets.models import Ticket
from ..tickets.queries import TicketFilter, after_key, filter_conditions
from .models import RECENCY_BUCKET, SearchDocument

log = logging.getLogger(__name__)

MAX_QUERY = 200  # characters of a query that are looked at
MAX_TERMS = 12
CURSOR_KINDS = (cursors.INT, cursors.DT, cursors.ID)
SCALE = 10_000_000  # relevance as an integer (the cursor holds exact values, at most 10 digits)

_IDENTIFIER = re.compile(r"\+?\d[\d \t.\-/()]*\d")
_EMAIL = re.compile(r"[^\s\"@]+@[^\s\"@]+")
_WORD = re.compile(r"[^\W_]+")


@dataclass
class Query:
    """What was typed, cut into words (all must match), quoted phrases, and the last bare word
    (matched as a prefix while the user types)."""

    words: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    prefix: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.words or self.phrases or self.prefix)

    def terms(self) -> list[str]:
        return [*self.words, *(w for p in self.phrases for w in p), *filter(None, [self.prefix])]


def _collapse_identifier(match: re.Match) -> str:
    found = "".join(ch for ch in match.group(0) if ch.isdigit())
    return f" {found} " if len(found) >= 8 else match.group(0)


class _FoldTable(dict):
    """str.translate table: a character to its lower-case, unaccented self (one character, so
    positions in the folded text are positions in the original), computed once per character."""

    def __missing__(self, code: int) -> str:
        base = "".join(
            c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c)
        ).lower()
        self[code] = folded = base[:1] or " "
        return folded


_FOLD = _FoldTable()
SNIPPET_SOURCE = 20_000  # characters of a document looked at for its snippet


def fold(text: str) -> str:
    """Lower case without accents, one character for one (so positions still match)."""
    return text.translate(_FOLD)


def parse_query(raw: str | None) -> Query:
    text = unicodedata.normalize("NFKC", (raw or "")[:MAX_QUERY]).replace("\x00", " ")
    text = _IDENTIFIER.sub(_collapse_identifier, text)  # 123.456.789-09 -> 12345678909
    query = Query()
    # emails and "quoted phrases" become phrases; a lone quote is dropped
    for email in _EMAIL.findall(text):
        words = _WORD.findall(email.lower())
        if words:
            query.phrases.append(words)
    text = _EMAIL.sub(" ", text)
    parts = text.split('"')
    bare = []
    for i, part in enumerate(parts):
        if i % 2 and i < len(parts) - 1:  # inside a closed pair of quotes
            words = _WORD.findall(part.lower())
            if len(words) > 1:
                query.phrases.append(words)
            else:
                query.words.extend(words)
        else:
            bare.append(part)
    words = _WORD.findall(" ".join(bare).lower())
    ends_in_word = bool(words) and not text.rstrip('"').endswith((" ", "\t"))
    if words and ends_in_word:
        query.prefix = words.pop()
    query.words.extend(words)
    # bounded: a pasted page of text is not a query
    query.words = query.words[:MAX_TERMS]
    query.phrases = [p[:MAX_TERMS] for p in query.phrases[:MAX_TERMS]]
    return query


# engines ---------------------------------------------------------------------------------------


def _fts5_expression(query: Query, *, staff: bool) -> str:
    columns = "" if staff else "{public_text keys} : "
    parts = [f'{columns}"{w}"' for w in query.words]
    parts += [f'{columns}"{" ".join(p)}"' for p in query.phrases]
    if query.prefix:
        parts.append(f'{columns}"{query.prefix}"*')
    return " AND ".join(parts)


def _sqlite_match(query: Query, conditions: list, *, staff: bool, candidates: int):
    """(ticket_id, score) of the matches within `conditions`; with `candidates`, only the newest
    that many (FTS5 walks its doclists by rowid, so bm25 runs on those rows only)."""
    fts = sa.literal_column("search_fts")
    rowid = sa.literal_column("search_fts.rowid")
    bm25 = sa.func.max(sa.func.bm25(fts, 1.0, 1.0, 5.0), -999.0)  # bounded, for the cursor
    score = sa.cast(bm25 * SCALE, sa.Integer)  # lower is better
    stmt = (
        sa.select(rowid.label("ticket_id"), Ticket.created_at, score.label("score"))
        .select_from(sa.table("search_fts").join(Ticket, Ticket.id == rowid))
        .where(fts.op("MATCH")(_fts5_expression(query, staff=staff)), *conditions)
    )
    if candidates:
        stmt = stmt.order_by(rowid.desc()).limit(candidates)
    return stmt.subquery("matched")


ARRAY_OF_INT = ARRAY(sa.Integer)
_PG_CONFIGS = ("pt_unaccent", "es_unaccent", "simple_unaccent")


def _any_config(function: str, value: str, configs=_PG_CONFIGS):
    """function(config, value) OR-ed over the configurations (a ticket's language decides its
    stems; a query matches whichever applies)."""
    parts = [
        getattr(sa.func, function)(sa.literal_column(f"'{c}'::regconfig"), sa.literal(value))
        for c in configs
    ]
    expression = parts[0]
    for part in parts[1:]:
        expression = expression.op("||")(part)
    return expression


def _pg_tsquery(query: Query):
    clauses = [_any_config("plainto_tsquery", w) for w in query.words]
    clauses += [_any_config("phraseto_tsquery", " ".join(p)) for p in query.phrases]
    if query.prefix:
        clauses.append(_any_config("to_tsquery", f"{query.prefix}:*", configs=("simple_unaccent",)))
    expression = clauses[0]
    for clause in clauses[1:]:
        expression = expression.op("&&")(clause)
    return expression


# the first window of ids looked at is this many times the candidates; each next one as much larger
WINDOW_FACTOR = 8


def _selective(query: Query) -> bool:
    """A protocol, phone or document (8+ digits once collapsed): a handful of matches at most,
    whatever the table's size, so no window can fill up and the walk through them all would only
    add scans (a protocol at 1M tickets: 4 statements, 32 ms -> 1, 7 ms)."""
    return any(t.isdigit() and len(t) >= 8 for t in query.terms())


def _postgresql_candidates(
    tsv, tsq, conditions: list, candidates: int, *, selective: bool = False
) -> list[int] | None:
    """The ids of the newest `candidates` matches within `conditions`, looked for among the
    newest ids first: 8x the candidates, then 64x, ... then all. Each look is one scan of the
    GIN index on (vector, recency bucket) joined to the same id range of `tickets`, so it costs
    the matches in the window whatever the table's size: a common word stops at the first
    window, a rare one reaches "all", where its few matches are cheap. (The b-tree walk that
    PostgreSQL picks for "newest matches first" tests each row's TOASTed vector: 0.3 s for two
    words at 100k tickets.) None when the table is empty."""
    top = db.session.scalar(sa.select(sa.func.max(SearchDocument.ticket_id)))
    if top is None:
        return None
    base = (
        sa.select(SearchDocument.ticket_id)
        .join(Ticket, Ticket.id == SearchDocument.ticket_id)
        .where(tsv.op("@@")(tsq), *conditions)
        .order_by(SearchDocument.recency.desc(), SearchDocument.ticket_id.desc())
        .limit(candidates)
    )
    if selective:
        return list(db.session.scalars(base))
    width = candidates * WINDOW_FACTOR
    while True:
        bucket = (top - width) // RECENCY_BUCKET
        stmt = base
        if bucket > 0:  # the newest ids only (both sides, so each uses its index for the range)
            stmt = stmt.where(
                SearchDocument.recency >= bucket, Ticket.id >= bucket * RECENCY_BUCKET
            )
        found = list(db.session.scalars(stmt))
        if len(found) >= candidates or bucket <= 0:
            return found
        width *= WINDOW_FACTOR


def _postgresql_match(query: Query, conditions: list, *, staff: bool, candidates: int):
    """(ticket_id, created_at, score) of the matches within `conditions`; with `candidates`,
    ts_rank_cd (which reads every matching vector) runs on the newest that many only."""
    tsv = SearchDocument.all_tsv if staff else SearchDocument.public_tsv
    tsq = _pg_tsquery(query)
    ranked = sa.orm.aliased(SearchDocument, name="ranked")
    ranked_tsv = ranked.all_tsv if staff else ranked.public_tsv
    # normalisation 32: rank / (rank + 1), within 0..1
    score = sa.cast(-sa.func.ts_rank_cd(ranked_tsv, tsq, 32) * SCALE, sa.Integer)
    stmt = sa.select(ranked.ticket_id, Ticket.created_at, score.label("score")).join(
        Ticket, Ticket.id == ranked.ticket_id
    )
    ids = (
        _postgresql_candidates(tsv, tsq, conditions, candidates, selective=_selective(query))
        if candidates
        else None
    )
    if ids is None:
        stmt = stmt.where(ranked_tsv.op("@@")(tsq), *conditions)
    else:
        stmt = stmt.where(ranked.ticket_id == sa.any_(sa.bindparam("ids", ids, ARRAY_OF_INT)))
    return stmt.subquery("matched")


# the service -----------------------------------------------------------------------------------


@dataclass
class Hit:
    ticket: Ticket
    snippet: Markup
    score: int


def search_tickets(
    raw_query: str | None,
    flt: TicketFilter,
    *,
    staff: bool,
    cursor: str | None = None,
    limit: int = 50,
    candidates: int | None = None,
) -> Page:
    """A page of Hits for what was typed, within `flt` (scope and filters), best first, then
    newest. `staff` decides whether internal notes are searched and shown. `candidates` (default:
    the SEARCH_RANK_CANDIDATES setting; 0: all) bounds the matches ranked to the newest ones."""
    after = cursors.decode_cursor(cursor, CURSOR_KINDS) if cursor else None  # a bad one: 400
    query = parse_query(raw_query)
    if query.empty:
        return Page([], None)
    dialect = db.session.get_bind().dialect.name
    engine = _postgresql_match if dialect == "postgresql" else _sqlite_match
    conditions = filter_conditions(flt)
    if candidates is None:
        candidates = current_app.config.get("SEARCH_RANK_CANDIDATES", 0)
    matched = engine(query, conditions, staff=staff, candidates=candidates)
    columns = [matched.c.score, matched.c.created_at, matched.c.ticket_id]
    descending = [False, True, True]
    # Cut the page on the narrow key (score, created_at, id) that the engine returns with each
    # match first, then join what the list shows to those rows only: sorting every match with
    # its texts and joined columns made a common word ~2x slower on SQLite, and joining the
    # matches to `tickets` again here made PostgreSQL hash the whole table (11 ms at 100k).
    cut = sa.select(matched.c.ticket_id.label("id"), matched.c.score.label("score"))
    if after is not None:
        cut = cut.where(after_key(columns, descending, after))
    cut = (
        cut.order_by(matched.c.score, matched.c.created_at.desc(), matched.c.ticket_id.desc())
        .limit(limit + 1)
        .subquery("page")
    )
    stmt = (
        sa.select(Ticket, cut.c.score, SearchDocument.public_text, SearchDocument.internal_text)
        .join(cut, cut.c.id == Ticket.id)
        .join(SearchDocument, SearchDocument.ticket_id == Ticket.id)
        .order_by(cut.c.score, Ticket.created_at.desc(), Ticket.id.desc())
        .options(
            joinedload(Ticket.customer),
            joinedload(Ticket.department),
            joinedload(Ticket.assignee),
        )
    )
    rows = db.session.execute(stmt).unique().all()
    terms = query.terms()
    pattern = snippet_pattern(terms)
    hits = [
        Hit(
            ticket=ticket,
            snippet=snippet(
                "\n".join([public, internal]) if staff else public, terms, pattern=pattern
            ),
            score=score,
        )
        for ticket, score, public, internal in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = hits[-1]
        next_cursor = encode_cursor([last.score, last.ticket.created_at, last.ticket.id])
    return Page(hits, next_cursor)


def matching_ticket_ids(
    raw_query: str | None, flt: TicketFilter, *, staff: bool, limit: int
) -> list[int]:
    """The ids of (at most `limit`) tickets the query finds within `flt`, newest first, without
    ranking or snippets: "all matching this search" in the bulk bar, and its bounded count."""
    query = parse_query(raw_query)
    if query.empty:
        return []
    dialect = db.session.get_bind().dialect.name
    engine = _postgresql_match if dialect == "postgresql" else _sqlite_match
    matched = engine(query, filter_conditions(flt), staff=staff, candidates=limit)
    return list(
        db.session.scalars(
            sa.select(matched.c.ticket_id).order_by(matched.c.ticket_id.desc()).limit(limit)
        )
    )


def snippet_pattern(terms: list[str]) -> re.Pattern | None:
    """The folded terms as one pattern (longest first), compiled once for a page of snippets."""
    needles = sorted({fold(t) for t in terms if t}, key=len, reverse=True)
    if not needles:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, needles)) + r")\w*")


def snippet(
    text: str, terms: list[str], *, width: int = 160, pattern: re.Pattern | None = None
) -> Markup:
    """A short, HTML-escaped extract of `text` around the first matching term, each match in
    <mark>; accents and case do not matter."""
    text = (text or "")[:SNIPPET_SOURCE]
    pattern = pattern or snippet_pattern(terms)
    if pattern is None:
        return escape(" ".join(text[: width * 2].split())[:width])
    first = pattern.search(fold(text))
    # only the neighbourhood of the first match is cut, folded and marked (a document may hold
    # every message of a long thread)
    around = max(0, (first.start() if first else 0) - width)
    more = around + width * 3 < len(text)
    text = " ".join(text[around : around + width * 3].split())
    folded = fold(text)
    first = pattern.search(folded)
    start = max(0, (first.start() if first else 0) - width // 3)
    if start:  # begin on a word
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = min(len(text), start + width)
    out = [Markup("…") if start else Markup("")]
    pos = start
    for match in pattern.finditer(folded, start, end):
        out.append(escape(text[pos : match.start()]))
        out.append(Markup("<mark>%s</mark>") % text[match.start() : match.end()])
        pos = match.end()
    out.append(escape(text[pos:end]))
    if end < len(text) or more:
        out.append(Markup("…"))
    return Markup("").join(out)


# exact identifiers -----------------------------------------------------------------------------


@dataclass
class Jump:
    kind: str  # "ticket" | "customer"
    protocol: str | None = None
    customer_id: int | None = None


def _ticket_protocol(raw: str) -> str | None:
    try:
        value = protocols.parse(raw)
    except DomainError:
        value = protocols.normalize(raw)
        if not (value.isascii() and value.isdigit() and len(value) == protocols.MIN_LENGTH - 1):
            return None
        value = value + protocols.check_digit(value)  # typed without its check digit
        if not protocols.is_valid(value):
            return None
    return db.session.scalar(sa.select(Ticket.protocol).where(Ticket.protocol == value))


def _only_customer(stmt) -> int | None:
    ids = list(db.session.scalars(stmt.limit(2)))
    return ids[0] if len(ids) == 1 else None


def exact_match(raw: str | None) -> Jump | None:
    """The ticket (a full protocol) or the one customer (an email, a phone, a CPF/CNPJ) that what
    was typed identifies exactly; None otherwise. The caller checks permission on the ticket."""
    raw = (raw or "").strip()
    if not raw or len(raw) > MAX_QUERY or "\x00" in raw:
        return None
    if "@" in raw:
        try:
            email = normalize_email(raw)
        except DomainError:
            return None
        found = _only_customer(
            sa.select(CustomerEmail.customer_id).where(CustomerEmail.email == email)
        )
        return Jump("customer", customer_id=found) if found else None
    if re.fullmatch(r"[\d\s.\-/()+#№]+", raw) is None:
        return None
    protocol = _ticket_protocol(raw)
    if protocol:
        return Jump("ticket", protocol=protocol)
    number = digits(raw)
    if len(number) in (11, 14) and is_valid_document(number):
        found = _only_customer(sa.select(Customer.id).where(Customer.document == number))
        if found:
            return Jump("customer", customer_id=found)
    try:
        phone = normalize_phone(raw)
    except DomainError:
        return None
    found = _only_customer(
        sa.select(CustomerPhone.customer_id).where(CustomerPhone.number == phone)
    )
    return Jump("customer", customer_id=found) if found else None


# the phone screen's caller lookup ---------------------------------------------------------------

CALLERS_LIMIT = 20


def find_callers(
    raw: str | None, flt: TicketFilter, *, limit: int = CALLERS_LIMIT
) -> list[Customer]:
    """The customers a caller may be, from one box: an email, a phone (any format), a CPF/CNPJ
    and a protocol (with or without check digit) are matched exactly; anything else (a name, a
    word of a demand) through the ticket search within `flt` (the agent's scope, any status),
    the customers of the best matches first."""
    raw = (raw or "").strip()
    if not raw or len(raw) > MAX_QUERY or "\x00" in raw:
        return []
    if "@" in raw and " " not in raw:
        found = _exactly(limit, email=raw)
    elif re.fullmatch(r"[\d\s.\-/()+#№]+", raw):
        found = _callers_by_number(raw, limit)
    else:
        found = []
    if found:
        return found
    ids: list[int] = []
    page = search_tickets(raw, flt, staff=True, limit=limit * 3, candidates=0)
    for hit in page.items:
        if hit.ticket.customer_id not in ids:
            ids.append(hit.ticket.customer_id)
    if not ids:
        return []
    by_id = {c.id: c for c in db.session.scalars(sa.select(Customer).where(Customer.id.in_(ids)))}
    return [by_id[i] for i in ids[:limit] if i in by_id]


def _exactly(limit: int, **contact) -> list[Customer]:
    """customers.find_customers, with what is not a valid contact datum finding nobody."""
    try:
        return find_customers(limit=limit, **contact)
    except DomainError:
        return []


def _callers_by_number(raw: str, limit: int) -> list[Customer]:
    protocol = _ticket_protocol(raw)
    if protocol:
        return list(
            db.session.scalars(
                sa.select(Customer)
                .join(Ticket, Ticket.customer_id == Customer.id)
                .where(Ticket.protocol == protocol)
            )
        )
    number = digits(raw)
    if len(number) in (11, 14) and is_valid_document(number):
        found = _exactly(limit, document=number)
        if found:
            return found
    return _exactly(limit, phone=raw)
