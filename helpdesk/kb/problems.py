"""Known problems told to customers: an open root-cause investigation publishes a notice (what is
affected, the workaround, when a fix is expected) that the help centre and the new-demand form
show; customers follow it (signed in: at once; by email: after confirming a link) and are told
when it is solved. Solving happens here or through the investigation's "tell every affected
customer … and resolve" step (investigations.notices calls `on_customers_notified`).
"""

from __future__ import annotations

import logging
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core.clock import now
from ..core.errors import Conflict, NotFound, ValidationError
from ..core.logs import who
from ..core.tokens import hash_token, new_token
from ..customers.services import normalize_email
from ..extensions import db
from ..investigations import notices as investigation_notices
from ..investigations.history import record
from ..investigations.models import Investigation
from ..investigations.permissions import require_manager
from ..notifications.services import queue_email
from ..search.service import fold, parse_query
from .models import LANGUAGES, ProblemFollower, ProblemNotice

log = logging.getLogger(__name__)

FIELDS = ("title", "affected", "workaround", "expected_fix")
LIMITS = {"title": 200, "affected": 2000, "workaround": 4000, "expected_fix": 1000}
MAX_SHOWN = 50


def _clean_texts(texts: dict) -> dict:
    out: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        given = texts.get(lang) or {}
        entry = {}
        for name in FIELDS:
            value = (given.get(name) or "").strip()
            if len(value) > LIMITS[name]:
                raise ValidationError(
                    _l("At most %(n)s characters."), field=f"{lang}_{name}", n=LIMITS[name]
                )
            entry[name] = value
        if any(entry.values()):
            if not entry["title"]:
                raise ValidationError(_l("This field is required."), field=f"{lang}_title")
            out[lang] = entry
    if not out:
        raise ValidationError(_l("Write the notice in at least one language."), field="pt_BR_title")
    return out


def notice_of(inv: Investigation) -> ProblemNotice | None:
    return db.session.scalar(
        sa.select(ProblemNotice).where(ProblemNotice.investigation_id == inv.id)
    )


def publish_notice(
    inv: Investigation, by: User | None, *, texts: dict, expected_fix_on: date | None = None
) -> ProblemNotice:
    """Publish (or update) the customer-facing notice of an open investigation."""
    require_manager(by)
    if not inv.is_active:
        raise Conflict(_l("Only an open investigation can publish a notice."))
    cleaned = _clean_texts(texts)
    notice = notice_of(inv)
    at = now()
    if notice is None:
        notice = ProblemNotice(
            investigation_id=inv.id,
            published_by_id=by.id if by is not None else None,
            published_at=at,
        )
        db.session.add(notice)
    notice.texts = cleaned
    notice.expected_fix_on = expected_fix_on
    notice.status = "published"
    notice.solved_at = None
    notice.updated_at = at
    db.session.flush()
    record(inv, by, "notice_published", detail=", ".join(sorted(cleaned)))
    log.info("investigation %s: known problem published by %s", inv.number, who(by))
    return notice


def withdraw_notice(notice: ProblemNotice, by: User | None) -> ProblemNotice:
    require_manager(by)
    notice.status = "withdrawn"
    notice.updated_at = now()
    db.session.flush()
    return notice


