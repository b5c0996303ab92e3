"""CTI: calls built from the phone system's events, linked to the caller and to a demand.

Events are idempotent and tolerate any order: each one only fills in what it knows (the instant
it reports, the agent, the recording), never moves a call backwards, and the duration is computed
from the instants once the call has ended (talk time from answer to hang-up; 0 when missed).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.clock import as_utc, now
from ..core.errors import ValidationError
from ..core.logs import who
from ..customers.models import Customer, CustomerPhone
from ..customers.services import normalize_phone
from ..extensions import db
from ..tickets.events import record_event
from ..tickets.models import OPEN_STATUSES, Ticket
from .models import CALL_EVENTS, Call

log = logging.getLogger(__name__)

MIN_RETENTION_DAYS = 90
POP_WINDOW = timedelta(hours=4)  # a call never hung up (lost event) stops popping after this


def _e164(number: str) -> str | None:
    """The caller's number in E.164, or None for a withheld or unparseable one."""
    try:
        return normalize_phone(number) if number else None
    except ValidationError:
        return None


def _customer_for(e164: str | None) -> Customer | None:
    if not e164:
        return None
    return db.session.scalar(
        sa.select(Customer).join(CustomerPhone).where(CustomerPhone.number == e164)
    )


def record_call_event(
    *,
    provider: str,
    call_id: str,
    event: str,
    caller: str = "",
    called: str = "",
    agent: User | None = None,
    recording_ref: str | None = None,
    at: datetime | None = None,
    duration: int | None = None,
) -> tuple[Call, bool]:
    """Apply one PBX event; returns (call, created). Flushes, never commits."""
    if event not in CALL_EVENTS:
        raise ValidationError(
            _l("Unknown event. Use one of: %(values)s."),
            field="event",
            values=", ".join(CALL_EVENTS),
        )
    at = as_utc(at) if at else now()
    call = _find(provider, call_id)
    created = call is None
    if created:
        call = _create(provider, call_id, caller, called, at)
    was_ended = call.ended_at is not None
    _apply(call, event, at=at, caller=caller, called=called, agent=agent, duration=duration)
    if recording_ref:
        call.recording_ref = recording_ref[:500]
        call.recording_purged_at = None
    call.updated_at = now()
    db.session.flush()
    if call.ticket_id is not None and not was_ended and call.ended_at is not None:
        _note_on_ticket(call)
    log.info(
        "Call %s (%s %s): %s%s, ticket %s",
        call.id,
        provider,
        call_id,
        event,
        " (new)" if created else "",
        call.ticket_id,
    )
    return call, created


def _find(provider: str, call_id: str) -> Call | None:
    return db.session.scalar(
        sa.select(Call).where(Call.provider == provider, Call.call_id == call_id)
    )


def _create(provider: str, call_id: str, caller: str, called: str, at: datetime) -> Call:
    e164 = _e164(caller)
    call = Call(
        provider=provider,
        call_id=call_id,
        caller_number=(caller or "")[:40],
        caller_e164=e164,
        called_number=(called or "")[:40],
        customer=_customer_for(e164),
        started_at=at,
        created_at=now(),
    )
    # two events of a new call at once (ringing and answered posted together): the unique key
    # on (provider, call_id) decides, the loser continues on the winner's row
    try:
        with db.session.begin_nested():
            db.session.add(call)
            db.session.flush()
    except IntegrityError:
        call = _find(provider, call_id)
        if call is None:
            raise
    return call


def _apply(call: Call, event: str, *, at, caller, called, agent, duration) -> None:
    if caller and not call.caller_number:
        call.caller_number = caller[:40]
        call.caller_e164 = _e164(caller)
        if call.customer_id is None:
            call.customer = _customer_for(call.caller_e164)
    if called and not call.called_number:
        call.called_number = called[:40]
    if agent is not None and (call.agent_id is None or event in ("ringing", "answered")):
        call.agent_id = agent.id
        call.agent = agent
    started = as_utc(call.started_at)
    if at < started:  # a late "ringing" knows the real start
        call.started_at = at
    if event == "answered":
        if call.answered_at is None or at < as_utc(call.answered_at):
            call.answered_at = at
    elif event == "hung_up" and call.ended_at is None:
        call.ended_at = at
    if call.ended_at is not None:
        if duration is not None and duration >= 0:
            call.duration_seconds = duration
        elif call.answered_at is None:
            call.duration_seconds = 0
        else:
            seconds = (as_utc(call.ended_at) - as_utc(call.answered_at)).total_seconds()
            call.duration_seconds = max(0, int(round(seconds)))


def _note_on_ticket(call: Call) -> None:
    record_event(call.ticket, None, "call", field="ended", new=call.duration_seconds or 0)


def active_calls_for(agent: User) -> list[Call]:
    """The calls ringing or in progress for this agent (the console's pop)."""
    return list(
        db.session.scalars(
            sa.select(Call)
            .where(
                Call.agent_id == agent.id,
                Call.ended_at.is_(None),
                Call.started_at >= now() - POP_WINDOW,
            )
            .order_by(Call.started_at.desc(), Call.id.desc())
            .limit(5)
        )
    )


def open_demands(customer: Customer | None, limit: int = 10) -> list[Ticket]:
    if customer is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Ticket)
            .where(Ticket.customer_id == customer.id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .options(joinedload(Ticket.department))
            .limit(limit)
        )
    )


def link_call(call: Call, ticket: Ticket, actor: User) -> None:
    """Attach the call to a demand (a new one registered from the pop, or one it continues)."""
    if call.ticket_id == ticket.id:
        return
    if call.customer_id is not None and ticket.customer_id != call.customer_id:
        raise ValidationError(_l("This demand belongs to another customer."), field="protocol")
    call.ticket_id = ticket.id
    call.ticket = ticket
    if call.customer_id is None:
        call.customer_id = ticket.customer_id
    record_event(ticket, actor, "call", field="linked", new=call.caller_number or call.call_id)
    if call.ended_at is not None:
        _note_on_ticket(call)
    db.session.flush()
    log.info("Call %s linked to ticket %s by %s", call.id, ticket.protocol, who(actor))


def retention_days() -> int:
    return max(MIN_RETENTION_DAYS, int(current_app.config.get("CALL_RECORDING_RETENTION_DAYS", 90)))


def purge_recording_refs() -> int:
    """Forget recording references older than the retention (never fewer than 90 days)."""
    cutoff = now() - timedelta(days=retention_days())
    result = db.session.execute(
        sa.update(Call)
        .where(
            Call.recording_ref.is_not(None),
            Call.recording_purged_at.is_(None),
            Call.started_at < cutoff,
        )
        .values(recording_ref=None, recording_purged_at=now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        log.info("Call recordings past retention forgotten: %s", result.rowcount)
    return result.rowcount or 0
