"""Reports over investigations: Pareto of root-cause categories, actions, recurrence, cycle time.

All figures are aggregate queries (a fixed number of statements, whatever the volume); the page
draws the Pareto as server-side SVG geometry computed here, and the CSV export has the same rows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

import sqlalchemy as sa

from ..core.clock import as_utc
from ..extensions import db
from .dates import day_start, today
from .models import ISHIKAWA_LABELS, CapaAction, Investigation, InvestigationTicket

UNCLASSIFIED = "unclassified"


@dataclass
class ParetoRow:
    key: str
    label: str
    count: int
    share: float = 0.0
    cumulative: float = 0.0


@dataclass
class Report:
    start: date
    end: date
    pareto: list[ParetoRow] = field(default_factory=list)
    linked: int = 0
    recurrences: int = 0
    open_actions: int = 0
    overdue_actions: int = 0
    proposed_actions: int = 0
    active: int = 0
    closed: int = 0
    mean_days: float | None = None
    median_days: float | None = None

    @property
    def recurrence_rate(self) -> float | None:
        return self.recurrences / self.linked if self.linked else None


def default_period() -> tuple[date, date]:
    end = today()
    return end - timedelta(days=89), end


def build_report(start: date, end: date) -> Report:
    if end < start:
        start, end = end, start
    lo, hi = day_start(start), day_start(end + timedelta(days=1))
    report = Report(start=start, end=end)
    in_period = sa.and_(InvestigationTicket.linked_at >= lo, InvestigationTicket.linked_at < hi)
    rows = db.session.execute(
        sa.select(
            Investigation.ishikawa,
            sa.func.count(InvestigationTicket.id),
            sa.func.sum(sa.case((InvestigationTicket.is_recurrence, 1), else_=0)),
        )
        .join(Investigation, Investigation.id == InvestigationTicket.investigation_id)
        .where(in_period)
        .group_by(Investigation.ishikawa)
    ).all()
    total = sum(count for _key, count, _rec in rows)
    report.linked = total
    report.recurrences = sum(int(rec or 0) for _key, _count, rec in rows)
    ordered = sorted(rows, key=lambda r: (-r[1], r[0] or "~"))
    running = 0
    for key, count, _rec in ordered:
        running += count
        label = ISHIKAWA_LABELS.get(key) if key else None
        report.pareto.append(
            ParetoRow(
                key=key or UNCLASSIFIED,
                label=str(label) if label else "",
                count=count,
                share=count / total if total else 0.0,
                cumulative=running / total if total else 0.0,
            )
        )
    counts = db.session.execute(
        sa.select(
            sa.func.sum(sa.case((CapaAction.status == "open", 1), else_=0)),
            sa.func.sum(
                sa.case(
                    (sa.and_(CapaAction.status == "open", CapaAction.due_on < today()), 1),
                    else_=0,
                )
            ),
            sa.func.sum(sa.case((CapaAction.status == "proposed", 1), else_=0)),
        )
    ).one()
    report.open_actions, report.overdue_actions, report.proposed_actions = (
        int(c or 0) for c in counts
    )
    report.active = db.session.scalar(
        sa.select(sa.func.count(Investigation.id)).where(
            Investigation.status.in_(("open", "analysing", "acting", "verifying"))
        )
    )
    spans = db.session.execute(
        sa.select(Investigation.created_at, Investigation.closed_at).where(
            Investigation.status == "closed",
            Investigation.closed_at >= lo,
            Investigation.closed_at < hi,
        )
    ).all()
    days = [(as_utc(c) - as_utc(o)).total_seconds() / 86400 for o, c in spans]
    report.closed = len(days)
    if days:
        report.mean_days = sum(days) / len(days)
        report.median_days = median(days)
    return report


def pareto_svg(report: Report, width: int = 640, height: int = 260) -> dict:
    """Bar and cumulative-line geometry for an inline SVG (no script, no style attribute)."""
    left, right, top, bottom = 40, 40, 16, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(report.pareto)
    top_count = max((r.count for r in report.pareto), default=0) or 1
    slot = plot_w / n if n else plot_w
    bars, points = [], []
    for i, row in enumerate(report.pareto):
        h = plot_h * row.count / top_count
        x = left + i * slot + slot * 0.15
        bars.append(
            {
                "x": round(x, 1),
                "y": round(top + plot_h - h, 1),
                "w": round(slot * 0.7, 1),
                "h": round(h, 1),
                "cx": round(left + i * slot + slot / 2, 1),
                "row": row,
            }
        )
        points.append(
            f"{left + i * slot + slot / 2:.1f},{top + plot_h - plot_h * row.cumulative:.1f}"
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "base": top + plot_h,
        "bars": bars,
        "line": " ".join(points),
        "max": top_count,
        "y80": round(top + plot_h * 0.2, 1),
    }


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["category", "tickets_linked", "share", "cumulative_share"])
    for row in report.pareto:
        writer.writerow([row.key, row.count, f"{row.share:.4f}", f"{row.cumulative:.4f}"])
    writer.writerow([])
    writer.writerow(["metric", "value"])
    writer.writerow(["period_start", report.start.isoformat()])
    writer.writerow(["period_end", report.end.isoformat()])
    writer.writerow(["tickets_linked", report.linked])
    writer.writerow(["recurrences", report.recurrences])
    rate = report.recurrence_rate
    writer.writerow(["recurrence_rate", "" if rate is None else f"{rate:.4f}"])
    writer.writerow(["open_actions", report.open_actions])
    writer.writerow(["overdue_actions", report.overdue_actions])
    writer.writerow(["proposed_actions", report.proposed_actions])
    writer.writerow(["active_investigations", report.active])
    writer.writerow(["closed_in_period", report.closed])
    mean = report.mean_days
    writer.writerow(["mean_days_open_to_closed", "" if mean is None else f"{mean:.1f}"])
    med = report.median_days
    writer.writerow(["median_days_open_to_closed", "" if med is None else f"{med:.1f}"])
    return out.getvalue()
