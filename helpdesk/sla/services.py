"""SLA services: business calendars, SLA policies and the due instants of each ticket.

Calendars: create and edit calendars, company holidays, load the pure calendar. Policies: create,
update, match a ticket, the SAC default policy. Ticket targets: apply, recompute, mark met, state.

Services validate and flush; the surface commits (`helpdesk.core.unit.commit`). Errors are
`ValidationError` with the offending `field` (name, timezone, country, subdivision, intervals, date,
and for policies the condition or target field).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import Department
from ..core.clock import as_utc, now
from ..core.errors import NotFound, ValidationError
from ..core.text import id_number
from ..customers.models import SEGMENTS
from ..escalations.engine import next_check
from ..extensions import db
from ..tickets.events import record_event
from ..tickets.models import CHANNELS, KINDS, PRIORITIES, Category
from .calendars import (
    MIDNIGHT,
    WorkingCalendar,
    add_working_time,
    working_time_between,
)
from .models import (
    SLA_TARGETS,
    BusinessCalendar,
    CalendarHoliday,
    CalendarInterval,
    SlaPolicy,
    TicketSla,
)
from .working import END_OF_DAY, policy_calendar, row_calendar, working_calendar

IntervalSpec = tuple[int, time, time]


def _clean_name(name: str | None) -> str:
    return " ".join((name or "").split())


def _check_timezone(timezone: str) -> str:
    timezone = (timezone or "").strip()
    try:
        if not timezone or len(timezone) > 64:
            raise ValueError(timezone)
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_l("Please choose a valid time zone."), field="timezone") from exc
    return timezone


def _check_region(country: str, subdivision: str | None) -> tuple[str, str | None]:
    country = (country or "").strip().upper()
    supported = holidays_package.list_supported_countries()
    if country not in supported:
        raise ValidationError(_l("Please choose a supported country."), field="country")
    subdivision = (subdivision or "").strip().upper() or None
    if subdivision is not None and subdivision not in supported[country]:
        raise ValidationError(
            _l("Please choose a state or region of the chosen country."), field="subdivision"
        )
    return country, subdivision


def _check_intervals(intervals: Iterable[IntervalSpec], is_24x7: bool) -> list[IntervalSpec]:
    """Weekday 0-6, start before end (end 00:00 = midnight), no overlap within a weekday."""
    result: list[IntervalSpec] = []
    for item in intervals:
        try:
            weekday, start, end = item
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                _l("Each interval needs a weekday, a start and an end."), field="intervals"
            ) from exc
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationError(_l("The weekday must be Monday to Sunday."), field="intervals")
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValidationError(
                _l("Each interval needs a start and an end time."), field="intervals"
            )
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        stored_end = END_OF_DAY if end == MIDNIGHT else end
        if start >= stored_end:
            raise ValidationError(_l("Each interval must start before it ends."), field="intervals")
        result.append((weekday, start, stored_end))
    result.sort()
    for (wd_a, _, end_a), (wd_b, start_b, _) in zip(result, result[1:], strict=False):
        if wd_a == wd_b and start_b < end_a:
            raise ValidationError(_l("The intervals of a day must not overlap."), field="intervals")
    if is_24x7 and result:
        raise ValidationError(
            _l("A 24×7 calendar counts every minute; it has no working intervals."),
            field="intervals",
        )
    if not is_24x7 and not result:
        raise ValidationError(_l("Please give at least one working interval."), field="intervals")
    return result


def create_calendar(
    *,
    name: str,
    timezone: str = "America/Sao_Paulo",
    country: str = "BR",
    subdivision: str | None = None,
    is_24x7: bool = False,
    intervals: Iterable[IntervalSpec] = (),
    active: bool = True,
) -> BusinessCalendar:
    """A new calendar; `intervals` are (weekday 0=Monday, start, end) with end 00:00 = midnight."""
    name = _clean_name(name)
    if not name or len(name) > 120:
        raise ValidationError(_l("Please give a name of at most 120 characters."), field="name")
    if db.session.scalar(sa.select(BusinessCalendar.id).where(BusinessCalendar.name == name)):
        raise ValidationError(_l("A calendar with this name already exists."), field="name")
    timezone = _check_timezone(timezone)
    country, subdivision = _check_region(country, subdivision)
    spec = _check_intervals(intervals, is_24x7)
    calendar = BusinessCalendar(
        name=name,
        timezone=timezone,
        country=country,
        subdivision=subdivision,
        is_24x7=is_24x7,
        active=active,
        intervals=[CalendarInterval(weekday=wd, start_time=s, end_time=e) for wd, s, e in spec],
    )
    db.session.add(calendar)
    db.session.flush()
    return calendar


def set_intervals(
    calendar: BusinessCalendar, intervals: Iterable[IntervalSpec]
) -> BusinessCalendar:
    """Replace the calendar's weekly intervals."""
    spec = _check_intervals(intervals, calendar.is_24x7)
    calendar.intervals = [
        CalendarInterval(weekday=wd, start_time=s, end_time=e) for wd, s, e in spec
    ]
    calendar.revision = (calendar.revision or 0) + 1
    db.session.flush()
    return calendar


