"""Reports: `GET /reports` lists them, `GET /reports/<name>?from=&to=&department=&channel=&kind=`
answers one as JSON, or as CSV with `format=csv` (the console's export). Supervisors (their
departments) and admins tokens; the definitions are helpdesk.reports' (the console's too)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l

from ..core.clock import now
from ..core.errors import NotAllowed, NotFound, ValidationError
from ..reports import export
from ..reports.access import can_read_reports, params_for
from ..reports.catalog import all_reports
from ..reports.catalog import get_report as find_report
from ..reports.params import MAX_DAYS
from ..reports.registry import Report, run_report
from ..tickets.models import CHANNELS, KINDS
from .auth import api_user
from .blueprint import bp
from .documented import documented, ok, path_parameter, query
from .errors import InvalidInput
from .schemas.reports import ReportList, ReportResult
from .serializers import iso


def _require_reader(user) -> None:
    if not can_read_reports(user):
        raise NotAllowed(_l("Only supervisors and admins read reports."))


def _columns(report: Report) -> list[dict]:
    return [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in report.columns]


def _links(report: Report, args: dict) -> dict:
    return {
        "self": url_for("api.get_report", name=report.name, **args),
        "csv": url_for("api.get_report", name=report.name, **args, format="csv"),
    }


@bp.get("/reports")
@documented(
    "listReports",
    "reports",
    _l("List the reports"),
    description=_l("Every report, with its columns. Supervisors and admins."),
    responses={200: ok(ReportList)},
    errors=(401, 403),
)
def list_reports():
    _require_reader(api_user())
    return jsonify(
        {
            "items": [
                {
                    "name": r.name,
                    "title": str(r.title),
                    "description": str(r.description),
                    "group": r.group,
                    "basis": str(r.basis),
                    "filters": ["from", "to", *r.filters],
                    "columns": _columns(r),
                    "links": _links(r, {}),
                }
                for r in all_reports()
            ]
        }
    )


def _zone(user) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or current_app.config["BABEL_DEFAULT_TIMEZONE"])
    except Exception:  # noqa: BLE001 - an odd stored zone must not break the answer
        return ZoneInfo("UTC")


@bp.get("/reports/<name>")
@documented(
    "getReport",
    "reports",
    _l("One report for a period"),
    description=_l(
        "The report's rows for the days `from` to `to` (YYYY-MM-DD, both included, in the "
        "token owner's time zone; default: the last 30 days; at most %(days)s days), within the "
        "departments the token's owner supervises. `format=csv` answers the same rows as CSV.",
        days=MAX_DAYS,
    ),
    parameters=(
        path_parameter("name", _l("The report's name (see listReports).")),
        query("from", _l("First day, YYYY-MM-DD."), {"type": "string", "format": "date"}),
        query("to", _l("Last day, YYYY-MM-DD (included)."), {"type": "string", "format": "date"}),
        query("department", _l("Department id."), {"type": "integer"}),
        query("channel", _l("Channel."), {"enum": list(CHANNELS)}),
        query("kind", _l("Kind."), {"enum": list(KINDS)}),
        query("format", _l("json (default) or csv."), {"enum": ["json", "csv"]}),
    ),
    responses={
        200: ok(
            ReportResult,
            content={"text/csv": {"schema": {"type": "string"}}},
        )
    },
    errors=(401, 403, 404, 422),
)
def get_report(name: str):
    user = api_user()
    _require_reader(user)
    report = get_report_definition(name)
    output = request.args.get("format", "json")
    if output not in ("json", "csv"):
        raise InvalidInput({"format": str(_l("Use json or csv."))})
    zone = _zone(user)
    try:
        params = params_for(user, request.args, zone=zone, at=now())
    except ValidationError as error:
        raise InvalidInput({error.field or "from": str(error)}) from None
    result = run_report(report, params)
    if output == "csv":
        return Response(
            export.to_csv(result),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="{export.filename(result, "csv")}"'
            },
        )
    keys = [c.key for c in report.columns]
    rows = [{"key": row.get("key"), **{k: row.get(k) for k in keys}} for row in result.rows]
    return jsonify(
        {
            "name": report.name,
            "title": str(report.title),
            "period": {
                "first": params.first.isoformat(),
                "last": params.last.isoformat(),
                "time_zone": str(zone.key),
                "start": iso(params.start),
                "end": iso(params.end),
            },
            "filters": {
                "department": params.department_id,
                "channel": params.channel,
                "kind": params.kind,
            },
            "columns": _columns(report),
            "rows": rows,
            "links": _links(report, params.filters),
        }
    )


def get_report_definition(name: str) -> Report:
    report = find_report(name)
    if report is None:
        raise NotFound(_l("There is no such report."))
    return report
