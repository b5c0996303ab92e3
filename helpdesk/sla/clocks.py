"""The SLA clocks of each ticket: apply and recompute its targets, mark them met, pause and resume,
the soonest due instant and each target's state (what queues, pages and the sweep read).

Services flush; the surface commits.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..core.clock import as_utc, now
from ..escalations.engine import next_check
from ..extensions import db
from ..tickets.events import record_event
from .calendars import (
    WorkingCalendar,
    add_working_time,
    working_time_between,
)
from .models import (
    SLA_TARGETS,
    SlaPolicy,
    TicketSla,
)
from .policies import match_policy
from .working import policy_calendar, row_calendar

log = logging.getLogger(__name__)

AT_RISK_SHARE = 0.75

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
    log.info("Ticket %s SLA %s %s", ticket.protocol, target, state)


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
        log.info("Ticket %s SLA policy %s applied", ticket.protocol or "(new)", policy.id)
    return policy


def recompute_sla(ticket, actor=None) -> SlaPolicy | None:
    """After a change of priority, category, kind or department: match again and move the due
    instants of the targets not met yet (met targets keep theirs). Records an "sla" event."""
    policy = match_policy(ticket)
    rows = {row.target: row for row in ticket_slas(ticket)}
    if _apply(ticket, policy, rows, actor) and policy is not None:
        record_event(ticket, None, "sla", new=policy.name, detail="recomputed")
        log.info("Ticket %s SLA recomputed on policy %s", ticket.protocol, policy.id)
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
