"""CTI endpoint for phone systems: POST /api/v1/calls with one event of a call.

Needs a token of an integration account (or an admin). Events are idempotent and may arrive in
any order; the answer is the call as it stands after the event.
"""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from ..channels.calls import record_call_event
from ..channels.models import CALL_EVENTS
from ..core.clock import now
from ..core.errors import NotAllowed, ValidationError
from ..core.permissions import can_integrate, is_staff
from ..core.unit import commit
from .auth import api_user
from .blueprint import bp
from .lookups import user_by_ref
from .parsing import Fields, json_object, parse_datetime
from .serializers import iso


def require_integration(user) -> None:
    if not can_integrate(user):
        raise NotAllowed()


def call_json(call) -> dict:
    return {
        "id": call.id,
        "provider": call.provider,
        "call_id": call.call_id,
        "state": call.state,
        "caller": call.caller_number,
        "caller_e164": call.caller_e164,
        "called": call.called_number,
        "customer": (
            {"id": call.customer.id, "name": call.customer.name} if call.customer else None
        ),
        "agent": (
            {"id": call.agent.id, "name": call.agent.name, "email": call.agent.email}
            if call.agent
            else None
        ),
        "ticket": call.ticket.protocol if call.ticket else None,
        "started_at": iso(call.started_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(call.ended_at),
        "duration_seconds": call.duration_seconds,
        "recording_ref": call.recording_ref,
    }


def _limited(f: Fields, name: str, limit: int, *, required: bool = False) -> str:
    value = (f.text(name, "") or "").strip()
    if required and not value:
        f.errors[name] = _("This field is required.")
    elif len(value) > limit:
        f.errors[name] = _("At most %(n)s characters.", n=limit)
    return value


@bp.post("/calls")
def call_event():
    user = api_user()
    require_integration(user)
    f = Fields(json_object())
    call_id = _limited(f, "call_id", 120, required=True)
    event = _limited(f, "event", 20, required=True)
    if event and event not in CALL_EVENTS:
        f.errors["event"] = _(
            "Unknown event. Use one of: %(values)s.", values=", ".join(CALL_EVENTS)
        )
    provider = _limited(f, "provider", 40) or "pbx"
    caller = _limited(f, "caller", 40)
    called = _limited(f, "called", 40)
    recording = _limited(f, "recording_ref", 500) or None
    agent_ref = f.ref("agent")
    duration = f.integer("duration")
    if duration is not None and not 0 <= duration <= 7 * 24 * 3600:
        f.errors["duration"] = _("Give the duration in seconds.")
    at = None
    raw_at = _limited(f, "at", 40)
    if raw_at:
        try:
            at = parse_datetime(raw_at, "at")
        except ValidationError as exc:
            f.errors["at"] = str(exc)
        else:  # a PBX clock is never days off: anything else is a wrong value, not a call
            if abs((at - now()).total_seconds()) > 2 * 86400:
                f.errors["at"] = _("Give the instant of the event (within two days of now).")
    f.check()
    agent = None
    if agent_ref is not None:
        agent = user_by_ref(agent_ref, "agent")
        if not is_staff(agent) or not agent.active:
            raise ValidationError(_("This person is not an active staff member."), field="agent")
    call, created = record_call_event(
        provider=provider,
        call_id=call_id,
        event=event,
        caller=caller,
        called=called,
        agent=agent,
        recording_ref=recording,
        at=at,
        duration=duration,
    )
    body = call_json(call)
    commit()
    return jsonify(body), 201 if created else 200
