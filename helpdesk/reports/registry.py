"""The registry: one `Report` per report, read by every surface.

A report names its columns (key, label, kind of value), the chart a supervisor reads at a glance
(which columns, drawn how), and the function that computes its rows from a `Params`. Rows are
plain dicts: `key` (a machine value: a channel, a department id...), `label` (the text shown) and
one value per column; `drill` holds the ticket-search filters of the demands behind the row (or
None when no list shows them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .params import Params

# how a column's values are written: counts, percentages (0-100), durations in minutes, text
COLUMN_KINDS = ("text", "count", "percent", "minutes", "date")
CHART_KINDS = ("bar", "stacked", "line", "grouped", "multiples")


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy string
    kind: str = "count"


@dataclass(frozen=True)
class Chart:
    kind: str  # bar | stacked | line | grouped
    series: tuple[str, ...]  # column keys drawn (one per bar segment, line or group member)
    kind_of_values: str = "count"  # how the axis is written (count, percent, minutes)


@dataclass(frozen=True)
class Report:
    name: str
    title: Any
    description: Any
    group: str  # volume | time | quality (the dashboard's sections)
    columns: tuple[Column, ...]
    chart: Chart
    build: Callable[[Params], list[dict]] = field(repr=False)
    basis: Any = ""  # which demands a period selects ("registered in the period"...)
    filters: tuple[str, ...] = ("department", "channel", "kind")  # the filters it honours

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


@dataclass
class Result:
    report: Report
    params: Params
    rows: list[dict]


REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    assert report.name not in REPORTS, report.name
    assert report.chart.kind in CHART_KINDS
    assert all(c.kind in COLUMN_KINDS for c in report.columns)
    REPORTS[report.name] = report
    return report


GROUPS = ("volume", "time", "quality")


def run_report(report: Report, params: Params) -> Result:
    return Result(report, params, report.build(params))
