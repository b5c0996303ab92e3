"""Root-cause investigations: opening and changing one, linked tickets, CAPA actions, notices."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, Field, PlainValidator

from ...investigations.models import (
    ACTION_KINDS,
    ACTION_STATUSES,
    ISHIKAWA,
    LEVELS,
    NOTICE_LANGUAGES,
    STATUSES,
    VERDICTS,
)
from .common import Named, Ref, RequestBody, ResponseBody, When, Whole, invalid

LEVEL_NAMES = tuple(LEVELS.values())
Level = Literal[LEVEL_NAMES]  # type: ignore[valid-type]
Day = Annotated[str | None, Field(json_schema_extra={"format": "date"})]
NOTICE_KEY_LENGTH = 64  # the column holds 64


def _level(value: str | None) -> str:
    if value not in LEVEL_NAMES:  # null too: impact and urgency always have a level
        raise invalid(_("Use one of: low, medium, high."))
    return value


LevelInput = Annotated[
    str | None, AfterValidator(_level), Field(json_schema_extra={"enum": list(LEVEL_NAMES)})
]


def _templates(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or any(
        k not in NOTICE_LANGUAGES or not isinstance(v, str) for k, v in value.items()
    ):
        raise invalid(_("Give texts for pt_BR, es and en."))
    return value


def _key(value: str | None) -> str | None:
    if value is not None and len(value) > NOTICE_KEY_LENGTH:
        raise invalid(_("Please keep it under %(limit)s characters.", limit=NOTICE_KEY_LENGTH))
    return value


# requests ------------------------------------------------------------------------------------


class InvestigationFields(RequestBody):  # opened or changed with; fields left out stay
    title: str | None = None
    statement: str | None = None
    location: str | None = None
    since: Day = None
    customers_affected: Whole | None = None
    estimated_cost: Whole | None = None
    impact: LevelInput = None
    urgency: LevelInput = None
    owner: Ref | None = Field(default=None, description=_l("A supervisor's id or email."))
    department: Ref | None = None
    category: Ref | None = None
    keywords: str | None = None
    containment: str | None = None
    ishikawa: str | None = Field(default=None, json_schema_extra={"enum": [*ISHIKAWA, None]})
    subcategory: Whole | None = None
    root_cause: str | None = None
    evidence: str | None = None
    metric: str | None = None
    baseline: str | None = None
    target: str | None = None
    check_on: Day = None
    result: str | None = None
    verdict: str | None = Field(default=None, json_schema_extra={"enum": [*VERDICTS, None]})
    notice_pt_br: str | None = None
    notice_es: str | None = None
    notice_en: str | None = None


class InvestigationInput(InvestigationFields):
    tickets: list[str] | None = Field(default=None, description=_l("Protocols."))


class InvestigationChange(InvestigationFields):
    status: str | None = Field(default=None, json_schema_extra={"enum": [*STATUSES, None]})
    reason: str | None = Field(default=None, description=_l("Required to cancel or reopen."))


class ProtocolInput(RequestBody):
    protocol: str | None = None


class CapaActionInput(RequestBody):
    description: str | None = None
    kind: str | None = Field(default=None, json_schema_extra={"enum": [*ACTION_KINDS, None]})
    owner: Ref | None = None
    due_on: Day = None


class CapaActionChange(RequestBody):
    status: str | None = Field(
        default=None, json_schema_extra={"enum": ["open", "done", "cancelled"]}
    )
    evidence: str | None = None
    reason: str | None = None
    owner: Ref | None = None
    due_on: Day = None


class NoticeTemplates(ResponseBody):  # only documents the shape _templates checks
    pt_BR: str | None = None
    es: str | None = None
    en: str | None = None


class NoticeInput(RequestBody):
    templates: Annotated[
        dict[str, str] | None, PlainValidator(_templates, json_schema_input_type=NoticeTemplates)
    ] = None
    resolve: bool | None = None
    key: Annotated[str | None, AfterValidator(_key)] = Field(
        default=None, json_schema_extra={"maxLength": NOTICE_KEY_LENGTH}
    )


# responses -----------------------------------------------------------------------------------


class InvestigationPerson(ResponseBody):
    id: int
    name: str


class CapaAction(ResponseBody):
    id: int
    description: str
    kind: Literal[ACTION_KINDS]  # type: ignore[valid-type]
    status: Literal[ACTION_STATUSES]  # type: ignore[valid-type]
    owner: InvestigationPerson | None
    due_on: date | None
    overdue: bool
    done_at: When
    evidence: str
    created_at: When


class InvestigationLink(ResponseBody):
    protocol: str
    subject: str | None  # null when the viewer may not see the ticket
    status: str
    linked_at: When
    recurrence: bool


class InvestigationCategory(ResponseBody):
    id: int
    name: str
    label: str


class Why(ResponseBody):
    position: int
    text: str
    accepted: bool


class Effectiveness(ResponseBody):
    metric: str
    baseline: str
    target: str
    check_on: date | None
    result: str
    verdict: Literal[VERDICTS] | None  # type: ignore[valid-type]


class Notice(ResponseBody):
    pt_BR: str
    es: str
    en: str


class InvestigationLinks(ResponseBody):
    self: str


class Investigation(ResponseBody):
    number: str
    title: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    impact: Level
    urgency: Level
    owner: InvestigationPerson | None
    created_at: When
    updated_at: When
    closed_at: When
    links: InvestigationLinks
    # one investigation (read, opened, changed): the whole record
    statement: str | None = None
    location: str | None = None
    since: date | None = None
    customers_affected: int | None = None
    estimated_cost: int | None = None
    department: Named | None = None
    category: InvestigationCategory | None = None
    keywords: list[str] | None = None
    containment: str | None = None
    ishikawa: Literal[ISHIKAWA] | None = None  # type: ignore[valid-type]
    subcategory: Named | None = None
    whys: list[Why] | None = None
    root_cause: str | None = None
    evidence: str | None = None
    effectiveness: Effectiveness | None = None
    notice: Notice | None = None
    cancel_reason: str | None = None
    reopened_count: int | None = None
    tickets: list[InvestigationLink] | None = None
    recurrences: int | None = None
    actions: list[CapaAction] | None = None
    close_blockers: dict[str, str] | None = None
    allowed_transitions: list[Literal[STATUSES]] | None = None  # type: ignore[valid-type]


class InvestigationPage(ResponseBody):
    items: list[Investigation]
    next: str | None = Field(description=_l("Cursor of the next page."))


class InvestigationLinkList(ResponseBody):
    items: list[InvestigationLink]


class CapaActionList(ResponseBody):
    items: list[CapaAction]


class NoticeResult(ResponseBody):
    sent: int
    skipped: int
    already: int
