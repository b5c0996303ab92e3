"""Articles used in replies: an agent's public reply that links an article (`/help/<slug>`, as
the workspace's article picker inserts it) counts one use of it, recorded in the reply's own
transaction by an after-flush hook, so no reply path (console, API, macros) can forget it.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..core.clock import now
from ..tickets.models import Message
from .models import Article, KbUse

LINK = re.compile(r"/help/([a-z0-9][a-z0-9-]{0,119})(?![a-z0-9-])")
MAX_LINKS = 10


def linked_slugs(body: str) -> list[str]:
    found: list[str] = []
    for slug in LINK.findall(body or ""):
        if slug not in found and slug not in ("suggest", "sitemap", "events", "images", "follow"):
            found.append(slug)
    return found[:MAX_LINKS]


@sa.event.listens_for(Session, "after_flush")
def _count_uses(session: Session, _flush_context) -> None:
    replies = [
        m
        for m in session.new
        if isinstance(m, Message)
        and m.author_kind == "agent"
        and not m.is_internal
        and "/help/" in (m.body or "")
    ]
    if not replies:
        return
    conn = session.connection()
    for message in replies:
        slugs = linked_slugs(message.body)
        if not slugs:
            continue
        ids = sorted(
            set(
                conn.scalars(
                    sa.select(sa.func.min(Article.id))
                    .where(Article.slug.in_(slugs))
                    .group_by(Article.slug)
                )
            )
        )
        if not ids:
            continue
        conn.execute(
            sa.insert(KbUse),
            [
                {
                    "article_id": i,
                    "ticket_id": message.ticket_id,
                    "message_id": message.id,
                    "created_at": now(),
                }
                for i in ids
            ],
        )
        conn.execute(sa.update(Article).where(Article.id.in_(ids)).values(uses=Article.uses + 1))
