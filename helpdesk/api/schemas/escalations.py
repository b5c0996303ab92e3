"""Escalations: raising one on a ticket, deciding it, and what supervisors read."""

from __future__ import annotations

from typing import Literal

from flask_babel import lazy_gettext as _l
from pydantic import Field

from ...escalations.models import AGENT_REASONS, DECISIONS, ESCALATION_STATES, LEVELS, TRIGGERS
from ...sla.models import SLA_TARGETS
from ...tickets.models import PRIORITY_VALUES
from .common import Named, Person, Ref, RequestBody, ResponseBody, When, Whole

# requests ------------------------------------------------------------------------------------


class EscalationDecision(RequestBody):
    decision: str | None = Field(default=None, json_schema_extra={"enum": [*DECISIONS, None]})
    note: str | None = Field(
        default=None,
        description=_l("Required to instruct (the instruction) and to de-escalate."),
    )
    department: Ref | None = Field(default=None, description=_l("Reassign."))
    assignee: Ref | None = Field(default=None, description=_l("Reassign."))
    priority: str | None = Field(default=None, json_schema_extra={"enum": [*PRIORITY_VALUES, None]})
    investigation: str | None = Field(
        default=None,
        description=_l(
            "Investigate: link to this investigation (e.g. INV-00001); without it "
            "the ticket's own investigation is kept or a new one is opened."
        ),
    )


class EscalateInput(RequestBody):
    reason: str | None = Field(
        default=None,
        description=_l("Staff only (required)."),
        json_schema_extra={"enum": [*AGENT_REASONS, None]},
    )
    note: str | None = Field(default=None, description=_l("Required for staff."))
    level: Whole | None = Field(
        default=None,
        description=_l("Staff only; default one level up."),
        json_schema_extra={"enum": [*LEVELS, None]},
    )


class NoBody(RequestBody):
    pass


# responses -----------------------------------------------------------------------------------


class EscalationLinks(ResponseBody):
    self: str
    ticket: str


class Escalation(ResponseBody):
    id: int
    ticket: str = Field(description=_l("The ticket's protocol."))
    level: Literal[LEVELS]  # type: ignore[valid-type]
    previous_level: int
    trigger: Literal[TRIGGERS]  # type: ignore[valid-type]
    target: Literal[SLA_TARGETS] | None  # type: ignore[valid-type]
    reason: str
    note: str
    state: Literal[ESCALATION_STATES]  # type: ignore[valid-type]
    department: Named | None
    raised_at: When
    raised_by: Person | None
    ack_due_at: When
    acknowledged_at: When
    acknowledged_by: Person | None
    decision: Literal[DECISIONS] | None  # type: ignore[valid-type]
    decision_note: str
    decided_by: Person | None
    closed_at: When
    links: EscalationLinks


class EscalationPage(ResponseBody):
    items: list[Escalation]
    next: str | None = Field(description=_l("Cursor of the next page."))


class EscalationRaised(ResponseBody):
    ticket: str
    escalation_level: int
    escalation: Escalation | None = None  # supervisors only
