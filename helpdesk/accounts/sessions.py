"""Sign-in sessions kept on the server: opened at login, checked on every request, revoked by
logout, deactivation and a new password.

The browser's signed cookie holds only a random id; `user_sessions` holds its SHA-256 as the primary
key. Checking a request is one statement (the session row joined to its user, by primary key);
`last_seen_at` is written at most once a minute, outside the request's transaction. A session
unused for SESSION_IDLE_DAYS (default 30; 0: never) ends by itself; rows of ended sessions are
deleted at the user's next login.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..core.clock import as_utc, now
from ..core.tokens import hash_token, new_token
from ..extensions import db
from .models import User, UserSession

log = logging.getLogger(__name__)

TOUCH_EVERY = timedelta(minutes=1)
_KEY = re.compile(r"[A-Za-z0-9_-]{32,100}")  # what new_token() makes, with room to spare


def _well_formed(raw) -> bool:
    return isinstance(raw, str) and _KEY.fullmatch(raw) is not None


def open_session(user: User, *, user_agent: str = "", ip: str = "") -> str:
    """A new session for `user`; returns the raw id for the cookie (and sets user.session_key)."""
    ended = UserSession.revoked_at.is_not(None)
    idle = _idle_limit()
    if idle:
        ended = sa.or_(ended, UserSession.last_seen_at < now() - idle)
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id, ended))
    raw = new_token()
    db.session.add(
        UserSession(
            id=hash_token(raw),
            user_id=user.id,
            user_agent=(user_agent or "")[:200],
            ip=(ip or "")[:45],
        )
    )
    db.session.flush()
    user.session_key = raw
    return raw


def user_for_session(raw: str | None) -> User | None:
    """The active user of a live session, or None (unknown, revoked, or deactivated user)."""
    if not _well_formed(raw):
        return None
    key = hash_token(raw)
    row = db.session.execute(
        sa.select(User, UserSession.last_seen_at, UserSession.second_factor_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id == key, UserSession.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    user, last_seen, second_factor_at = row
    if not user.active:
        return None
    moment = now()
    last_seen = as_utc(last_seen)
    idle = _idle_limit()
    if idle and last_seen < moment - idle:
        return None
    if last_seen <= moment - TOUCH_EVERY:
        _touch(key)
    user.session_key = raw
    user.session_second_factor_at = second_factor_at
    return user


def _idle_limit() -> timedelta | None:
    days = current_app.config.get("SESSION_IDLE_DAYS", 30)
    return timedelta(days=days) if days and days > 0 else None


def _touch(key: str) -> None:
    """Record activity in its own short transaction (a GET never commits the request's one)."""
    engine = db.engine
    try:
        if engine.dialect.name == "sqlite" and _request_is_writing():
            return  # the request holds SQLite's write lock: a second connection would wait for it
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            conn.execute(
                sa.update(UserSession.__table__)
                .where(UserSession.__table__.c.id == key)
                .values(last_seen_at=now())
            )
    except Exception:  # activity is a hint; never fail a request for it
        log.warning("could not record session activity", exc_info=True)


def _request_is_writing() -> bool:
    session = db.session()
    if not session.in_transaction():
        return False
    dbapi = session.connection().connection.dbapi_connection
    return bool(getattr(dbapi, "in_transaction", False))


def revoke_session(raw: str | None) -> None:
    """End one session (logout)."""
    if not _well_formed(raw):
        return
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.id == hash_token(raw), UserSession.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    db.session.flush()


def revoke_user_sessions(user: User, *, keep: str | None = None) -> int:
    """End every session of `user` (but `keep`, the raw id of the current one); returns how many."""
    stmt = sa.update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep:
        stmt = stmt.where(UserSession.id != hash_token(keep))
    result = db.session.execute(stmt.values(revoked_at=now()))
    db.session.flush()
    log.info("Sessions of user %s ended: %s", user.id, result.rowcount or 0)
    return result.rowcount or 0


def live_sessions(user: User) -> list[UserSession]:
    """The user's live sessions, most recently used first (the account page lists them)."""
    stmt = sa.select(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    idle = _idle_limit()
    if idle:
        stmt = stmt.where(UserSession.last_seen_at >= now() - idle)
    return list(db.session.scalars(stmt.order_by(UserSession.last_seen_at.desc()).limit(100)))


def revoke_user_session(user: User, session_id: str) -> bool:
    """End one of `user`'s sessions, named by its stored id (the hash); False if not theirs."""
    if not isinstance(session_id, str) or len(session_id) != 64:
        return False
    result = db.session.execute(
        sa.update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return (result.rowcount or 0) == 1


def session_id_of(raw: str | None) -> str | None:
    """The stored id (hash) of a raw session id, to mark "this browser" in the list."""
    return hash_token(raw) if _well_formed(raw) else None