def add_holiday(calendar: BusinessCalendar, *, day: date, name: str = "") -> CalendarHoliday:
    """A company date off; one per calendar and date."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError(_l("Please give a valid date."), field="date")
    name = _clean_name(name)
    if len(name) > 120:
        raise ValidationError(_l("Please give a name of at most 120 characters."), field="name")
    exists = db.session.scalar(
        sa.select(CalendarHoliday.id).where(
            CalendarHoliday.calendar_id == calendar.id, CalendarHoliday.date == day
        )
    )
    if exists:
        raise ValidationError(_l("This date is already a holiday of this calendar."), field="date")
    holiday = CalendarHoliday(calendar=calendar, date=day, name=name)
    db.session.add(holiday)
    calendar.revision = (calendar.revision or 0) + 1
    db.session.flush()
    return holiday


def remove_holiday(calendar: BusinessCalendar, day: date) -> None:
    holiday = db.session.scalar(
        sa.select(CalendarHoliday).where(
            CalendarHoliday.calendar_id == calendar.id, CalendarHoliday.date == day
        )
    )
    if holiday is None:
        raise NotFound()
    calendar.holidays.remove(holiday)
    calendar.revision = (calendar.revision or 0) + 1
    db.session.flush()


_CALENDAR_FIELDS = ("name", "timezone", "country", "subdivision", "is_24x7", "active", "intervals")


def update_calendar(calendar: BusinessCalendar, **fields) -> BusinessCalendar:
    """Change some of name, timezone, country, subdivision, is_24x7, active, intervals.

    Validated like `create_calendar` (intervals against the final `is_24x7`; switching to 24x7
    drops the intervals). Bumps `revision` when anything the arithmetic uses changes. A calendar
    an active policy uses cannot be deactivated.
    """
    unknown = set(fields) - set(_CALENDAR_FIELDS)
    if unknown:
        raise TypeError(f"unknown calendar fields: {sorted(unknown)}")
    changed = False
    if "name" in fields:
        name = _clean_name(fields["name"])
        if not name or len(name) > 120:
            raise ValidationError(_l("Please give a name of at most 120 characters."), field="name")
        taken = db.session.scalar(
            sa.select(BusinessCalendar.id).where(
                BusinessCalendar.name == name, BusinessCalendar.id != calendar.id
            )
        )
        if taken:
            raise ValidationError(_l("A calendar with this name already exists."), field="name")
        calendar.name = name
    if "timezone" in fields:
        timezone = _check_timezone(fields["timezone"])
        changed |= timezone != calendar.timezone
        calendar.timezone = timezone
    if "country" in fields or "subdivision" in fields:
        country, subdivision = _check_region(
            fields.get("country", calendar.country),
            fields.get("subdivision", calendar.subdivision),
        )
        changed |= (country, subdivision) != (calendar.country, calendar.subdivision)
        calendar.country, calendar.subdivision = country, subdivision
    is_24x7 = bool(fields.get("is_24x7", calendar.is_24x7))
    if "intervals" in fields or is_24x7 != calendar.is_24x7:
        spec = _check_intervals([] if is_24x7 else fields.get("intervals", ()), is_24x7)
        old = sorted((i.weekday, i.start_time, i.end_time) for i in calendar.intervals)
        if spec != old or is_24x7 != calendar.is_24x7:
            calendar.is_24x7 = is_24x7
            calendar.intervals = [
                CalendarInterval(weekday=wd, start_time=s, end_time=e) for wd, s, e in spec
            ]
            changed = True
    if "active" in fields:
        active = bool(fields["active"])
        if not active and calendar.active:
            used = db.session.scalar(
                sa.select(SlaPolicy.name)
                .where(
                    SlaPolicy.active.is_(True),
                    sa.or_(
                        *[
                            getattr(SlaPolicy, column) == calendar.id
                            for column in _policy_calendar_columns()
                        ]
                    ),
                )
                .limit(1)
            )
            if used:
                raise ValidationError(
                    _l(
                        "The active policy “%(policy)s” uses this calendar: choose another "
                        "calendar there first.",
                        policy=used,
                    ),
                    field="active",
                )
        calendar.active = active
    if changed:
        calendar.revision = (calendar.revision or 0) + 1
    db.session.flush()
    return calendar


def _policy_calendar_columns() -> list[str]:
    return [c.key for c in SlaPolicy.__table__.columns if c.key.endswith("_calendar_id")]


def load_calendar(calendar_id: int, years: Iterable[int] | None = None) -> WorkingCalendar:
    """Load a calendar row with its intervals and company holidays (3 queries) as a WorkingCalendar.

    Not cached per row: the rows are small and cheap to read, and a per-id cache would need a
    cross-process invalidation; the expensive part (public holidays) is cached in `holidays_for`.
    """
    calendar = db.session.scalar(
        sa.select(BusinessCalendar)
        .where(BusinessCalendar.id == calendar_id)
        .options(selectinload(BusinessCalendar.intervals), selectinload(BusinessCalendar.holidays))
    )
    if calendar is None:
        raise NotFound()
    return working_calendar(calendar, years)


# SLA policies -------------------------------------------------------------------------------------
#
# A policy gives a ticket its targets (first response, resolution), each a number of minutes of a
# calendar's working time (no calendar = 24x7). The first active policy by `position` whose
# conditions all match wins. Each target becomes one `TicketSla` row with its due instant.
#
# Pauses: `pause_statuses` is stored and validated, but this slice computes due instants without
# pauses; the pause/resume clock arrives with the escalation sweep (see docs/sla.md).

DEFAULT_CALENDAR_NAME = "Horário comercial"
DEFAULT_POLICY_NAME = "SAC"
DEFAULT_POLICY_POSITION = 1000
MAX_TARGET_MINUTES = 366 * 24 * 60
AT_RISK_SHARE = 0.75
# one business day of the default calendar: 08:00-12:00 + 13:00-18:00
BUSINESS_DAY_MINUTES = 9 * 60
PAUSABLE_STATUSES = ("new", "open", "pending_customer", "reopened")

_CONDITIONS = ("kind", "category_id", "priority", "department_id", "channel", "segment")


def _optional_choice(value, choices, field: str, message):
    if value in (None, ""):
        return None
    if value not in choices:
        raise ValidationError(message, field=field)
    return value


def _optional_row(model, value, field: str, message):
    if value in (None, ""):
        return None
    value = id_number(value)  # past an INTEGER column's range: no such row, not a 500
    if value is None or db.session.get(model, value) is None:
        raise ValidationError(message, field=field)
    return value


def _minutes_value(value, field: str):
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_TARGET_MINUTES:
        raise ValidationError(
            _l("Please give a whole number of minutes between 1 and one year."), field=field
        )
    return value


def _calendar_id(value, field: str):
    if value in (None, ""):
        return None
    calendar = db.session.get(BusinessCalendar, value) if isinstance(value, int) else None
    if calendar is None or not calendar.active:
        raise ValidationError(_l("Please choose an active calendar."), field=field)
    return calendar.id


def _clean_policy(data: dict, current: SlaPolicy | None = None) -> dict:
    clean: dict = {}
    if "name" in data:
        name = _clean_name(data["name"])
        if not name or len(name) > 120:
            raise ValidationError(_l("Please give a name of at most 120 characters."), field="name")
        query = sa.select(SlaPolicy.id).where(SlaPolicy.name == name)
        if current is not None:
            query = query.where(SlaPolicy.id != current.id)
        if db.session.scalar(query):
            raise ValidationError(_l("A policy with this name already exists."), field="name")
        clean["name"] = name
    if "position" in data:
        position = data["position"]
        if isinstance(position, bool) or not isinstance(position, int) or abs(position) > 10**6:
            raise ValidationError(_l("Please give a whole number."), field="position")
        clean["position"] = position
    if "active" in data:
        clean["active"] = bool(data["active"])
    checks = {
        "kind": lambda v: _optional_choice(v, KINDS, "kind", _l("Unknown kind of demand.")),
        "channel": lambda v: _optional_choice(v, CHANNELS, "channel", _l("Unknown channel.")),
        "segment": lambda v: _optional_choice(
            v, SEGMENTS, "segment", _l("Unknown customer segment.")
        ),
        "priority": lambda v: _optional_choice(v, PRIORITIES, "priority", _l("Unknown priority.")),
        "category_id": lambda v: _optional_row(
            Category, v, "category_id", _l("Please choose an existing category.")
        ),
        "department_id": lambda v: _optional_row(
            Department, v, "department_id", _l("Please choose an existing department.")
        ),
        "first_response_minutes": lambda v: _minutes_value(v, "first_response_minutes"),
        "next_response_minutes": lambda v: _minutes_value(v, "next_response_minutes"),
        "resolution_minutes": lambda v: _minutes_value(v, "resolution_minutes"),
        "first_response_calendar_id": lambda v: _calendar_id(v, "first_response_calendar_id"),
        "next_response_calendar_id": lambda v: _calendar_id(v, "next_response_calendar_id"),
        "resolution_calendar_id": lambda v: _calendar_id(v, "resolution_calendar_id"),
    }
    for field, check in checks.items():
        if field in data:
            clean[field] = check(data[field])
    if "pause_statuses" in data:
        statuses = data["pause_statuses"] or []
        if isinstance(statuses, str) or not all(s in PAUSABLE_STATUSES for s in statuses):
            raise ValidationError(
                _l("Only open statuses can pause a clock."), field="pause_statuses"
            )
        clean["pause_statuses"] = sorted(set(statuses), key=PAUSABLE_STATUSES.index)
    if "resolution_is_legal" in data:
        clean["resolution_is_legal"] = bool(data["resolution_is_legal"])

    def final(field):
        return clean[field] if field in clean else getattr(current, field, None)

    if all(final(f"{target}_minutes") is None for target in SLA_TARGETS):
        raise ValidationError(
            _l("Please give at least one target (first response, next response or resolution)."),
            field="first_response_minutes",
        )
    return clean


def create_policy(*, name: str, **fields) -> SlaPolicy:
    """A new policy; conditions left out match every ticket, targets left out are not tracked."""
    unknown = (
        set(fields)
        - set(_CONDITIONS)
        - {
            "position",
            "active",
            "first_response_minutes",
            "first_response_calendar_id",
            "next_response_minutes",
            "next_response_calendar_id",
            "resolution_minutes",
            "resolution_calendar_id",
            "pause_statuses",
            "resolution_is_legal",
        }
    )
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    clean = _clean_policy({"name": name, **fields})
    clean.setdefault("pause_statuses", ["pending_customer"])
    policy = SlaPolicy(**clean)
    db.session.add(policy)
    db.session.flush()
    return policy


def update_policy(policy: SlaPolicy, **fields) -> SlaPolicy:
    """Change some fields of a policy. Tickets keep their due instants until recomputed."""
    clean = _clean_policy(fields, current=policy)
    for field, value in clean.items():
        setattr(policy, field, value)
    db.session.flush()
    return policy


def move_policy(policy: SlaPolicy, direction: int) -> None:
    """Swap the policy with its neighbour above (-1) or below (+1); positions become 10, 20, …
    (the first matching active policy wins, so the order is the admin's to set)."""
    policies = list(
        db.session.scalars(sa.select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id))
    )
    index = policies.index(policy)
    other = index + direction
    if direction in (-1, 1) and 0 <= other < len(policies):
        policies[index], policies[other] = policies[other], policies[index]
    for position, item in enumerate(policies, start=1):
        item.position = position * 10
    db.session.flush()


