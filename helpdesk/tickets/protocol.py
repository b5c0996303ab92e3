"""Protocol numbers: digits only, date-prefixed, with a Damm check digit.

Format: YYYYMMDD (local date of registration) + a per-day sequence of at least 6 digits + one check
digit. The Damm algorithm detects every single-digit error and every adjacent transposition, so a
mistyped protocol is told apart from an unknown one.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

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


MAX_LENGTH = 20
_MAX_TYPED = 200  # characters a person may type around a protocol (spaces, dots, a label)


def normalize(raw: str) -> str:
    """Strip what people type around a protocol: any spacing, punctuation or invisible character
    (`2026-12-02/000301.6`, `# 20261202 000301 6`, a zero-width space); full-width digits count."""
    text = unicodedata.normalize("NFKC", (raw or "")[:_MAX_TYPED])
    return "".join(
        ch for ch in text if not (ch.isspace() or unicodedata.category(ch)[0] in "PZC" or ch == "№")
    )


def parse(raw: str) -> str:
    """Return the clean protocol or raise InvalidProtocol saying what is wrong with it: empty,
    not only digits, too short, too long, or a wrong check digit (a typo)."""
    if len(raw or "") > _MAX_TYPED:
        raise InvalidProtocol(_l("This protocol number is too long."), field="protocol")
    value = normalize(raw)
    if not value:
        raise InvalidProtocol(_l("Please type the protocol number."), field="protocol")
    if not ascii_digits(value):
        raise InvalidProtocol(
            _l("A protocol number has only digits (spaces and dots are fine)."), field="protocol"
        )
    if len(value) < MIN_LENGTH:
        raise InvalidProtocol(
            _l(
                "This protocol number is too short: it has %(count)s digits and ours have "
                "at least %(min)s. Please check that no digit is missing."
            ),
            field="protocol",
            count=len(value),
            min=MIN_LENGTH,
        )
    if len(value) > MAX_LENGTH:
        raise InvalidProtocol(
            _l("This protocol number is too long: ours have at most %(max)s digits."),
            field="protocol",
            max=MAX_LENGTH,
        )
    if check_digit(value) != "0":
        raise InvalidProtocol(field="protocol")  # the default message: a wrong check digit
    return value


# 15 to 20 digits, each pair at most one space, dot, dash or slash apart (as we show them grouped)
_IN_TEXT = re.compile(rf"(?<![\d.\-/])\d(?:[ .\-/]?\d){{{MIN_LENGTH - 1},{MAX_LENGTH - 1}}}(?!\d)")


def find_in_text(text: str) -> list[str]:
    """Protocols quoted in free text (an email subject), typed plain or grouped
    (`20261202 000301 6`, `20261202-000301-6`): the digits of each candidate with a valid
    check digit, in order, without repeats."""
    found: list[str] = []
    for match in _IN_TEXT.finditer((text or "")[:2000]):
        groups = re.split(r"[ .\-/]", match.group(0))
        # the longest run of whole groups that is a protocol ("... 000301 6 2 itens": not the 2)
        for i in range(len(groups)):
            for j in range(len(groups), i, -1):
                value = "".join(groups[i:j])
                if MIN_LENGTH <= len(value) <= MAX_LENGTH and is_valid(value):
                    if value not in found:
                        found.append(value)
                    break
            else:
                continue
            break
    return found


def display(protocol: str | None) -> str:
    """A protocol grouped for reading aloud: date, sequence, check digit (`20261202 000301 6`).

    Only for people: URLs, the API, subject tags and copy buttons keep the plain digits."""
    value = protocol or ""
    if not (ascii_digits(value) and MIN_LENGTH <= len(value) <= MAX_LENGTH):
        return value
    return f"{value[:8]} {value[8:-1]} {value[-1]}"


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
