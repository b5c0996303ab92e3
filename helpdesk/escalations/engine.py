"""When does a ticket's target next need the sweep? The instants of escalation levels.

A rule's level is pending for a ticket while its level is above the ticket's current level and has
not fired on that ticket before (`Ticket.sla_levels_fired`, a bit per level). Its instant is:

- "elapsed": when `percent` of the target's working time has been used (pauses excluded);
- "after_breach": `offset_minutes` of wall-clock time after the due instant.

`next_check` is the soonest of the pending levels' instants and the breach itself; the sweep selects
rows whose `next_check_at` has come, by a partial index, so its cost follows the due rows only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import g, has_app_context

from ..core.clock import as_utc
from ..extensions import db
from ..sla.calendars import WorkingCalendar, add_working_time, working_time_between
from ..sla.working import row_calendar
from .models import EscalationRule


def level_bit(level: int) -> int:
    return 1 << level


def load_rules() -> list[EscalationRule]:
    """Active rules in order (few rows, one statement)."""
    return list(
        db.session.scalars(
            sa.select(EscalationRule)
            .where(EscalationRule.active.is_(True))
            .order_by(EscalationRule.position, EscalationRule.id)
        )
    )


def active_rules() -> list[EscalationRule]:
    """The active rules, read once per request or job (`g` lives as long as the app context)."""
    if not has_app_context():
        return load_rules()
    rules = g.get("_escalation_rules")
    if rules is None:
        rules = g._escalation_rules = load_rules()
    return rules


def forget_rules() -> None:
    """After a rule changed in this app context."""
    if has_app_context():
        g.pop("_escalation_rules", None)


def rule_applies(rule: EscalationRule, target: str, kind, department_id, priority) -> bool:
    return (
        rule.target == target
        and (rule.kind is None or rule.kind == kind)
        and (rule.department_id is None or rule.department_id == department_id)
        and (rule.priority is None or rule.priority == priority)
    )


def level_instant(
    rule: EscalationRule,
    calendar: WorkingCalendar,
    *,
    due_at: datetime,
    total_seconds: int,
    at: datetime,
) -> datetime:
    """When `rule` fires for a running target due at `due_at` (computed at instant `at`)."""
    due_at = as_utc(due_at)
    if rule.trigger == "after_breach":
        return due_at + timedelta(minutes=rule.offset_minutes or 0)
    threshold = total_seconds * (rule.percent or 0) / 100
    remaining = working_time_between(calendar, at, due_at).total_seconds() if at < due_at else 0.0
    used = total_seconds - remaining
    if used >= threshold:
        return at
    return add_working_time(calendar, at, timedelta(seconds=threshold - used))


def candidates(rules, calendar: WorkingCalendar, row, *, kind, department_id, priority, at):
    """[(instant, rule)] for the rules watching a running target `row` (target, due_at,
    total_seconds) of a ticket with these conditions; they do not depend on the ticket's level."""
    return [
        (
            level_instant(
                rule, calendar, due_at=row.due_at, total_seconds=row.total_seconds, at=at
            ),
            rule,
        )
        for rule in rules
        if rule_applies(rule, row.target, kind, department_id, priority)
    ]


def next_instant(found, *, level, fired, due_at, breached: bool, after=None):
    """The soonest of the levels in `found` that may still fire (above `level`, never fired; later
    than `after` when given) and of the breach, if not marked yet. None: nothing left to do."""
    instants = [
        instant
        for instant, rule in found
        if rule.level > (level or 0)
        and not (fired or 0) & level_bit(rule.level)
        and (after is None or instant > after)
    ]
    if not breached:
        instants.append(as_utc(due_at))
    return min(instants, default=None)


def next_check(row, ticket, at: datetime) -> datetime | None:
    """The next instant the sweep must look at a running `TicketSla` row of `ticket`."""
    rules = active_rules()
    needs_calendar = any(r.trigger == "elapsed" and r.target == row.target for r in rules)
    calendar = row_calendar(row) if needs_calendar else WorkingCalendar.always("UTC")
    found = candidates(
        rules,
        calendar,
        row,
        kind=ticket.kind,
        department_id=ticket.department_id,
        priority=ticket.priority,
        at=at,
    )
    return next_instant(
        found,
        level=ticket.escalation_level,
        fired=ticket.sla_levels_fired,
        due_at=row.due_at,
        breached=row.breached_at is not None,
    )