def _segment(ticket) -> str | None:
    customer = ticket.customer
    return customer.segment if customer is not None else None


def policy_matches(policy: SlaPolicy, ticket) -> bool:
    for field in _CONDITIONS:
        wanted = getattr(policy, field)
        if wanted is None:
            continue
        actual = _segment(ticket) if field == "segment" else getattr(ticket, field)
        if actual != wanted:
            return False
    return True


def active_policies() -> list[SlaPolicy]:
    """Active policies in order with their calendars, in one statement (policies are few)."""
    return list(
        db.session.scalars(
            sa.select(SlaPolicy)
            .where(SlaPolicy.active.is_(True))
            .order_by(SlaPolicy.position, SlaPolicy.id)
            .options(
                joinedload(SlaPolicy.first_response_calendar),
                joinedload(SlaPolicy.next_response_calendar),
                joinedload(SlaPolicy.resolution_calendar),
            )
        ).unique()
    )


def match_policy(ticket) -> SlaPolicy | None:
    """The first active policy (by position) whose conditions all match the ticket."""
    for policy in active_policies():
        if policy_matches(policy, ticket):
            return policy
    return None


def ensure_default_policy() -> SlaPolicy:
    """The SAC rule: resolution within 7 calendar days (24x7, legal: never pauses) for every kind,
    first response within 1 business day on "Horário comercial" (Mon-Fri 08-12 and 13-18,
    America/Sao_Paulo, BR holidays). Creates the calendar and the policy when missing."""
    policy = db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.name == DEFAULT_POLICY_NAME))
    if policy is not None:
        return policy
    calendar = db.session.scalar(
        sa.select(BusinessCalendar).where(BusinessCalendar.name == DEFAULT_CALENDAR_NAME)
    )
    if calendar is None:
        calendar = create_calendar(
            name=DEFAULT_CALENDAR_NAME,
            timezone="America/Sao_Paulo",
            country="BR",
            intervals=[
                (weekday, start, end)
                for weekday in range(5)
                for start, end in ((time(8), time(12)), (time(13), time(18)))
            ],
        )
    return create_policy(
        name=DEFAULT_POLICY_NAME,
        position=DEFAULT_POLICY_POSITION,
        first_response_minutes=BUSINESS_DAY_MINUTES,
        first_response_calendar_id=calendar.id,
        resolution_minutes=7 * 24 * 60,
        resolution_calendar_id=None,
        resolution_is_legal=True,
    )


