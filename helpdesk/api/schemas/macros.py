"""Tags, macros and bulk changes: what clients send and what they get back."""

from __future__ import annotations

from typing import Literal

from flask_babel import lazy_gettext as _l
from pydantic import Field

from ...bulk.services import MAX_TICKETS
from ...macros.models import SCOPES
from ...tickets.models import CHANNELS, KINDS, PRIORITY_VALUES, STATUSES
from ...tickets.tags import MAX_NAME
from .common import Named, Ref, RequestBody, ResponseBody, When

Priority = Literal[tuple(PRIORITY_VALUES)]  # type: ignore[valid-type]
Status = Literal[STATUSES]  # type: ignore[valid-type]
TagNames = list[str]


# tags ------------------------------------------------------------------------------------------


class Tag(ResponseBody):
    id: int
    name: str = Field(json_schema_extra={"maxLength": MAX_NAME})
    color: str = Field(json_schema_extra={"pattern": "^#[0-9a-f]{6}$"})
    curated: bool = Field(description=_l("Created by an administrator (not free)."))


class TagList(ResponseBody):
    items: list[Tag]
    free_tags: bool = Field(description=_l("Whether agents may create a tag by using a new name."))


# macros ----------------------------------------------------------------------------------------


class MacroActions(RequestBody):
    """What the macro changes besides replying; absent fields change nothing."""

    status: Status | None = None
    priority: Priority | None = None
    assignee_id: int | None = Field(default=None, description=_l("A staff member's id."))
    department_id: int | None = Field(default=None, description=_l("Transfer to this department."))
    transfer_reason: str | None = Field(
        default=None, description=_l("Required with department_id.")
    )
    tags: TagNames | None = Field(default=None, description=_l("Tags added to the ticket."))
    note: str | None = Field(default=None, description=_l("An internal note added to the ticket."))


class MacroInput(RequestBody):
    name: str = Field(json_schema_extra={"maxLength": 120})
    scope: Literal[SCOPES] = Field(  # type: ignore[valid-type]
        default="global",
        description=_l(
            "global: every agent (admins only); department: that department's agents "
            "(its supervisors); personal: yours."
        ),
    )
    department: Ref | None = Field(default=None, description=_l("With scope department."))
    body_pt_br: str | None = Field(
        default=None,
        description=_l(
            "The reply in Portuguese. Placeholders: {{ customer.first_name }}, "
            "{{ customer.name }}, {{ ticket.protocol }}, {{ ticket.subject }}, {{ agent.name }}, "
            "{{ agent.first_name }}, {{ sla.resolution_due }}."
        ),
    )
    body_es: str | None = None
    body_en: str | None = None
    actions: MacroActions | None = None
    active: bool | None = True


class MacroChange(RequestBody):
    name: str | None = None
    scope: Literal[SCOPES] | None = None  # type: ignore[valid-type]
    department: Ref | None = None
    body_pt_br: str | None = None
    body_es: str | None = None
    body_en: str | None = None
    actions: MacroActions | None = None
    active: bool | None = None


class MacroActionsOut(ResponseBody):
    status: Status | None = None
    priority: Priority | None = None
    assignee_id: int | None = None
    department_id: int | None = None
    transfer_reason: str | None = None
    tags: TagNames | None = None
    note: str | None = None


class Macro(ResponseBody):
    id: int
    name: str
    scope: Literal[SCOPES]  # type: ignore[valid-type]
    department: Named | None
    owner: Named | None
    body_pt_br: str
    body_es: str
    body_en: str
    actions: MacroActionsOut
    active: bool
    usage_count: int
    last_used_at: When


class MacroList(ResponseBody):
    items: list[Macro]


class MacroApply(RequestBody):
    body: str | None = Field(
        default=None,
        description=_l(
            "The reply to send instead of the macro's (e.g. the preview, edited); the same "
            "placeholders are filled."
        ),
        json_schema_extra={"maxLength": 20000},
    )


# bulk ------------------------------------------------------------------------------------------


class BulkFilter(RequestBody):
    """The list's filters: every ticket the token's owner may see that matches."""

    status: list[Status] | None = Field(default=None, description=_l("Default: open statuses."))
    department: Ref | None = None
    kind: Literal[KINDS] | None = None  # type: ignore[valid-type]
    channel: Literal[CHANNELS] | None = None  # type: ignore[valid-type]
    priority: Priority | None = None
    tag: str | None = None
    assignee: Ref | None = Field(default=None, description=_l('A staff id or email; "none".'))


class BulkChangesInput(RequestBody):
    status: Status | None = None
    outcome: str | None = Field(default=None, description=_l("With status resolved."))
    priority: Priority | None = None
    assignee: Ref | None = Field(
        default=None, description=_l('A staff member\'s id or email; "none" unassigns.')
    )
    department: Ref | None = Field(default=None, description=_l("Transfer (needs reason)."))
    reason: str | None = None
    add_tags: TagNames | None = None
    remove_tags: TagNames | None = None
    macro: int | None = Field(default=None, description=_l("A macro's id, applied to each."))
    investigation: str | None = Field(
        default=None, description=_l("Link each ticket to this investigation (INV-00001).")
    )


class BulkInput(RequestBody):
    protocols: list[str] | None = Field(default=None, json_schema_extra={"maxItems": MAX_TICKETS})
    filter: BulkFilter | None = Field(
        default=None,
        description=_l("Instead of protocols: every matching ticket (at most 500, else 400)."),
    )
    changes: BulkChangesInput


class BulkRefusal(ResponseBody):
    protocol: str
    reason: str


class BulkResult(ResponseBody):
    changed: list[str]
    unchanged: list[str] = Field(description=_l("Already as asked."))
    refused: list[BulkRefusal]
