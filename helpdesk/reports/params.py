"""A report's period and filters, parsed once for every surface (console, API, digest).

The period is a range of calendar days in the user's time zone (`from`/`to`, both included),
turned into UTC instants [start, end). Every mistake is a ValidationError naming its field (a 400
next to the field in the console, a 422 problem+json in the API), never a 500.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from ..core.clock import as_utc
from ..core.errors import ValidationError
from ..core.text import ascii_digits
from ..tickets.models import CHANNELS, KINDS

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_DAYS = 366
DEFAULT_DAYS = 30
FILTER_KEYS = ("department", "channel", "kind")


@dataclass(frozen=True)
class Params:
    first: date  # the first day shown, in `zone`
    last: date  # the last day shown (included)
    zone: ZoneInfo
    at: datetime  # "now" for this run: backlog and open SLA targets are measured against it
    scope: tuple[int, ...] | None = None  # departments the reader may see (None: all)
    department_id: int | None = None
    channel: str | None = None
    kind: str | None = None
    locale: str | None = None

    @property
    def start(self) -> datetime:
        return as_utc(datetime.combine(self.first, time(0), tzinfo=self.zone))

    @property
    def end(self) -> datetime:
        return as_utc(datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone))

    @property
    def department_ids(self) -> list[int] | None:
        """The departments to count (the filter within the scope); None: every department."""
        if self.department_id is not None:
            return [self.department_id]
        return None if self.scope is None else list(self.scope)

    @property
    def filters(self) -> dict[str, str]:
        """The query-string form of the filters (for links and exports)."""
        values = {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "department": "" if self.department_id is None else str(self.department_id),
            "channel": self.channel or "",
            "kind": self.kind or "",
        }
        return {k: v for k, v in values.items() if v}

    def shifted(self, days: int) -> Params:
        """The same filters over the period `days` earlier (the digest's "last week")."""
        delta = timedelta(days=days)
        return replace(self, first=self.first - delta, last=self.last - delta)


def _day(raw: str | None, field: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            _l("Give a date as YYYY-MM-DD, e.g. 2026-01-31."), field=field
        ) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            _l("Please choose dates from %(low)s to %(high)s."),
            field=field,
            low=MIN_YEAR,
            high=MAX_YEAR,
        )
    return value


def parse_params(
    args: Mapping[str, str],
    *,
    zone: ZoneInfo,
    at: datetime,
    scope: Iterable[int] | None,
    departments: Iterable[int],
    locale: str | None = None,
) -> Params:
    """`from`, `to` (YYYY-MM-DD in `zone`; default: the last 30 days, today included),
    `department` (an id among `departments`, those the reader may filter on), `channel`, `kind`."""
    today = as_utc(at).astimezone(zone).date()
    last = _day(args.get("to"), "to") or today
    first = _day(args.get("from"), "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationError(_l("The end must be on or after the start."), field="to")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError(_l("Please choose at most %(days)s days."), field="to", days=MAX_DAYS)
    department = (args.get("department") or "").strip()
    department_id = None
    if department:
        if not ascii_digits(department) or int(department) not in set(departments):
            raise ValidationError(_l("Unknown department."), field="department")
        department_id = int(department)
    channel = (args.get("channel") or "").strip() or None
    if channel is not None and channel not in CHANNELS:
        raise ValidationError(_l("Unknown channel."), field="channel")
    kind = (args.get("kind") or "").strip() or None
    if kind is not None and kind not in KINDS:
        raise ValidationError(_l("Unknown kind."), field="kind")
    return Params(
        first=first,
        last=last,
        zone=zone,
        at=as_utc(at),
        scope=None if scope is None else tuple(scope),
        department_id=department_id,
        channel=channel,
        kind=kind,
        locale=locale,
    )
