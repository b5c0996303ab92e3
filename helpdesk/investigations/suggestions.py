"""Suggestions on a ticket: active and recently closed investigations whose category and keywords
match it, best first.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import load_only

from ..core.clock import now
from ..extensions import db
from ..tickets.models import Ticket
from .models import (
    ACTIVE_STATUSES,
    Investigation,
)

SUGGESTION_DAYS = 180  # closed investigations stay suggestable this long (a recurrence)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", _fold(text)))


def keyword_hits(inv: Investigation, text: str) -> list[str]:
    folded = " " + " ".join(re.findall(r"\w+", _fold(text))) + " "
    hits = []
    for keyword in (k.strip() for k in inv.keywords.split(",")):
        phrase = " ".join(re.findall(r"\w+", _fold(keyword)))
        if phrase and f" {phrase} " in folded:
            hits.append(keyword)
    return hits


def suggestions_for(ticket: Ticket, limit: int = 5) -> list[tuple[Investigation, list[str]]]:
    """Active (and recently closed) investigations whose category and keywords match the ticket:
    (investigation, matched keywords), best first. A category match alone is not enough when the
    investigation has keywords; a keyword match alone is."""
    since = now() - timedelta(days=SUGGESTION_DAYS)
    stmt = (
        sa.select(Investigation)
        .where(
            sa.or_(
                Investigation.status.in_(ACTIVE_STATUSES),
                sa.and_(Investigation.status == "closed", Investigation.closed_at >= since),
            )
        )
        # only rows that could score: a keyword list, or the ticket's category
        .where(
            sa.or_(
                Investigation.keywords != "",
                Investigation.category_id == ticket.category_id
                if ticket.category_id is not None
                else sa.false(),
            )
        )
        # the scoring reads few columns (the text fields of a few winners load when shown)
        .options(
            load_only(
                Investigation.id,
                Investigation.number,
                Investigation.title,
                Investigation.status,
                Investigation.category_id,
                Investigation.keywords,
                Investigation.closed_at,
            )
        )
        .order_by(Investigation.id.desc())
        .limit(300)
    )
    text = f"{ticket.subject} {ticket.description}"
    scored = []
    for inv in db.session.scalars(stmt):
        same_category = ticket.category_id is not None and inv.category_id == ticket.category_id
        hits = keyword_hits(inv, text) if inv.keywords else []
        if hits:
            score = len(hits) * 2 + (3 if same_category else 0)
        elif same_category and not inv.keywords:
            score = 1
        else:
            continue
        active_first = 0 if inv.is_active else 1
        scored.append((active_first, -score, -inv.id, inv, hits))
    scored.sort(key=lambda row: row[:3])
    return [(row[3], row[4]) for row in scored[:limit]]
