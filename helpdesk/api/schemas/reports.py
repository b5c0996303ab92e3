"""Reports: the list of reports and one report's rows for a period."""

from __future__ import annotations

from typing import Literal

from flask_babel import lazy_gettext as _l
from pydantic import Field

from ...reports.registry import COLUMN_KINDS
from .common import ResponseBody

Scalar = str | int | float | None


class ReportColumn(ResponseBody):
    key: str
    label: str
    kind: str = Field(
        description=_l(
            "count; percent (0 to 100); minutes; text; date (YYYY-MM-DD in the period's time zone)."
        ),
        json_schema_extra={"enum": list(COLUMN_KINDS)},
    )


class ReportLinks(ResponseBody):
    self: str
    csv: str


class ReportSummary(ResponseBody):
    name: str
    title: str
    description: str
    group: Literal["volume", "time", "quality"]
    basis: str = Field(description=_l("Which demands a period selects."))
    filters: list[str] = Field(description=_l("The filters this report honours."))
    columns: list[ReportColumn]
    links: ReportLinks


class ReportList(ResponseBody):
    items: list[ReportSummary]


class ReportPeriod(ResponseBody):
    first: str = Field(description=_l("The first day (YYYY-MM-DD), in time_zone."))
    last: str = Field(description=_l("The last day, included."))
    time_zone: str
    start: str = Field(description=_l("The period as UTC instants: [start, end)."))
    end: str


class ReportFilters(ResponseBody):
    department: int | None
    channel: str | None
    kind: str | None


class ReportResult(ResponseBody):
    name: str
    title: str
    period: ReportPeriod
    filters: ReportFilters
    columns: list[ReportColumn]
    rows: list[dict[str, Scalar]] = Field(
        description=_l(
            "One object per row: `key` (a channel, a department id...; null for the row of "
            "everything), `label` and one value per column (null: nothing to measure)."
        )
    )
    links: ReportLinks