# the due instants of a ticket ---------------------------------------------------------------------
#
# A target runs from its start (registration; for next response, the customer's message) for its
# length of working time on its calendar, plus the working time it spent paused. Running targets
# (not met, not paused) set `Ticket.sla_due_at` (queues sort by it) and their `next_check_at` (the
# escalation sweep's index). Every change is a ticket event "sla_<state>" with the target as field.


def ticket_slas(ticket) -> list[TicketSla]:
    """The ticket's targets, first response first (one statement)."""
    if ticket.id is None:
        return []
    rows = db.session.scalars(sa.select(TicketSla).where(TicketSla.ticket_id == ticket.id)).all()
    return sorted(rows, key=lambda r: SLA_TARGETS.index(r.target) if r.target in SLA_TARGETS else 9)


def _due(row: TicketSla, calendar: WorkingCalendar) -> datetime:
    return add_working_time(
        calendar,
        as_utc(row.started_at),
        timedelta(seconds=row.total_seconds + row.paused_seconds),
    )


def _met_at(ticket, target: str):
    if target == "first_response":
        return ticket.first_response_at
    if target == "resolution" and ticket.status in ("resolved", "closed"):
        return ticket.resolved_at or ticket.closed_at
    return None


def _sla_event(ticket, actor, target: str, state: str, detail: str = "") -> None:
    # deadlines are the system's: the event has no actor, whoever's action started or met it
    record_event(ticket, None, "sla_" + state, field=target, detail=detail)


