"""Hash chains: the primitives of the tamper-evident trails (ticket events, admin audit entries).

A link is `sha256(canonical(fields + prev))` in hex, where `canonical` is compact JSON with sorted
keys (UTF-8, no ASCII escaping), so the same values always give the same bytes on any database.
Free text is never hashed directly: a row's link covers `text_digest(...)` of its free-text
fields, so the anonymiser may replace the text after storing the original digest (the row's
`text_digest` column) and the chain still verifies. See docs/audit.md.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

VERSION = 1
GENESIS = "0" * 64  # the `prev` of a chain's first link


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def text_digest(*texts: str | None) -> str:
    """The digest of a row's free-text fields (None and "" differ)."""
    return hashlib.sha256(canonical(list(texts))).hexdigest()


def instant(value: datetime | str | None) -> str | None:
    """A timestamp as the chain writes it: UTC, microseconds, whatever the driver returned
    (PostgreSQL: aware datetimes; SQLite: naive UTC datetimes)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def link(fields: dict, prev: str | None) -> str:
    """The hash of one row: its fields (plain JSON values) and the previous row's hash."""
    body = dict(fields)
    body["v"] = VERSION
    body["prev"] = prev or GENESIS
    return hashlib.sha256(canonical(body)).hexdigest()
