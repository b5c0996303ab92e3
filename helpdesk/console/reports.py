"""The supervisors' dashboard and report pages: headline tiles and charts for the period, each
report as chart + table + CSV/XLSX export, and a link from every row to the demands behind it
(the console search with the same filters).

Supervisors (their departments) and admins (all); an agent gets 403. Everything the pages show
comes from helpdesk.reports (one definition per report, shared with the API and the digest).
"""

from __future__ import annotations

from flask import Response, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from ..core.errors import ValidationError
from ..core.formatting import local_date
from ..reports import charts, export
from ..reports.access import can_read_reports, params_for, reader_departments
from ..reports.catalog import all_reports, get_report
from ..reports.headline import headlines, run_dashboard
from ..reports.params import FILTER_KEYS
from ..reports.registry import run_report
from ..tickets.models import CHANNEL_LABELS, KIND_LABELS
from .blueprint import bp
from .supervision import _request_now, _user_zone

GROUPS = ("volume", "time", "quality")
FORMATS = ("html", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_reader() -> None:
    if not can_read_reports(current_user):
        abort(403)


def _read_params(departments):
    """(params, None) or (None, {field: message}) for the request's query string."""
    try:
        return (
            params_for(
                current_user,
                request.args,
                zone=_user_zone(),
                at=_request_now(),
                locale=str(get_locale() or ""),
                departments=departments,
            ),
            {},
        )
    except ValidationError as error:
        return None, {error.field or "from": str(error)}


def _page_context(departments, params, errors) -> dict:
    selected = {k: request.args.get(k, "")[:10] for k in ("from", "to", *FILTER_KEYS)}
    if params is not None:
        selected["from"], selected["to"] = params.first.isoformat(), params.last.isoformat()
    return {
        "departments": departments,
        "selected": selected,
        "errors": errors,
        "params": params,
        "period": (local_date(params.first), local_date(params.last)) if params else None,
        "channel_labels": CHANNEL_LABELS,
        "kind_labels": KIND_LABELS,
        "reports_by_group": {g: [r for r in all_reports() if r.group == g] for g in GROUPS},
        "format_value": charts.format_value,
        "drill_url": lambda row: (
            url_for("console.queue", **row["drill"]) if row.get("drill") else None
        ),
    }


@bp.get("/reports")
def reports_dashboard():
    _require_reader()
    departments = reader_departments(current_user)
    params, errors = _read_params(departments)
    context = _page_context(departments, params, errors)
    if params is None:
        return render_template(
            "console/reports/dashboard.html", results={}, tiles=[], **context
        ), 400
    results = run_dashboard(params)
    per_day = results["volume_by_day"]
    trend = charts.line(per_day, "total", str(per_day.report.title))
    return render_template(
        "console/reports/dashboard.html",
        results=results,
        tiles=headlines(results),
        trend=trend,
        charts={name: charts.render(result) for name, result in results.items()},
        **context,
    )


@bp.get("/reports/<name>")
def report_page(name: str):
    _require_reader()
    report = get_report(name)
    if report is None:
        abort(404)
    output = request.args.get("format", "html")
    if output not in FORMATS:
        abort(400)
    departments = reader_departments(current_user)
    params, errors = _read_params(departments)
    context = _page_context(departments, params, errors)
    if params is None:
        return render_template(
            "console/reports/report.html", report=report, result=None, **context
        ), 400
    result = run_report(report, params)
    if output == "csv":
        return Response(
            export.to_csv(result),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="{export.filename(result, "csv")}"'
            },
        )
    if output == "xlsx":
        return Response(
            export.to_xlsx(result),
            mimetype=XLSX,
            headers={
                "Content-Disposition": f'attachment; filename="{export.filename(result, "xlsx")}"'
            },
        )
    args = {**params.filters}
    return render_template(
        "console/reports/report.html",
        report=report,
        result=result,
        charts=charts.render(result),
        csv_url=url_for("console.report_page", name=name, **args, format="csv"),
        xlsx_url=url_for("console.report_page", name=name, **args, format="xlsx"),
        **context,
    )
