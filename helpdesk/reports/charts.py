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

from flask_babel import gettext as _
from markupsafe import Markup, escape

from ..core.formatting import duration, number, percent
from .registry import Result

WIDTH = 400
ROW = 34  # one bar row: its label line and its bar
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


def _legend(labels: list[str]) -> tuple[list[str], float]:
    """The series' swatches and names, wrapped to the width; returns (svg parts, height)."""
    out, x, y = [], 0.0, 14.0
    for i, label in enumerate(labels):
        text = str(label)
        width = 26 + 7 * len(text)
        if x and x + width > WIDTH:
            x, y = 0.0, y + 18
        out.append(
            f'<rect class="series-{i}" x="{x:.1f}" y="{y - 10}" width="11" height="11" rx="2"/>'
        )
        out.append(f'<text class="legend" x="{x + 15:.1f}" y="{y}">{escape(text)}</text>')
        x += width
    return out, y + 10


def _label_text(label: str, y: float) -> str:
    text = str(label)
    if len(text) > 52:
        text = text[:51] + "…"
    return f'<text class="label" x="0" y="{y:.1f}">{escape(text)}</text>'


def _bars(result: Result, fmt: Callable, stacked: bool, grouped: bool) -> Markup | None:
    report = result.report
    series = report.chart.series
    rows = [r for r in result.rows if any(r.get(s) is not None for s in series)]
    if not any(r.get(s) for r in rows for s in series):  # all zero: nothing to draw
        return None
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
    body, y0 = _legend(labels) if has_legend else ([], 0)
    row_h = ROW + (10 * (len(series) - 1) if grouped else 0)
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
    return _svg(height, str(report.title), desc, body, f"chart-bars chart-{report.name}")


def line(
    result: Result, series: str, title: str, top: float | None = None, small: bool = False
) -> Markup | None:
    """A line over the rows (days): the SVG stretches to its box (non-scaling strokes), and the
    scale and the first and last day are HTML around it, so they never shrink with the width."""
    rows = result.rows
    if not rows:
        return None
    fmt = lambda v: format_value(v, result.report.chart.kind_of_values)  # noqa: E731
    values = [r.get(series) or 0 for r in rows]
    top = top or max(values) or 1
    w, h = 1000.0, 100.0
    step = w / max(len(values) - 1, 1)
    points = [(i * step, h - h * v / top) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    body = [
        f'<line class="guide" x1="0" y1="0.5" x2="{w}" y2="0.5" vector-effect="non-scaling-stroke"/>',
        f'<polygon class="area series-0" points="0,{h} {path} {w},{h}"/>',
        f'<polyline class="line" points="{path}" vector-effect="non-scaling-stroke"/>',
        f'<line class="axis" x1="0" y1="{h}" x2="{w}" y2="{h}" vector-effect="non-scaling-stroke"/>',
    ]
    for (x, _y), row, v in zip(points, rows, values, strict=True):
        body.append(
            f'<rect class="hit" x="{max(x - step / 2, 0):.1f}" y="0" width="{step:.1f}" '
            f'height="{h}"><title>{escape(row["label"])}: {escape(fmt(v))}</title></rect>'
        )
    n = next(_ids)
    desc = _(
        "%(first)s to %(last)s: at most %(max)s a day, %(total)s in all.",
        first=rows[0]["label"],
        last=rows[-1]["label"],
        max=fmt(max(values)),
        total=fmt(sum(values)),
    )
    svg = (
        f'<svg class="chart chart-line{" chart-small" if small else ""}" viewBox="0 0 {w:.0f} '
        f'{h:.0f}" preserveAspectRatio="none" role="img" aria-labelledby="chart-t{n} chart-d{n}" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="chart-t{n}">{escape(title)}</title>'
        f'<desc id="chart-d{n}">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )
    return Markup(  # noqa: S704 - every text above is escaped, numbers are ours
        f'<div class="line-chart"><span class="line-top">{escape(fmt(top))}</span>{svg}'
        f'<div class="line-axis"><span>{escape(rows[0]["label"])}</span>'
        f"<span>{escape(rows[-1]['label'])}</span></div></div>"
    )


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
