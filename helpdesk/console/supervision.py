"""Supervision pages of the console: the about-to-breach board, SLA compliance per department (with
a CSV export), the notifications bell and list; and the helpers every console page shares to show
a deadline ("in 3 h", "2 d overdue", coloured) and an escalation level.

Board and compliance are for supervisors and admins, limited to the supervisor's departments.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..core.clock import as_utc, now
from ..core.formatting import duration, local_date
from ..core.permissions import is_supervisor
from ..core.text import id_number
from ..escalations.models import (
    DECISION_LABELS,
    LEVEL_LABELS,
    REASON_LABELS,
    STATE_LABELS,
    TRIGGER_LABELS,
)
from ..escalations.queries import notification_page
from ..escalations.services import mark_notifications_read, unread_notifications
from ..sla.clocks import SLA_STATE_LABELS, SLA_TARGET_LABELS
from ..sla.reports import about_to_breach, compliance
from ..tickets.permissions import staff_department_ids
from .blueprint import arg_int_choice, bp, visible_departments
from .forms import EmptyForm
from .supervision_forms import ComplianceForm

SOON = timedelta(hours=2)  # "due soon" (amber) below this; overdue is red; later is plain
BOARD_HOURS = (1, 4, 8, 24)
DEFAULT_BOARD_HOURS = 4
MAX_PERIOD_DAYS = 366
COMPLIANCE_TARGET_LABELS = {
    "first_response": _l("First response"),
    "next_response": _l("Next response"),
    "resolution": _l("Resolution"),
}


# shared display helpers ---------------------------------------------------------------------------


def _request_now() -> datetime:
    """One instant per request, so that every row of a page is measured against the same time."""
    cache = request.environ  # per request (tests share one app context, so not `g`)
    at = cache.get("helpdesk.supervision_now")
    if at is None:
        at = cache["helpdesk.supervision_now"] = now()
    return at


def time_left(value) -> tuple[str, str]:
    """(css state, text) for a deadline: ("overdue", "3 h overdue"), ("soon", "in 45 min"),
    ("later", "in 2 d"); ("none", "—") without one."""
    if value is None:
        return "none", "—"
    delta = as_utc(value) - _request_now()
    if delta <= timedelta(0):
        return "overdue", _("%(time)s overdue", time=span(-delta))
    return ("soon" if delta <= SOON else "later"), _("in %(time)s", time=span(delta))


def span(delta: timedelta) -> str:
    """A short duration with two units at most: "45 min", "1 h 30 min", "56 d 3 h"."""
    return duration(delta, max_units=2)


def unread_count() -> int:
    """The bell: unread notifications of the signed-in staff member (one query, once per request,
    and only when a page shows it)."""
    cache = request.environ
    count = cache.get("helpdesk.unread_notifications")
    if count is None:
        count = cache["helpdesk.unread_notifications"] = unread_notifications(current_user)
    return count


@bp.context_processor
def supervision_helpers():
    return {
        "time_left": time_left,
        "unread_count": unread_count,
        "level_labels": LEVEL_LABELS,
        "reason_labels": REASON_LABELS,
        "trigger_labels": TRIGGER_LABELS,
        "state_labels": STATE_LABELS,
        "decision_labels": DECISION_LABELS,
        "can_supervise_pages": is_supervisor(current_user),
    }


def require_supervisor() -> None:
    if not is_supervisor(current_user):
        abort(403)


# the about-to-breach board ------------------------------------------------------------------------


@bp.get("/sla/board")
def sla_board():
    require_supervisor()
    departments = visible_departments(current_user)
    hours = arg_int_choice("hours", BOARD_HOURS, DEFAULT_BOARD_HOURS)
    department_id = arg_int_choice("department", {d.id for d in departments})
    scope = staff_department_ids(current_user)
    if department_id is not None:
        scope = [department_id]
    board = about_to_breach(_request_now(), hours, scope)
    return render_template(
        "console/sla_board.html",
        board=board,
        hours=hours,
        hours_choices=BOARD_HOURS,
        departments=departments,
        department_id=department_id,
        ticket_prefix=url_for("console.ticket", protocol="0")[:-1],
        sla_target_labels=SLA_TARGET_LABELS,
        sla_state_labels=SLA_STATE_LABELS,
    )


# compliance ---------------------------------------------------------------------------------------


MIN_YEAR, MAX_YEAR = 2000, 2100  # beyond these, day arithmetic and time zones overflow


def _period(form: ComplianceForm, zone: ZoneInfo):
    """The chosen days in the user's zone (default: the last 30 days, today included), as UTC
    instants [start, end). Errors go next to their field; returns None then."""
    today = _request_now().astimezone(zone).date()
    first = form.date_from.data or today - timedelta(days=29)
    last = form.date_to.data or today
    ok = not form.errors
    if ok and not (first.year >= MIN_YEAR and last.year <= MAX_YEAR):
        field = form.date_from if first.year < MIN_YEAR else form.date_to
        field.errors = [
            _("Please choose dates from %(low)s to %(high)s.", low=MIN_YEAR, high=MAX_YEAR)
        ]
        ok = False
    if ok and first > last:
        form.date_to.errors = [_("The end must be on or after the start.")]
        ok = False
    if ok and (last - first).days >= MAX_PERIOD_DAYS:
        form.date_to.errors = [_("Please choose at most %(days)s days.", days=MAX_PERIOD_DAYS)]
        ok = False
    if not ok:
        return None
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return first, last, as_utc(start), as_utc(end)


def _user_zone() -> ZoneInfo:
    try:
        return ZoneInfo(str(get_timezone()))
    except Exception:  # noqa: BLE001 - an odd stored zone must not break the page
        return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC"))


def _csv_cell(value) -> str:
    """Spreadsheet-safe text: a cell starting with = + - @ would run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _compliance_csv(departments, data, first, last) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Department"),
            _("Target"),
            _("Met on time"),
            _("Met late"),
            _("Breached, still open"),
            _("Compliance (%)"),
        ]
    )
    for dept in departments:
        for target, label in COMPLIANCE_TARGET_LABELS.items():
            row = data.get(dept.id, {}).get(target)
            if row is None:
                continue
            writer.writerow(
                [
                    _csv_cell(dept.name),
                    _csv_cell(label),
                    row.on_time,
                    row.late,
                    row.breached_open,
                    "" if row.percent is None else f"{row.percent:.1f}",
                ]
            )
    name = f"sla-compliance-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM: spreadsheets then read the accents right
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/sla/compliance")
def sla_compliance():
    require_supervisor()
    form = ComplianceForm(request.args)
    form.validate()
    output = request.args.get("format", "html")
    if output not in ("html", "csv"):
        abort(400)
    period = _period(form, _user_zone())
    departments = visible_departments(current_user)
    if period is None:
        return render_template(
            "console/sla_compliance.html",
            form=form,
            departments=departments,
            data={},
            period=None,
            target_labels=COMPLIANCE_TARGET_LABELS,
            csv_url=None,
        ), 400
    first, last, start, end = period
    data = compliance(start, end, _request_now(), staff_department_ids(current_user))
    if output == "csv":
        return _compliance_csv(departments, data, first, last)
    form.date_from.data, form.date_to.data = first, last
    return render_template(
        "console/sla_compliance.html",
        form=form,
        departments=departments,
        data=data,
        period=(local_date(first), local_date(last)),
        target_labels=COMPLIANCE_TARGET_LABELS,
        csv_url=url_for(
            "console.sla_compliance",
            date_from=first.isoformat(),
            date_to=last.isoformat(),
            format="csv",
        ),
    )


# notifications ------------------------------------------------------------------------------------


@bp.get("/notifications")
def notifications():
    page = notification_page(
        current_user,
        cursor=request.args.get("cursor") or None,
        limit=current_app.config.get("QUEUE_PAGE_SIZE", 50),
    )
    next_url = (
        url_for("console.notifications", cursor=page.next_cursor) if page.next_cursor else None
    )
    return render_template(
        "console/notifications.html",
        page=page,
        next_url=next_url,
        form=EmptyForm(),
        can_supervise_escalations=is_supervisor(current_user),
    )


@bp.post("/notifications/read")
def notifications_read():
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    raw = request.form.getlist("id")
    ids = None
    if raw:
        if not all(id_number(v) for v in raw):
            abort(400)
        ids = [int(v) for v in raw]
    changed = mark_notifications_read(current_user, ids)
    if ids is None:
        flash(_("All notifications marked as read."), "success")
    elif changed:
        flash(_("Notification marked as read."), "success")
    return redirect(url_for("console.notifications"))
