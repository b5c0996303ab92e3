"""The one clock: every service asks it for the time, so tests can travel (time-machine)."""

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(UTC)


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
