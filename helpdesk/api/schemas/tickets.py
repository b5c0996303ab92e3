"""Tickets, their thread and history: what clients send and what they get back."""

from __future__ import annotations

from typing import Literal

from flask_babel import lazy_gettext as _l
from pydantic import Field

from ...tickets.models import CHANNELS, KINDS, PRIORITY_VALUES, STATUSES
from .common import Attachments, Named, Person, Ref, RequestBody, ResponseBody, When, ref

Priority = Literal[tuple(PRIORITY_VALUES)]  # type: ignore[valid-type]
SlaState = Literal["on_track", "at_risk", "paused", "met", "breached"]


def _enum(values, **extra) -> dict:
    """Documented values of a field the services check (their 400 names the valid ones)."""
    return {"enum": [*values, None], **extra}


# requests ------------------------------------------------------------------------------------


class CustomerInput(RequestBody):
    model_config = RequestBody.model_config | {
        "json_schema_extra": {
            "description": _l(
                "Found by document, email or phone (in that order) or created; "
                "give at least one of them."
            )
        }
    }

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    document: str | None = None


class TicketInput(RequestBody):
    kind: str | None = Field(default=None, json_schema_extra=_enum(KINDS))
    channel: str | None = Field(
        default=None,
        description=_l("Ignored for a customer's token (always api)."),
        json_schema_extra=_enum(CHANNELS, default="api"),
    )
    subject: str | None = Field(default=None, json_schema_extra={"maxLength": 200})
    description: str | None = Field(default=None, json_schema_extra={"maxLength": 20000})
    remedy: str | None = Field(default=None, json_schema_extra={"maxLength": 5000})
    category: Ref | None = None
    attachments: Attachments | None = None
    customer: CustomerInput | None = Field(
        default=None,
        description=_l("Required for staff tokens; ignored for a customer's token."),
    )


class TicketChange(RequestBody):
    status: str | None = Field(default=None, json_schema_extra=_enum(STATUSES))
    outcome: str | None = Field(default=None, description=_l("With status resolved."))
    priority: Priority | None = None
    assignee: Ref | None = Field(
        default=None, description=_l("A staff member's id or email; null unassigns.")
    )
    department: Ref | None = None
    reason: str | None = Field(default=None, description=_l("Required for a transfer."))
    tags: list[str] | None = Field(
        default=None, description=_l("The ticket's tags, replacing the ones it has.")
    )
    add_tags: list[str] | None = Field(default=None, description=_l("Tags to add."))
    remove_tags: list[str] | None = Field(default=None, description=_l("Tags to take off."))


class MessageInput(RequestBody):
    body: str | None = Field(default=None, json_schema_extra={"maxLength": 20000})
    internal: bool | None = Field(default=None, description=_l("Staff only."))
    channel: str | None = Field(default=None, json_schema_extra=_enum(CHANNELS, default="api"))
    attachments: Attachments | None = None


class MergeInput(RequestBody):
    into: str | None = Field(
        default=None,
        description=_l(
            "The protocol of the demand that survives (a merged one stands for its survivor)."
        ),
        json_schema_extra={"maxLength": 40},
    )
    reason: str | None = Field(default=None, json_schema_extra={"maxLength": 1000})


# responses -----------------------------------------------------------------------------------


class CategoryRef(ResponseBody):
    id: int
    name: str
    label: str


class Customer(ResponseBody):
    id: int
    name: str | None
    emails: list[str]
    phones: list[str] = Field(description="E.164")
    document: str | None = Field(default=None, description=_l("Staff only."))
    segment: str | None = Field(default=None, description=_l("Staff only."))
    is_key_account: bool | None = Field(default=None, description=_l("Staff only."))


class Attachment(ResponseBody):
    id: int
    filename: str
    content_type: str
    size: int
    message_id: int | None
    created_at: When


class SlaTarget(ResponseBody):
    due_at: When
    state: SlaState
    met_at: When


class Sla(ResponseBody):
    model_config = ResponseBody.model_config | {
        "json_schema_extra": {
            "description": _l(
                "Detail only. Each target's due instant and state; customers see the "
                "resolution deadline only."
            )
        }
    }

    first_response: SlaTarget | None = None
    next_response: SlaTarget | None = None
    resolution: SlaTarget | None = None


def _sla_inline(schema: dict) -> None:
    """The targets also listed on the field itself (readers look for ticket.sla.properties)."""
    schema["properties"] = {name: ref(SlaTarget) for name in Sla.model_fields}


class TicketLinks(ResponseBody):
    self: str
    messages: str
    events: str
    portal: str


class Ticket(ResponseBody):
    protocol: str
    kind: Literal[KINDS]  # type: ignore[valid-type]
    category: CategoryRef | None
    channel: Literal[CHANNELS]  # type: ignore[valid-type]
    subject: str
    description: str
    remedy: str | None
    status: Literal[STATUSES]  # type: ignore[valid-type]
    priority: Priority
    department: Named | None
    assignee: Person | None
    customer: Customer
    created_at: When
    updated_at: When
    first_response_at: When
    resolved_at: When
    closed_at: When
    customer_verdict: str | None
    escalation_level: Literal[0, 1, 2, 3] = Field(
        description=_l("0 not escalated, 1 supervision, 2 management, 3 ombudsman.")
    )
    links: TicketLinks
    tags: list[str] | None = Field(default=None, description=_l("Staff only. Names, sorted."))
    # detail only (one ticket, and the answer to a change or a registration)
    outcome: str | None = None
    attachments: list[Attachment] | None = None
    sla: Sla | None = Field(default=None, json_schema_extra=_sla_inline)
    # search results only (`GET /tickets?q=`)
    snippet: str | None = Field(
        default=None,
        description=_l(
            "In search results: where the words were found, HTML-escaped, each match inside <mark>."
        ),
    )


class TicketCreated(ResponseBody):  # the ticket moved out of the creator's scope since
    protocol: str


class TicketPage(ResponseBody):
    items: list[Ticket]
    next: str | None = Field(description=_l("Cursor of the next page."))


class Message(ResponseBody):
    id: int
    author_kind: Literal["customer", "agent", "system"]
    author_name: str | None
    internal: bool
    channel: str | None
    body: str
    created_at: When
    attachments: list[Attachment]


class MessageList(ResponseBody):
    items: list[Message]


class EventRule(ResponseBody):
    type: Literal["routing_rule", "escalation_rule"]
    id: int | None
    name: str | None


class Event(ResponseBody):
    id: int
    action: str
    field: str | None
    old_value: str | None
    new_value: str | None
    detail: str | None
    public: bool
    actor: Person | None
    actor_type: Literal["user", "customer", "system", "routing_rule", "escalation_rule"]
    rule: EventRule | None
    created_at: When


class EventList(ResponseBody):
    items: list[Event]


class CustomerList(ResponseBody):
    items: list[Customer]
