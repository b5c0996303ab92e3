"""A report's rows as CSV or XLSX: the same columns and order as its table.

Values are the numbers themselves (a percentage as 87.5, a duration in minutes), not the text the
page shows, so a spreadsheet can compute with them. Text cells that a spreadsheet would run as a
formula (= + - @) are written as text (CSV: prefixed with '; XLSX: written as strings).
"""

from __future__ import annotations

import csv
import io

import xlsxwriter
from flask_babel import gettext as _

from .registry import Result

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def header(result: Result) -> list[str]:
    out = []
    for c in result.report.columns:
        label = str(c.label)
        if c.kind == "minutes":
            label = _("%(column)s (minutes)", column=label)
        elif c.kind == "percent":
            label = _("%(column)s (%%)", column=label)
        out.append(label)
    return out


def _plain(value, kind: str):
    if value is None:
        return ""
    if kind == "minutes":
        return round(float(value), 1)
    if kind == "percent":
        return round(float(value), 1)
    return value


def _safe_text(value) -> str:
    text = str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def filename(result: Result, extension: str) -> str:
    p = result.params
    return f"{result.report.name}-{p.first.isoformat()}-{p.last.isoformat()}.{extension}"


def to_csv(result: Result) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header(result))
    for row in result.rows:
        writer.writerow(
            [
                _safe_text(row.get(c.key, ""))
                if c.kind in ("text", "date")
                else _plain(row.get(c.key), c.kind)
                for c in result.report.columns
            ]
        )
    return "\ufeff" + out.getvalue()  # a BOM: spreadsheets then read the accents right


def to_xlsx(result: Result) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = book.add_worksheet(result.report.name[:31])
    bold = book.add_format({"bold": True})
    decimal = book.add_format({"num_format": "0.0"})
    title = f"{result.report.title} · {result.params.first.isoformat()} – {result.params.last.isoformat()}"
    sheet.write_string(0, 0, title, bold)
    for col, label in enumerate(header(result)):
        sheet.write_string(2, col, label, bold)
        sheet.set_column(col, col, max(12, min(len(label) + 2, 40)))
    for r, row in enumerate(result.rows, start=3):
        for col, c in enumerate(result.report.columns):
            value = row.get(c.key)
            if value is None:
                continue
            if c.kind in ("text", "date"):
                sheet.write_string(r, col, str(value))
            elif c.kind in ("minutes", "percent"):
                sheet.write_number(r, col, round(float(value), 1), decimal)
            else:
                sheet.write_number(r, col, value)
    book.close()
    return buffer.getvalue()
