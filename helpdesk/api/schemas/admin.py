"""Departments, categories and routing rules: what administrators send and what staff read."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import AfterValidator, Field, PlainValidator

from ...customers.models import LIFECYCLE_STAGES, RELATIONSHIP_TYPES, SEGMENTS, VALUE_TIERS
from ...tickets.models import CHANNELS, KINDS, PRIORITY_VALUES
from .common import Named, Ref, RequestBody, ResponseBody, Whole, invalid, one_of

# requests ------------------------------------------------------------------------------------


class DepartmentInput(RequestBody):
    name: str | None = None
    description: str | None = None
    is_default: bool | None = None
    is_ombudsman: bool | None = None


class CategoryInput(RequestBody):
    name: str | None = None
    name_pt_br: str | None = None
    name_es: str | None = None
    kinds: list[str] | None = Field(
        default=None, json_schema_extra={"items": {"enum": list(KINDS)}}
    )
    active: bool | None = None
    position: Whole | None = None


def _keywords(value: Any) -> str | list[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise invalid(_("This field must be a list of strings."))


class RoutingRuleInput(RequestBody):
    model_config = RequestBody.model_config | {
        "json_schema_extra": {
            "description": _l("Conditions (all optional, all must match) and the outcome.")
        }
    }

    name: str | None = None
    active: bool | None = None
    kind: str | None = Field(default=None, json_schema_extra={"enum": [*KINDS, None]})
    category: Ref | None = None
    channel: str | None = Field(default=None, json_schema_extra={"enum": [*CHANNELS, None]})
    keywords: (
        Annotated[
            str | list[str], PlainValidator(_keywords, json_schema_input_type=str | list[str])
        ]
        | None
    ) = None
    segment: Annotated[
        str | None,
        AfterValidator(one_of(SEGMENTS, _l("Unknown segment. Use one of: %(values)s."))),
        Field(json_schema_extra={"enum": [*SEGMENTS, None]}),
    ] = None
    key_account: bool | None = None
    relationship_type: Literal[RELATIONSHIP_TYPES] | None = None  # type: ignore[valid-type]
    lifecycle_stage: Literal[LIFECYCLE_STAGES] | None = None  # type: ignore[valid-type]
    value_tier: Literal[VALUE_TIERS] | None = None  # type: ignore[valid-type]
    department: Ref | None = None
    priority: Annotated[
        str | None,
        AfterValidator(
            one_of(tuple(PRIORITY_VALUES), _l("Unknown priority. Use one of: %(values)s."))
        ),
        Field(json_schema_extra={"enum": [*PRIORITY_VALUES, None]}),
    ] = None
    agent: Ref | None = None
    position: Whole | None = None


# responses -----------------------------------------------------------------------------------


class Department(ResponseBody):
    id: int
    name: str
    description: str | None
    is_default: bool
    is_ombudsman: bool
    active: bool


class Category(ResponseBody):
    id: int
    name: str
    name_pt_br: str | None
    name_es: str | None
    label: str
    kinds: list[str]
    active: bool
    position: int


class RuleAgent(ResponseBody):
    id: int
    name: str
    email: str


class RoutingRule(ResponseBody):
    id: int
    position: int
    name: str
    active: bool
    kind: str | None
    category: int | None
    channel: str | None
    keywords: list[str]
    segment: str | None
    key_account: bool | None
    relationship_type: str | None
    lifecycle_stage: str | None
    value_tier: str | None
    department: Named | None
    priority: str | None
    agent: RuleAgent | None


class DepartmentList(ResponseBody):
    items: list[Department]


class CategoryList(ResponseBody):
    items: list[Category]


class RoutingRuleList(ResponseBody):
    items: list[RoutingRule]