def _apply(ticket, policy: SlaPolicy | None, rows: dict[str, TicketSla], actor=None) -> bool:
    """Create or update the ticket's rows from `policy`; met rows keep their due instant, a next-
    response row exists only while a customer waits for an answer. Returns whether anything changed."""
    changed = False
    registered = as_utc(ticket.created_at or now())
    paused_now = policy is not None and ticket.status in (policy.pause_statuses or [])
    for target in SLA_TARGETS:
        row = rows.get(target)
        minutes = getattr(policy, f"{target}_minutes") if policy is not None else None
        if minutes is None:
            if row is not None and row.met_at is None:
                db.session.delete(row)
                del rows[target]
                changed = True
            continue
        if row is not None and row.met_at is not None:
            continue
        if target == "next_response" and row is None:
            continue  # started by a customer message (start_next_response)
        calendar_row = getattr(policy, f"{target}_calendar")
        calendar = policy_calendar(calendar_row)
        values = {
            "policy_id": policy.id,
            "calendar_id": calendar_row.id if calendar_row is not None else None,
            "total_seconds": minutes * 60,
            "pausable": not (target == "resolution" and policy.resolution_is_legal),
        }
        if row is None:
            row = TicketSla(
                ticket=ticket,
                target=target,
                started_at=registered,
                met_at=_met_at(ticket, target),
                paused_seconds=0,
                **values,
            )
            row.due_at = _due(row, calendar)
            if row.met_at is None and row.pausable and paused_now:
                row.paused_at = now()
            db.session.add(row)
            rows[target] = row
            changed = True
            continue
        if target != "next_response":
            values["started_at"] = registered
        if not values["pausable"]:
            values.update(paused_at=None, paused_seconds=0)
        if any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            changed = True
        due = _due(row, calendar)
        if as_utc(row.due_at) != due:
            row.due_at = due
            row.breached_at = row.breached_at if due <= now() else None
            changed = True
    return changed


