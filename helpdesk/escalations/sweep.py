"""The escalation sweep: mark breaches and fire escalation levels, set-based and idempotent.

One sweep reads, by the partial index `ix_ticket_slas_next_check`, only the running targets whose
`next_check_at` has come (so its cost follows the number of due rows, not of tickets), in batches:

1. breaches: one conditional UPDATE ... RETURNING marks `breached_at = due_at` on rows not marked
   yet, and only the rows it changed get their "sla_breached" event;
2. levels: for each ticket, the highest pending level whose instant has passed (after downtime the
   ticket lands on the level it should be on, without replaying the lower ones); the records are
   inserted with ON CONFLICT DO NOTHING on the partial unique index (ticket, level) of SLA
   escalations, and only the rows actually inserted run their actions (priority, reassignment,
   ombudsman, notifications): a level fires once per ticket even when two sweeps run at once;
3. each processed row gets its next `next_check_at` (None when nothing is left to do).

Batches are serialized between processes (an advisory lock on PostgreSQL, the write lock on
SQLite, taken before reading), so concurrent sweeps neither deadlock nor repeat work; the unique
index and the conditional updates keep them correct even without that lock.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict, namedtuple
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from ..accounts.models import Department, User
from ..core.bulk import update_many
from ..core.clock import as_utc, now
from ..extensions import db
from ..sla.calendars import WorkingCalendar
from ..sla.models import BusinessCalendar, TicketSla
from ..sla.working import policy_calendar
from ..tickets.authors import escalation_rule_reason
from ..tickets.events import event_row, record_events
from ..tickets.models import PRIORITIES, Ticket
from ..webhooks.models import WebhookSubscription
from ..webhooks.services import emit_event
from .engine import candidates, level_bit, load_rules, next_instant
from .models import Escalation
from .services import (
    Raised,
    escalated_payload,
    notify_escalations,
    ombudsman_department,
    send_digests,
)

log = logging.getLogger(__name__)

BATCH = 5000

# the rules as plain tuples for the sweep's loops (ORM attribute access costs more than the maths)
_Rule = namedtuple(
    "_Rule",
    "id name target kind department_id priority trigger percent offset_minutes level "
    "notify_assignee notify_supervisors notify_user_ids set_priority reassign_department_id "
    "reassign_user_id to_ombudsman ack_minutes",
)
_LOCK_KEY = 0x5AC_E5CA  # the sweep's advisory lock on PostgreSQL


def _calendars() -> dict[int | None, WorkingCalendar]:
    calendars: dict[int | None, WorkingCalendar] = {None: WorkingCalendar.always("UTC")}
    rows = db.session.scalars(
        sa.select(BusinessCalendar).options(
            selectinload(BusinessCalendar.intervals), selectinload(BusinessCalendar.holidays)
        )
    )
    for row in rows:
        calendars[row.id] = policy_calendar(row)
    return calendars


def _serialize() -> None:
    """Take the sweep's lock for this transaction (released by commit or rollback)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
    else:  # SQLite: a write statement takes the database's write lock before we read
        db.session.execute(sa.text("UPDATE ticket_slas SET id = id WHERE 0 = 1"))


def _insert(table):
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


_DUE_COLUMNS = (
    TicketSla.id,
    TicketSla.ticket_id,
    TicketSla.target,
    TicketSla.due_at,
    TicketSla.breached_at,
    TicketSla.calendar_id,
    TicketSla.total_seconds,
    Ticket.kind,
    Ticket.department_id,
    Ticket.priority,
    Ticket.assignee_id,
    Ticket.escalation_level,
    Ticket.sla_levels_fired,
    Ticket.protocol,
    Ticket.subject,
)


def _due_rows(at: datetime, limit: int):
    return db.session.execute(
        sa.select(*_DUE_COLUMNS)
        .join(Ticket, Ticket.id == TicketSla.ticket_id)
        .where(TicketSla.next_check_at.is_not(None), TicketSla.next_check_at <= at)
        .order_by(TicketSla.next_check_at, TicketSla.id)
        .limit(limit)
    ).all()


