"""The headline numbers a supervisor reads first (the dashboard's tiles, the weekly digest), each
taken from its report's rows, so a tile and its report never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from .catalog import get_report
from .params import Params
from .registry import Result, run_report

DASHBOARD = (
    "volume_by_day",
    "volume_by_channel",
    "backlog",
    "first_response_time",
    "sla_compliance",
    "csat_by_department",
    "customer_verdict",
    "ombudsman",
    "reopen_rate",
    "resolution_time",
)


@dataclass
class Headline:
    key: str
    label: Any
    value: float | int | None
    kind: str  # count | percent | minutes
    report: str  # the report that explains it


def _ratio(rows, part: str, whole: str) -> float | None:
    total = sum(r.get(whole) or 0 for r in rows)
    return round(100.0 * sum(r.get(part) or 0 for r in rows) / total, 1) if total else None


def _all_row(result: Result, key: str):
    row = next((r for r in result.rows if r["key"] is None), None)
    return None if row is None else row.get(key)


def run_dashboard(params: Params, names=DASHBOARD) -> dict[str, Result]:
    return {name: run_report(get_report(name), params) for name in names}


def headlines(results: dict[str, Result]) -> list[Headline]:
    r = results
    sla_rows = r["sla_compliance"].rows
    return [
        Headline(
            "demands",
            _l("Demands registered"),
            sum(x["count"] for x in r["volume_by_channel"].rows),
            "count",
            "volume_by_channel",
        ),
        Headline(
            "backlog",
            _l("Open now"),
            sum(x["total"] for x in r["backlog"].rows),
            "count",
            "backlog",
        ),
        Headline(
            "first_response",
            _l("First response (median)"),
            _all_row(r["first_response_time"], "median"),
            "minutes",
            "first_response_time",
        ),
        Headline(
            "resolution",
            _l("Resolution (median)"),
            _all_row(r["resolution_time"], "median"),
            "minutes",
            "resolution_time",
        ),
        Headline(
            "sla",
            _l("SLA met on time"),
            _ratio(
                [{**x, "all": x["on_time"] + x["late"] + x["breached"]} for x in sla_rows],
                "on_time",
                "all",
            ),
            "percent",
            "sla_compliance",
        ),
        Headline(
            "csat",
            _l("CSAT"),
            _ratio(r["csat_by_department"].rows, "satisfied", "rated"),
            "percent",
            "csat_by_department",
        ),
        Headline(
            "response_rate",
            _l("Survey response rate"),
            _ratio(r["csat_by_department"].rows, "rated", "resolved"),
            "percent",
            "csat_by_department",
        ),
        Headline(
            "verdict",
            _l("Resolved in the customer's word"),
            _ratio(r["customer_verdict"].rows, "resolved", "answered"),
            "percent",
            "customer_verdict",
        ),
        Headline(
            "ombudsman",
            _l("Reached the ombudsman"),
            _ratio(r["ombudsman"].rows, "ombudsman", "count"),
            "percent",
            "ombudsman",
        ),
        Headline(
            "reopen",
            _l("Reopen rate"),
            _ratio(r["reopen_rate"].rows, "reopened", "resolved"),
            "percent",
            "reopen_rate",
        ),
    ]
