"""Phone systems (one event of a call) and chat/WhatsApp/social connectors (one message)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, Field

from ...channels.models import CALL_EVENTS, CONNECTOR_CHANNELS
from ...core.clock import now
from ...core.errors import ValidationError
from ...tickets.models import KINDS
from ..parsing import parse_datetime
from .common import Ref, RequestBody, ResponseBody, When, Whole, invalid, one_of

MAX_CALL_SECONDS = 7 * 24 * 3600


def limited(n: int, *, required: bool = False):
    """Text stripped of surrounding blanks, at most `n` characters (null: empty)."""

    def check(value: str | None) -> str:
        value = (value or "").strip()
        if required and not value:
            raise invalid(_("This field is required."))
        if len(value) > n:
            raise invalid(_("At most %(n)s characters.", n=n))
        return value

    return AfterValidator(check)


def _duration(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= MAX_CALL_SECONDS:
        raise invalid(_("Give the duration in seconds."))
    return value


def _instant(value: str) -> datetime | None:
    """The event's instant: ISO 8601, within two days of now (a PBX clock is never days off)."""
    if not value:
        return None
    try:
        at = parse_datetime(value, "at")
    except ValidationError as exc:
        raise invalid(str(exc)) from None
    if abs((at - now()).total_seconds()) > 2 * 86400:
        raise invalid(_("Give the instant of the event (within two days of now)."))
    return at


def _kind(value: str | None) -> str | None:
    if value is not None and value not in KINDS:
        raise invalid(_("Unknown kind of demand."))
    return value


def _text(n: int, description=None, *, required: bool = False, **extra: Any):
    return Field(
        ... if required else None,
        description=description,
        json_schema_extra={"maxLength": n, **extra},
    )


# requests ------------------------------------------------------------------------------------


class CallEvent(RequestBody):
    call_id: Annotated[str | None, limited(120, required=True)] = _text(
        120, _l("The PBX's unique id of the call (e.g. Asterisk UNIQUEID)."), required=True
    )
    event: Annotated[
        str | None,
        limited(20, required=True),
        AfterValidator(one_of(CALL_EVENTS, _l("Unknown event. Use one of: %(values)s."))),
    ] = _text(20, required=True, enum=list(CALL_EVENTS))
    caller: Annotated[str | None, limited(40)] = _text(
        40, _l("The caller's number in any format; matched in E.164.")
    )
    called: Annotated[str | None, limited(40)] = _text(40, _l("The number dialled (0300/0800)."))
    agent: Ref | None = Field(
        default=None, description=_l("The staff member taking the call: id or email.")
    )
    recording_ref: Annotated[str | None, limited(500)] = _text(
        500, _l("Where the PBX keeps the recording (kept at least 90 days).")
    )
    provider: Annotated[str | None, limited(40)] = _text(
        40, _l("Call ids are unique per provider."), default="pbx"
    )
    at: Annotated[str | None, limited(40), AfterValidator(_instant)] = Field(
        default=None,
        description=_l("When it happened (default: when received)."),
        json_schema_extra={"format": "date-time"},
    )
    duration: Annotated[Whole | None, AfterValidator(_duration)] = Field(
        default=None,
        description=_l("Talk time in seconds, when the PBX knows it better."),
        json_schema_extra={"minimum": 0, "maximum": MAX_CALL_SECONDS},
    )


class ConversationMessage(RequestBody):
    channel: Annotated[
        str | None,
        AfterValidator(one_of(CONNECTOR_CHANNELS, _l("Unknown channel. Use one of: %(values)s."))),
    ] = Field(default=None, json_schema_extra={"enum": list(CONNECTOR_CHANNELS)})
    conversation_id: str | None = _text(200, _l("The connector's id of the conversation."))
    contact: str | None = _text(
        200,
        _l(
            "The contact's handle: a phone number for WhatsApp (any format, matched "
            "in E.164), a user name or id elsewhere."
        ),
    )
    text: str | None = _text(20000)
    name: Annotated[str | None, limited(200)] = _text(200)
    email: str | None = Field(default=None, description=_l("Optional: finds the customer."))
    kind: Annotated[str | None, AfterValidator(_kind)] = Field(
        default=None, json_schema_extra={"enum": list(KINDS), "default": "request"}
    )


# responses -----------------------------------------------------------------------------------


class CallCustomer(ResponseBody):
    id: int
    name: str | None


class CallAgent(ResponseBody):
    id: int
    name: str
    email: str


class Call(ResponseBody):
    id: int
    provider: str
    call_id: str
    state: Literal["ringing", "answered", "ended"]
    caller: str
    caller_e164: str | None
    called: str
    customer: CallCustomer | None
    agent: CallAgent | None
    ticket: str | None = Field(description=_l("Protocol, once linked."))
    started_at: When
    answered_at: When
    ended_at: When
    duration_seconds: int | None
    recording_ref: str | None


class ConversationRef(ResponseBody):
    id: int
    channel: Literal[CONNECTOR_CHANNELS]  # type: ignore[valid-type]
    conversation_id: str
    contact: str


class ConversationLinks(ResponseBody):
    ticket: str


class ConversationResult(ResponseBody):
    conversation: ConversationRef
    customer: CallCustomer
    protocol: str
    status: str
    message_id: int | None = Field(
        description=_l("The appended message; null when a new demand was opened.")
    )
    created_at: When
    links: ConversationLinks
