"""The one clock: every service, model default and query asks it for the time.

`now()` is the real UTC instant unless a *time override* is active: `travel(to)` makes the clock
read `to` and run on from there (`shifted(delta)` moves it by `delta`) for the code inside the
`with` block, in this thread or task only (a context variable), so the demo loader can play a
ticket's story on the day it happened and tests can step into the future, and a web request
running at the same time still sees the real clock. Overrides nest; leaving a block restores the
previous clock. Tests may also travel with time-machine, which moves the real clock below this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

# how far the clock is set ahead of (or behind) the real one; None = the real clock
_offset: ContextVar[timedelta | None] = ContextVar("helpdesk_clock_offset", default=None)


def real_now() -> datetime:
    """The real current instant, timezone-aware UTC, whatever override is active."""
    return datetime.now(UTC)


def now() -> datetime:
    """The current instant, timezone-aware UTC (the override's, when one is active)."""
    offset = _offset.get()
    current = datetime.now(UTC)
    return current if offset is None else current + offset


@contextmanager
def shifted(delta: timedelta) -> Iterator[None]:
    """Inside the block the clock reads `delta` later than it does outside (earlier if negative)."""
    token = _offset.set((_offset.get() or timedelta(0)) + delta)
    try:
        yield
    finally:
        _offset.reset(token)


@contextmanager
def travel(to: datetime) -> Iterator[datetime]:
    """Inside the block the clock starts at `to` (naive = UTC) and runs on from there."""
    target = as_utc(to)
    token = _offset.set(target - real_now())
    try:
        yield target
    finally:
        _offset.reset(token)


def as_utc(value: datetime | None) -> datetime | None:
    """Stored datetimes come back naive on SQLite; treat them as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z suffix (API bodies, webhook payloads)."""
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")
