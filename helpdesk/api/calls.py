"""CTI endpoint for phone systems: POST /api/v1/calls with one event of a call.

Needs a token of an integration account (or an admin). Events are idempotent and may arrive in
any order; the answer is the call as it stands after the event.
"""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..channels.calls import record_call_event
from ..core.errors import NotAllowed, ValidationError
from ..core.permissions import can_integrate, is_staff
from ..core.unit import commit
from .auth import api_user
from .blueprint import bp
from .documented import documented, ok
from .lookups import user_by_ref
from .parsing import json_object
from .schemas.channels import Call as CallSchema
from .schemas.channels import CallEvent
from .serializers import iso
from .validation import parse_body


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


@bp.post("/calls")
@documented(
    "postCallEvent",
    "channels",
    _l("Report a phone call event (CTI)"),
    description=_l(
        "For phone systems: ringing, answered or hung_up. Events are idempotent and "
        "may arrive in any order. On ringing or answered the agent's console pops "
        "the caller's record and open demands. Integration or admin tokens."
    ),
    body=CallEvent,
    example={
        "call_id": "1718031234.42",
        "event": "ringing",
        "caller": "+5511987654321",
        "called": "08007771234",
        "agent": "ana@example.com",
    },
    responses={
        200: ok(CallSchema, description=_l("Applied to a known call.")),
        201: ok(CallSchema, description=_l("A new call.")),
    },
    errors=(400, 401, 403, 415, 422),
)
def call_event():
    user = api_user()
    require_integration(user)
    given = parse_body(CallEvent, json_object())
    agent_ref = given.agent
    agent = None
    if agent_ref is not None:
        agent = user_by_ref(agent_ref, "agent")
        if not is_staff(agent) or not agent.active:
            raise ValidationError(_("This person is not an active staff member."), field="agent")
    call, created = record_call_event(
        provider=given.provider or "pbx",
        call_id=given.call_id,
        event=given.event,
        caller=given.caller,
        called=given.called,
        agent=agent,
        recording_ref=given.recording_ref or None,
        at=given.at,
        duration=given.duration,
    )
    body = call_json(call)
    commit()
    return jsonify(body), 201 if created else 200
