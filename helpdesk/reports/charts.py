"""Server-rendered SVG charts of a report's rows: horizontal bars, stacked bars, grouped bars, a
line, and small multiples (one small line per series, on one scale). No script, no CDN.

Every chart is an `<svg role="img">` with a `<title>` and a `<desc>` naming what it shows; the page
puts the report's table next to it (the accessible alternative and the exact numbers). Text is
escaped (markupsafe); colours come from classes in static/reports.css (`series-0`...), so the
Content-Security-Policy needs no inline style. Bars are laid out label-above-bar, so a chart stays
readable when the viewBox shrinks to a phone's width.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from markupsafe import Markup, escape

from ..core.formatting import duration, number, percent
from .registry import Result

WIDTH = 400
ROW = 34  # one bar row: its label line and its bar
LEGEND = 22
_ids = itertools.count(1)


def format_value(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "percent":
        return percent(value)
    if kind == "minutes":
        return duration(value) if value >= 1 else duration(1)
    if kind == "count":
        return number(value)
    return str(value)


def _svg(height: float, title: str, desc: str, body: list[str], css: str = "") -> Markup:
    n = next(_ids)
    # every text in `body` was escaped where it was written; numbers are formatted by us
    return Markup(  # noqa: S704
        f'<svg class="chart {css}" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-labelledby="chart-t{n} chart-d{n}" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMinYMin meet">'
        f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _legend(labels: list[str], y: float = 14) -> list[str]:
    out, x = [], 0.0
    for i, label in enumerate(labels):
        out.append(
            f'<rect class="series-{i}" x="{x:.1f}" y="{y - 9}" width="10" height="10" rx="2"/>'
        )
        text = str(label)
        out.append(f'<text class="legend" x="{x + 14:.1f}" y="{y}">{escape(text)}</text>')
        x += 24 + 6.5 * len(text)
    return out


def _label_text(label: str, y: float) -> str:
    text = str(label)
    if len(text) > 52:
        text = text[:51] + "…"
    return f'<text class="label" x="0" y="{y:.1f}">{escape(text)}</text>'


def _bars(result: Result, fmt: Callable, stacked: bool, grouped: bool) -> Markup | None:
    report = result.report
    series = report.chart.series
    rows = [r for r in result.rows if any(r.get(s) for s in series)]
    if not rows:
        return None
    labels = [str(report.column(s).label) for s in series]
    kind = report.chart.kind_of_values
    if stacked:
        top = max(sum(r.get(s) or 0 for s in series) for r in rows)
    else:
        top = max(max((r.get(s) or 0) for s in series) for r in rows)
    if kind == "percent":
        top = max(top, 100)
    top = top or 1
    bar_width = WIDTH - 70
    has_legend = len(series) > 1
    y0 = LEGEND if has_legend else 0
    row_h = ROW + (10 * (len(series) - 1) if grouped else 0)
    body = _legend(labels) if has_legend else []
    for i, row in enumerate(rows):
        y = y0 + i * row_h
        body.append(_label_text(row["label"], y + 12))
        bar_y = y + 16
        if stacked:
            x = 0.0
            for j, s in enumerate(series):
                w = bar_width * (row.get(s) or 0) / top
                if w > 0:
                    body.append(
                        f'<rect class="series-{j}" x="{x:.1f}" y="{bar_y}" width="{w:.1f}" height="12">'
                        f"<title>{escape(labels[j])}: {escape(fmt(row.get(s)))}</title></rect>"
                    )
                x += w
            total = sum(row.get(s) or 0 for s in series)
            body.append(
                f'<text class="value" x="{x + 4:.1f}" y="{bar_y + 10}">{escape(fmt(total))}</text>'
            )
        else:
            for j, s in enumerate(series):
                value = row.get(s)
                w = bar_width * (value or 0) / top
                by = bar_y + (j * 10 if grouped else 0)
                h = 9 if grouped else 12
                body.append(
                    f'<rect class="series-{j}" x="0" y="{by}" width="{max(w, 1):.1f}" height="{h}">'
                    f"<title>{escape(labels[j])}: {escape(fmt(value))}</title></rect>"
                )
                body.append(
                    f'<text class="value" x="{max(w, 1) + 4:.1f}" y="{by + h - 2}">{escape(fmt(value))}</text>'
                )
    height = y0 + len(rows) * row_h + 4
    desc = ", ".join(
        f"{r['label']}: " + "; ".join(fmt(r.get(s)) for s in series) for r in rows[:40]
    )
    return _svg(height, str(report.title), desc, body, "chart-bars")


def _line_points(values: list, top: float, width: float, height: float, left: float, top_y: float):
    n = len(values)
    step = width / max(n - 1, 1)
    return [
        (left + i * step, top_y + height - height * (v or 0) / top) for i, v in enumerate(values)
    ]


def line(
    result: Result, series: str, title: str, top: float | None = None, small: bool = False
) -> Markup | None:
    rows = result.rows
    if not rows:
        return None
    fmt = lambda v: format_value(v, result.report.chart.kind_of_values)  # noqa: E731
    values = [r.get(series) or 0 for r in rows]
    top = top or max(values) or 1
    height = 90 if small else 150
    left, plot_top, plot_h = 4.0, 16.0, height - 36
    points = _line_points(values, top, WIDTH - 8, plot_h, left, plot_top)
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    base = plot_top + plot_h
    body = [
        f'<line class="axis" x1="{left}" y1="{base:.1f}" x2="{WIDTH - 4}" y2="{base:.1f}"/>',
        f'<line class="guide" x1="{left}" y1="{plot_top:.1f}" x2="{WIDTH - 4}" y2="{plot_top:.1f}"/>',
        f'<text class="tick" x="{left}" y="{plot_top - 4:.1f}">{escape(fmt(top))}</text>',
        f'<polygon class="area series-0" points="{left},{base:.1f} {path} {points[-1][0]:.1f},{base:.1f}"/>',
        f'<polyline class="line" points="{path}"/>',
        f'<text class="tick" x="{left}" y="{height - 4}">{escape(rows[0]["label"])}</text>',
        f'<text class="tick" x="{WIDTH - 4}" y="{height - 4}" text-anchor="end">{escape(rows[-1]["label"])}</text>',
    ]
    if len(points) <= 62:
        for (x, y), row, v in zip(points, rows, values, strict=True):
            body.append(
                f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="2.5"><title>{escape(row["label"])}: {escape(fmt(v))}</title></circle>'
            )
    total = sum(values)
    desc = f"{title}: {rows[0]['label']} – {rows[-1]['label']}; max {fmt(max(values))}; total {fmt(total)}"
    return _svg(height, title, desc, body, "chart-line")


def multiples(result: Result) -> list[tuple[str, Markup]]:
    """One small line per series, all on the same scale (so their heights compare)."""
    series = result.report.chart.series
    top = max((r.get(s) or 0 for r in result.rows for s in series), default=0) or 1
    out = []
    for s in series:
        label = str(result.report.column(s).label)
        chart = line(result, s, f"{result.report.title} · {label}", top=top, small=True)
        if chart is not None:
            out.append((label, chart))
    return out


def render(result: Result) -> list[tuple[str, Markup]]:
    """The report's chart(s) as (caption, svg) pairs; empty when there is nothing to draw."""
    chart = result.report.chart
    fmt = lambda v: format_value(v, chart.kind_of_values)  # noqa: E731
    if chart.kind == "multiples":
        return multiples(result)
    if chart.kind == "line":
        svg = line(result, chart.series[0], str(result.report.title))
    else:
        svg = _bars(result, fmt, stacked=chart.kind == "stacked", grouped=chart.kind == "grouped")
    return [("", svg)] if svg is not None else []