def refresh_schedule(ticket, rows=None, at: datetime | None = None) -> None:
    """Recompute `Ticket.sla_due_at` and each row's `next_check_at` (the escalation sweep's cue)."""
    at = at or now()
    rows = list(rows.values() if isinstance(rows, dict) else rows or ticket_slas(ticket))
    running = [r for r in rows if r.met_at is None and r.paused_at is None]
    for row in rows:
        row.next_check_at = next_check(row, ticket, at) if row in running else None
    ticket.sla_due_at = min((as_utc(r.due_at) for r in running), default=None)


def apply_sla(ticket, actor=None) -> SlaPolicy | None:
    """Give a ticket the targets of its policy (at registration, after routing): the clocks start
    at `ticket.created_at`. No matching policy: no targets. Records an "sla" event."""
    policy = match_policy(ticket)
    rows: dict[str, TicketSla] = {}
    _apply(ticket, policy, rows, actor)
    refresh_schedule(ticket, rows)
    if policy is not None:
        record_event(ticket, None, "sla", new=policy.name)
    return policy


def recompute_sla(ticket, actor=None) -> SlaPolicy | None:
    """After a change of priority, category, kind or department: match again and move the due
    instants of the targets not met yet (met targets keep theirs). Records an "sla" event."""
    policy = match_policy(ticket)
    rows = {row.target: row for row in ticket_slas(ticket)}
    if _apply(ticket, policy, rows, actor) and policy is not None:
        record_event(ticket, None, "sla", new=policy.name, detail="recomputed")
    refresh_schedule(ticket, rows)
    return policy


def _meet(ticket, row: TicketSla, at: datetime, actor=None) -> None:
    row.met_at, row.paused_at, row.next_check_at = at, None, None
    _sla_event(ticket, actor, row.target, "breached_met" if row.breached_at else "met")


def mark_first_response(ticket, actor=None) -> None:
    """A public answer meets the first-response target (the first one) and the next-response
    target that a customer's message started."""
    rows = ticket_slas(ticket)
    at = now()
    for row in rows:
        if row.target in ("first_response", "next_response") and row.met_at is None:
            _meet(ticket, row, ticket.first_response_at if row.target == "first_response" else at)
    refresh_schedule(ticket, rows, at)


def start_next_response(ticket, at: datetime | None = None) -> None:
    """A customer wrote after the first answer: the next-response clock (if the policy has one)
    starts now; a clock already running keeps its earlier start."""
    if ticket.first_response_at is None:
        return  # the first-response target still covers it
    at = at or now()
    rows = {row.target: row for row in ticket_slas(ticket)}
    row = rows.get("next_response")
    if row is not None and row.met_at is None:
        return
    policy = match_policy(ticket)
    if policy is None or policy.next_response_minutes is None:
        return
    calendar_row = policy.next_response_calendar
    if row is None:
        row = TicketSla(ticket=ticket, target="next_response")
        db.session.add(row)
        rows["next_response"] = row
    row.policy_id = policy.id
    row.calendar_id = calendar_row.id if calendar_row is not None else None
    row.total_seconds = policy.next_response_minutes * 60
    row.pausable = True
    row.started_at, row.paused_seconds, row.paused_at = at, 0, None
    row.met_at = row.breached_at = None
    row.due_at = _due(row, policy_calendar(calendar_row))
    _sla_event(ticket, None, "next_response", "started")
    refresh_schedule(ticket, rows, at)


