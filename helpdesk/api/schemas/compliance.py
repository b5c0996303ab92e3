"""History requests (rule 4) and the data subject's export (LGPD)."""

from __future__ import annotations

from typing import Literal

from flask_babel import lazy_gettext as _l
from pydantic import Field

from ...compliance.models import REQUEST_KINDS, REQUEST_STATUSES
from ...tickets.models import CHANNELS
from .common import RequestBody, ResponseBody, When


class HistoryRequestInput(RequestBody):
    channel: str | None = Field(
        default=None,
        description=_l("Where the customer asked (staff only; default: api)."),
        json_schema_extra={"enum": [*CHANNELS, None]},
    )


class DataRequestOut(ResponseBody):
    id: int
    kind: Literal[REQUEST_KINDS]  # type: ignore[valid-type]
    status: Literal[REQUEST_STATUSES]  # type: ignore[valid-type]
    channel: str
    protocol: str | None = Field(description=_l("The tracked demand's protocol."))
    requested_at: When
    due_at: When = Field(description=_l("5 calendar days after the request."))
    fulfilled_at: When
    document: str | None = Field(description=_l("Where the PDF is, once fulfilled."))


class DataRequestList(ResponseBody):
    items: list[DataRequestOut]