def sweep(at: datetime | None = None, *, batch: int = BATCH, commit: bool = True) -> dict:
    """One sweep at instant `at` (default now). Returns counts: rows examined, breaches marked,
    escalations raised (by level), emails queued. Commits after each batch unless told not to."""
    at = as_utc(at or now())
    rules = [_Rule(*(getattr(r, f) for f in _Rule._fields)) for r in load_rules()]
    rules_by_id = {rule.id: rule for rule in rules}
    calendars = _calendars()
    totals: Counter = Counter()
    seen: set[int] = set()
    digests: dict[int, list] = defaultdict(list)  # recipient -> escalations, emailed at the end
    while True:
        for attempt in range(5):
            try:
                if commit:
                    _serialize()
                rows = [r for r in _due_rows(at, batch) if r.id not in seen]
                if not rows:
                    break
                counts, notified = _process(rows, at, rules, rules_by_id, calendars)
                if commit:
                    db.session.commit()
                break
            except OperationalError:  # SQLite busy snapshot, PostgreSQL serialization: retry
                db.session.rollback()
                if attempt == 4:
                    raise
                log.warning("sweep batch conflicted, retrying")
        else:  # pragma: no cover - the loop always breaks
            break
        if not rows:
            break
        seen.update(r.id for r in rows)
        totals.update(counts)
        for user_id, items in notified.items():
            digests[user_id].extend(items)
        if len(rows) < batch:
            break
    if digests:  # one email per recipient for the whole sweep
        send_digests(digests)
    if commit:  # also ends the last (empty) batch's transaction and its lock
        db.session.commit()
    if totals:  # a sweep with nothing due says nothing (it runs every minute)
        log.info("SLA sweep at %s: %s", at.isoformat(), dict(totals))
    return dict(totals)


def _process(rows, at: datetime, rules, rules_by_id, calendars) -> tuple[Counter, dict]:
    counts: Counter = Counter(examined=len(rows))
    # 1. breaches (exactly once: only rows this statement changed get an event)
    overdue = [r.id for r in rows if r.breached_at is None and as_utc(r.due_at) <= at]
    breached: dict[int, datetime] = {}
    if overdue:
        changed = db.session.execute(
            sa.update(TicketSla)
            .where(TicketSla.id.in_(overdue), TicketSla.breached_at.is_(None))
            .values(breached_at=TicketSla.due_at)
            .returning(TicketSla.id, TicketSla.ticket_id, TicketSla.target, TicketSla.due_at)
            .execution_options(synchronize_session=False)
        ).all()
        events = []
        for row_id, ticket_id, target, due_at in changed:
            breached[row_id] = due_at
            events.append(event_row(ticket_id, "sla_breached", at, field=target))
        record_events(events)
        counts["breached"] = len(changed)

    # 2. the level each ticket should now be on: each row's matching rules with their instants
    # (computed once; they do not depend on the ticket's level)
    found: dict[int, list] = {}
    for row in rows:
        calendar = calendars.get(row.calendar_id) or calendars[None]
        found[row.id] = candidates(
            rules,
            calendar,
            row,
            kind=row.kind,
            department_id=row.department_id,
            priority=row.priority,
            at=at,
        )
    firing: dict[int, tuple] = {}  # ticket id -> (rule, row)
    for row in rows:
        level, fired = row.escalation_level or 0, row.sla_levels_fired or 0
        best = firing.get(row.ticket_id)
        for instant, rule in found[row.id]:
            if (
                instant <= at
                and rule.level > level
                and not fired & level_bit(rule.level)
                and (best is None or rule.level > best[0].level)
            ):
                best = (rule, row)
        if best is not None:
            firing[row.ticket_id] = best

    raised, notified = _fire(firing, at, rules_by_id) if firing else ([], {})
    counts["escalated"] = len(raised)
    for escalation in raised:
        counts[f"level_{escalation.level}"] += 1

    # 3. the next check of every row examined: its next pending level or its breach, if to come
    fired_level = {e.ticket_id: e.level for e in raised}
    updates: list[tuple] = []
    for row in rows:
        new = fired_level.get(row.ticket_id, 0)
        level = max(row.escalation_level or 0, new)
        fired = (row.sla_levels_fired or 0) | (level_bit(new) if new else 0)
        following = next_instant(
            found[row.id],
            level=level,
            fired=fired,
            due_at=row.due_at,
            breached=row.breached_at is not None or row.id in breached,
            after=at,
        )
        updates.append((following, row.id))
    update_many(TicketSla.__table__, ("next_check_at",), updates)
    db.session.flush()
    return counts, notified


