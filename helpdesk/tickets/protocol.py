"""Protocol numbers: digits only, date-prefixed, with a Damm check digit.

Format: YYYYMMDD (local date of registration) + a per-day sequence of at least 6 digits + one check
digit. The Damm algorithm detects every single-digit error and every adjacent transposition, so a
mistyped protocol is told apart from an unknown one.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..core.errors import InvalidProtocol
from ..core.text import ascii_digits
from ..extensions import db
from .models import ProtocolCounter

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

MIN_LENGTH = 8 + 6 + 1


def check_digit(digits: str) -> str:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def is_valid(protocol: str) -> bool:
    return ascii_digits(protocol) and len(protocol) >= MIN_LENGTH and check_digit(protocol) == "0"


def format_protocol(day: str, sequence: int) -> str:
    body = f"{day}{sequence:06d}"
    return body + check_digit(body)


def normalize(raw: str) -> str:
    """Strip what people type around a protocol (spaces, dots, dashes, a leading #)."""
    return re.sub(r"[\s.\-/#]", "", raw or "")


def parse(raw: str) -> str:
    """Return the clean protocol or raise InvalidProtocol when it cannot be one of ours."""
    value = normalize(raw)
    if not ascii_digits(value) or len(value) < MIN_LENGTH or len(value) > 20:
        raise InvalidProtocol(field="protocol")
    if check_digit(value) != "0":
        raise InvalidProtocol(field="protocol")
    return value


def next_protocol(at: datetime, timezone: str) -> str:
    """Issue the next protocol of the local day of `at`, inside the caller's transaction.

    The counter row is incremented with one UPDATE ... RETURNING, so concurrent registrations
    serialise on that row (PostgreSQL row lock, SQLite write lock) and never share a number.
    """
    day = at.astimezone(ZoneInfo(timezone)).strftime("%Y%m%d")
    session = db.session
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    update = (
        sa.update(ProtocolCounter)
        .where(ProtocolCounter.day == day)
        .values(value=ProtocolCounter.value + 1)
        .returning(ProtocolCounter.value)
    )
    value = session.execute(update).scalar()
    if value is None:
        session.execute(insert(ProtocolCounter).values(day=day, value=0).on_conflict_do_nothing())
        value = session.execute(update).scalar_one()
    return format_protocol(day, value)
