"""The customer record (customer 360): what staff read and change."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask_babel import lazy_gettext as _l
from pydantic import Field

from ...customers.models import LIFECYCLE_STAGES, RELATIONSHIP_TYPES, SEGMENTS, VALUE_TIERS
from ...customers.profile import PREFERRED_CHANNELS, TEXT_LIMIT
from .common import RequestBody, ResponseBody

RelationshipType = Literal[RELATIONSHIP_TYPES]  # type: ignore[valid-type]
LifecycleStage = Literal[LIFECYCLE_STAGES]  # type: ignore[valid-type]
ValueTier = Literal[VALUE_TIERS]  # type: ignore[valid-type]
Segment = Literal[SEGMENTS]  # type: ignore[valid-type]
Channel = Literal[PREFERRED_CHANNELS]  # type: ignore[valid-type]


class CustomerRecord(ResponseBody):
    id: int
    name: str
    emails: list[str]
    phones: list[str] = Field(description="E.164")
    document: str | None
    segment: str
    is_key_account: bool
    key_account_agent_id: int | None
    relationship_type: str | None
    lifecycle_stage: str | None
    value_tier: str | None
    preferred_channel: str | None
    locale: str | None
    customer_notes: str
    customer_important_dates: str
    at_risk_since: datetime | None


class CustomerChange(RequestBody):
    """Absent fields change nothing; null clears a field that may be empty."""

    relationship_type: RelationshipType | None = None
    lifecycle_stage: LifecycleStage | None = None
    value_tier: ValueTier | None = None
    segment: Segment | None = None
    is_key_account: bool | None = None
    key_account_agent_id: int | None = Field(
        default=None, description=_l("The account manager: a staff member's id.")
    )
    preferred_channel: Channel | None = None
    locale: str | None = Field(default=None, json_schema_extra={"maxLength": 10})
    customer_notes: str | None = Field(default=None, max_length=TEXT_LIMIT)
    customer_important_dates: str | None = Field(
        default=None,
        max_length=TEXT_LIMIT,
        description=_l("Dates that matter to the customer (birthday, contract renewal...)."),
    )