def solve_notice(notice: ProblemNotice, by: User | None) -> int:
    """Mark solved and tell every confirmed follower not told yet (once each); returns how many
    were told."""
    require_manager(by)
    if notice.status != "solved":
        notice.status = "solved"
        notice.solved_at = now()
        notice.updated_at = notice.solved_at
    told = 0
    for follower in notice.followers:
        if follower.confirmed_at is None or follower.notified_at is not None:
            continue
        claimed = db.session.execute(
            sa.update(ProblemFollower)
            .where(ProblemFollower.id == follower.id, ProblemFollower.notified_at.is_(None))
            .values(notified_at=now())
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        queue_email(
            kind="problem_solved",
            to=follower.email,
            template="kb_problem_solved",
            locale=follower.language,
            notice=notice,
            language=follower.language,
        )
        told += 1
    db.session.flush()
    log.info("known problem %s solved: %s follower(s) told", notice.id, told)
    return told


def _on_customers_notified(inv: Investigation, by: User | None, *, resolve: bool) -> None:
    """The investigation told every linked customer and resolved their demands: the problem is
    solved for its followers too."""
    if not resolve:
        return
    notice = notice_of(inv)
    if notice is not None and notice.status == "published":
        solve_notice(notice, by)


investigation_notices.on_customers_notified(_on_customers_notified)


# following -------------------------------------------------------------------------------------


def follow_notice(
    notice: ProblemNotice, *, user: User | None = None, email: str | None = None, language: str
) -> tuple[ProblemFollower, str | None]:
    """Follow a published notice: a signed-in user at once; an email address after confirming
    the link sent to it (returns the raw token to build it, None when nothing is to confirm)."""
    if notice.status != "published":
        raise Conflict(_l("This problem is no longer being worked on."))
    language = language if language in LANGUAGES else "pt_BR"
    address = user.email if user is not None else normalize_email(email or "")
    follower = db.session.scalar(
        sa.select(ProblemFollower).where(
            ProblemFollower.notice_id == notice.id, ProblemFollower.email == address
        )
    )
    if follower is None:
        follower = ProblemFollower(notice=notice, email=address, created_at=now())
        db.session.add(follower)
    follower.language = language
    raw = None
    if user is not None:
        follower.user_id = user.id
        follower.confirmed_at = follower.confirmed_at or now()
    elif follower.confirmed_at is None:
        raw = new_token()
        follower.token_hash = hash_token(raw)
        queue_email(
            kind="problem_follow",
            to=address,
            template="kb_problem_follow",
            locale=language,
            notice=notice,
            language=language,
            token=raw,
        )
    db.session.flush()
    return follower, raw


def confirm_follow(raw: str) -> ProblemFollower:
    if not raw or len(raw) > 200:
        raise NotFound()
    follower = db.session.scalar(
        sa.select(ProblemFollower).where(ProblemFollower.token_hash == hash_token(raw))
    )
    if follower is None:
        raise NotFound()
    follower.confirmed_at = follower.confirmed_at or now()
    follower.token_hash = None  # single use
    db.session.flush()
    return follower


# reading ---------------------------------------------------------------------------------------


def published_notices(limit: int = MAX_SHOWN) -> list[ProblemNotice]:
    return list(
        db.session.scalars(
            sa.select(ProblemNotice)
            .where(ProblemNotice.status == "published")
            .order_by(ProblemNotice.published_at.desc(), ProblemNotice.id.desc())
            .limit(limit)
        )
    )


def matching_notices(q: str | None, language: str, limit: int = 3) -> list[ProblemNotice]:
    """Published notices whose words (title, what is affected, the investigation's keywords)
    match what was typed: every word of it, accents and case aside, the last one as a prefix.
    Few notices are published at once (bounded), so this reads them all."""
    terms = [fold(t) for t in parse_query(q).terms() if len(t) >= 4]
    if not terms:
        return []
    rows = db.session.execute(
        sa.select(ProblemNotice, Investigation.keywords)
        .join(Investigation, Investigation.id == ProblemNotice.investigation_id)
        .where(ProblemNotice.status == "published")
        .order_by(ProblemNotice.published_at.desc())
        .limit(MAX_SHOWN)
    ).all()
    found = []
    for notice, keywords in rows:
        text = " ".join(
            [keywords or ""]
            + [
                (notice.texts.get(lang) or {}).get(name, "")
                for lang in LANGUAGES
                for name in ("title", "affected")
            ]
        )
        words = set(fold(text).replace(",", " ").split())
        if any(any(w.startswith(t) for w in words) for t in terms):
            found.append(notice)
        if len(found) >= limit:
            break
    return found