def _fire(firing: dict[int, tuple], at: datetime, rules_by_id) -> tuple[list, dict]:
    """Insert the escalation records (duplicates ignored) and run the actions of the new ones."""
    values = []
    for ticket_id in sorted(firing):  # one order for every sweep: no lock-order deadlock
        rule, row = firing[ticket_id]
        values.append(
            {
                "ticket_id": ticket_id,
                "level": rule.level,
                "previous_level": row.escalation_level or 0,
                "trigger": "sla",
                "target": row.target,
                "rule_id": rule.id,
                "reason": row.target,
                "note": "",
                "department_id": row.department_id,
                "raised_at": at,
                "ack_due_at": at + timedelta(minutes=rule.ack_minutes or 240),
            }
        )
    table = Escalation.__table__
    # executemany with RETURNING (SQLAlchemy's "insertmanyvalues"): one cached statement, rows
    # sent in a few multi-row batches; duplicates are skipped and return nothing
    inserted = db.session.execute(
        _insert(table)
        .on_conflict_do_nothing(
            index_elements=["ticket_id", "level"], index_where=sa.text("trigger = 'sla'")
        )
        .returning(table.c.id, table.c.ticket_id),
        values,
    ).all()
    if not inserted:
        return [], {}
    tickets = [ticket_id for _, ticket_id in inserted]

    ombudsman = None
    if any(firing[t][0].to_ombudsman for t in tickets):
        ombudsman = ombudsman_department()
    departments = {
        d.id: d
        for d in db.session.scalars(
            sa.select(Department).where(
                Department.id.in_(
                    {firing[t][1].department_id for t in tickets}
                    | {firing[t][0].reassign_department_id for t in tickets}
                    | ({ombudsman.id} if ombudsman else set())
                )
            )
        )
    }
    people = dict(  # names of the people rules assign to, for the history ("assigned it to Ana")
        db.session.execute(
            sa.select(User.id, User.name).where(
                User.id.in_({firing[t][0].reassign_user_id for t in tickets} - {None})
            )
        ).all()
        if any(firing[t][0].reassign_user_id for t in tickets)
        else ()
    )
    ticket_updates, events = [], []
    for ticket_id in tickets:
        rule, row = firing[ticket_id]
        change = {
            "b_id": ticket_id,
            "b_level": rule.level,
            "b_bit": level_bit(rule.level),
            "b_priority": row.priority,
            "b_department": row.department_id,
            "b_assignee": row.assignee_id,
        }
        events.append(
            event_row(
                ticket_id,
                "escalated",
                at,
                field="level",
                old=row.escalation_level or 0,
                new=rule.level,
                detail=row.target,
            )
        )
        if rule.set_priority and rule.set_priority > row.priority:
            change["b_priority"] = rule.set_priority
            events.append(
                event_row(
                    ticket_id,
                    "priority",
                    at,
                    field="priority",
                    old=PRIORITIES[row.priority],
                    new=PRIORITIES[rule.set_priority],
                    detail=escalation_rule_reason(rule.id, rule.name),
                )
            )
        to_department = None
        if rule.to_ombudsman and ombudsman is not None:
            to_department = ombudsman
        elif rule.reassign_department_id:
            to_department = departments.get(rule.reassign_department_id)
        if to_department is not None and to_department.id != row.department_id:
            change["b_department"], change["b_assignee"] = to_department.id, None
            old = departments.get(row.department_id)
            events.append(
                event_row(
                    ticket_id,
                    "transferred",
                    at,
                    field="department",
                    old=old.name if old else None,
                    new=to_department.name,
                    detail=escalation_rule_reason(rule.id, rule.name),
                )
            )
        if rule.reassign_user_id and rule.reassign_user_id != change["b_assignee"]:
            change["b_assignee"] = rule.reassign_user_id
            events.append(
                event_row(
                    ticket_id,
                    "assigned",
                    at,
                    field="assignee",
                    new=people.get(rule.reassign_user_id),
                    detail=escalation_rule_reason(rule.id, rule.name),
                )
            )
        ticket_updates.append(change)
    # one UPDATE per set of changed columns: an index is rewritten only for what really changed
    table = Ticket.__table__
    optional = {
        "priority": "b_priority",
        "department_id": "b_department",
        "assignee_id": "b_assignee",
    }
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for change in ticket_updates:
        row = firing[change["b_id"]][1]
        before = {"priority": row.priority, "department_id": row.department_id,
                  "assignee_id": row.assignee_id}  # fmt: skip
        groups[tuple(c for c, key in optional.items() if change[key] != before[c])].append(change)
    for changed, params in groups.items():
        update_many(
            table,
            ("escalation_level", "sla_levels_fired", "updated_at", *changed),
            [
                (
                    p["b_level"],
                    p["b_bit"],
                    at,
                    *(p[optional[c]] for c in changed),
                    p["b_id"],
                    p["b_level"],
                )
                for p in params
            ],  # fmt: skip
            assign={"sla_levels_fired": "sla_levels_fired | {}"},
            guard="escalation_level < {}",
        )
    record_events(events)
    raised = [
        Raised(
            id=escalation_id,
            ticket_id=ticket_id,
            protocol=firing[ticket_id][1].protocol,
            subject=firing[ticket_id][1].subject,
            level=firing[ticket_id][0].level,
            reason=firing[ticket_id][1].target,
            department_id=firing[ticket_id][1].department_id,
            ticket_department_id=change["b_department"],
            assignee_id=change["b_assignee"],
            raised_at=at,
            ack_due_at=at + timedelta(minutes=firing[ticket_id][0].ack_minutes or 240),
            rule_id=firing[ticket_id][0].id,
        )
        for (escalation_id, ticket_id), change in zip(inserted, ticket_updates, strict=True)
    ]
    by_rule: dict[tuple, list[str]] = defaultdict(list)
    for item in raised:  # one line per rule and batch (a line per ticket cost ~40 µs each)
        by_rule[item.rule_id, item.level, item.reason].append(f"{item.protocol} ({item.id})")
    for (rule_id, level, reason), tickets_raised in by_rule.items():
        log.info(
            "%s ticket(s) escalated to level %s by rule %s (%s): %s",
            len(tickets_raised),
            level,
            rule_id,
            reason,
            ", ".join(tickets_raised),
        )
    _emit_webhooks(raised)
    return raised, notify_escalations(raised, rules=rules_by_id, email=False)


def _emit_webhooks(raised) -> None:
    """A "ticket.escalated" webhook event per escalation, when someone subscribed to it (one
    cheap query otherwise)."""
    subscribed = any(
        "ticket.escalated" in (events or [])
        for events in db.session.scalars(
            sa.select(WebhookSubscription.events).where(WebhookSubscription.active.is_(True))
        )
    )
    if not subscribed or not raised:
        return
    tickets = {
        t.id: t
        for t in db.session.scalars(
            sa.select(Ticket)
            .where(Ticket.id.in_([item.ticket_id for item in raised]))
            .execution_options(populate_existing=True)
        )
    }
    for item in raised:
        data = escalated_payload(item.id, item.level, "sla", item.reason)
        emit_event(tickets[item.ticket_id], "ticket.escalated", data)