def mark_resolved(ticket, actor=None) -> None:
    """Resolved or closed meets the running targets (an answer was given: first and next response
    too); reopened clears the resolution target (its due instant stands: the legal deadline counts
    from registration)."""
    rows = ticket_slas(ticket)
    at = now()
    for row in rows:
        if ticket.status in ("resolved", "closed"):
            if row.met_at is None and (row.target == "resolution" or ticket.first_response_at):
                met = ticket.resolved_at or ticket.closed_at or at
                _meet(ticket, row, met, actor)
        elif row.target == "resolution" and row.met_at is not None:
            row.met_at = None
            _sla_event(ticket, actor, row.target, "reopened")
    refresh_schedule(ticket, rows, at)


def sync_pause(ticket, actor=None) -> None:
    """After a status change: pause the pausable running targets when the policy says this status
    pauses, resume paused ones otherwise (their due instant moves by the working time paused)."""
    rows = ticket_slas(ticket)
    if not rows:
        return
    at = now()
    policy = db.session.get(SlaPolicy, rows[0].policy_id) if rows[0].policy_id else None
    pausing = policy is not None and ticket.status in (policy.pause_statuses or [])
    changed = False
    for row in rows:
        if row.met_at is not None or not row.pausable:
            continue
        if pausing and row.paused_at is None and as_utc(row.due_at) > at:
            row.paused_at = at
            _sla_event(ticket, actor, row.target, "paused")
            changed = True
        elif not pausing and row.paused_at is not None:
            calendar = row_calendar(row)
            spent = working_time_between(calendar, as_utc(row.paused_at), at)
            row.paused_seconds += int(spent.total_seconds())
            row.paused_at = None
            row.due_at = _due(row, calendar)
            _sla_event(ticket, actor, row.target, "resumed")
            changed = True
    if changed:
        refresh_schedule(ticket, rows, at)


def sla_state(row: TicketSla, at: datetime | None = None) -> str:
    """on_track | at_risk (at least 75 % of the target's time has elapsed) | paused | met |
    breached (due passed unmet, whether or not the sweep has written `breached_at` yet).

    The share is of elapsed wall-clock time between start and due, which needs no calendar."""
    if row.met_at is not None:
        return "met"
    at = at or now()
    due, started = as_utc(row.due_at), as_utc(row.started_at)
    if row.breached_at is not None or (row.paused_at is None and at >= due):
        return "breached"
    if row.paused_at is not None:
        return "paused"
    total = (due - started).total_seconds()
    if total <= 0 or (at - started).total_seconds() >= AT_RISK_SHARE * total:
        return "at_risk"
    return "on_track"


SLA_TARGET_LABELS = {
    "first_response": _l("First response due"),
    "next_response": _l("Next response due"),
    "resolution": _l("Resolution due"),
}
SLA_STATE_LABELS = {
    "on_track": _l("On track"),
    "at_risk": _l("At risk"),
    "paused": _l("Paused"),
    "met": _l("Met"),
    "breached": _l("Breached"),
}
# what a customer is promised: the legal resolution deadline, not the internal targets
CUSTOMER_TARGETS = ("resolution",)


def visible_slas(ticket, *, staff: bool, at: datetime | None = None) -> list[tuple[TicketSla, str]]:
    """The ticket's targets with their state; customers see the resolution deadline only."""
    at = at or now()
    return [
        (row, sla_state(row, at))
        for row in ticket_slas(ticket)
        if staff or row.target in CUSTOMER_TARGETS
    ]


def shift_sla_rows(to_sim: dict[int, Callable[[datetime | None], datetime | None]]) -> None:
    """Demo only: move the targets of tickets whose timestamps were shifted onto a simulated
    timeline. Start, met and pause instants are shifted; due instants are recomputed from the
    shifted start on the row's calendar, because a business-hours deadline does not move rigidly;
    then the tickets' schedules (soonest due, next checks) are refreshed."""
    if not to_sim:
        return
    rows = db.session.scalars(
        sa.select(TicketSla)
        .where(TicketSla.ticket_id.in_(list(to_sim)))
        .options(joinedload(TicketSla.ticket))
    ).all()
    by_ticket: dict[int, list[TicketSla]] = {}
    for row in rows:
        shift = to_sim[row.ticket_id]
        row.started_at = as_utc(shift(row.started_at))
        row.met_at, row.paused_at = shift(row.met_at), shift(row.paused_at)
        row.due_at = _due(row, row_calendar(row))
        row.breached_at = None
        by_ticket.setdefault(row.ticket_id, []).append(row)
    for ticket_rows in by_ticket.values():
        refresh_schedule(ticket_rows[0].ticket, ticket_rows)
    db.session.flush()
