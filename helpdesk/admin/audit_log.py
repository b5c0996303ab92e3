"""Admin: the admin audit log screen (who changed which setting, when, from what to what)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _

from ..audit.models import ACTION_LABELS, ENTITY_LABELS, SOURCE_LABELS
from ..audit.queries import actors, changes_of, entry_page
from ..core.clock import as_utc
from ..core.text import id_number
from .blueprint import bp
from .forms import AuditFilterForm

PAGE_SIZE = 50


def _day_start(day: date) -> datetime:
    return as_utc(datetime.combine(day, time(0), tzinfo=ZoneInfo(str(get_timezone()))))


@bp.get("/audit")
def audit_log():
    form = AuditFilterForm(request.args)
    form.actor.choices = [("", _("Anyone"))] + [(str(i), label) for i, label in actors()]
    form.entity.choices = [("", _("Any kind"))] + [(k, str(v)) for k, v in ENTITY_LABELS.items()]
    before = request.args.get("before", "")
    if before and id_number(before) is None:
        abort(400)
    valid = form.validate()
    if valid and form.since.data and form.until.data and form.until.data < form.since.data:
        form.until.errors = [_("The end date is before the start date.")]
        valid = False
    rows, next_url = [], None
    if valid:
        rows = entry_page(
            actor_id=int(form.actor.data) if form.actor.data else None,
            entity_type=form.entity.data or None,
            since=_day_start(form.since.data) if form.since.data else None,
            until=_day_start(form.until.data + timedelta(days=1)) if form.until.data else None,
            before_id=id_number(before) if before else None,
            size=PAGE_SIZE + 1,
        )
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE]
            next_url = url_for(
                "admin.audit_log",
                actor=form.actor.data or None,
                entity=form.entity.data or None,
                since=form.since.raw_data[0] if form.since.data else None,
                until=form.until.raw_data[0] if form.until.data else None,
                before=rows[-1].id,
            )
    return render_template(
        "admin/audit_log.html",
        form=form,
        rows=[(row, changes_of(row)) for row in rows],
        next_url=next_url,
        entity_labels=ENTITY_LABELS,
        action_labels=ACTION_LABELS,
        source_labels=SOURCE_LABELS,
        filtered=any((form.actor.data, form.entity.data, form.since.data, form.until.data)),
    ), 200 if valid else 400
