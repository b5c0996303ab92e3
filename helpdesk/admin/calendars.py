"""Admin: business calendars (list, create, edit with the weekly grid), company holidays, the
public holidays of the chosen country/state, and a deadline calculator that saves nothing."""

from __future__ import annotations

import functools
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_package
import sqlalchemy as sa
from babel.dates import format_datetime
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ..core.clock import now
from ..core.forms import show_domain_error
from ..core.unit import attempt
from ..extensions import db
from ..sla.business_calendars import add_holiday, create_calendar, remove_holiday, update_calendar
from ..sla.calendars import add_working_time
from ..sla.models import BusinessCalendar
from ..sla.working import working_calendar
from .blueprint import bp, load_or_404
from .sla_forms import (
    WEEKDAYS,
    CalculatorForm,
    CalendarForm,
    HolidayForm,
    format_day,
    parse_day_or_none,
)


def _supported() -> dict[str, list[str]]:
    return holidays_package.list_supported_countries()


@functools.lru_cache(maxsize=32)
def _subdivisions(country: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of the states or regions the `holidays` package knows for a country."""
    codes = _supported().get(country)
    if not codes:
        return ()
    try:
        aliases = holidays_package.country_holidays(country).subdivisions_aliases
    except (NotImplementedError, AttributeError):
        aliases = {}
    names: dict[str, str] = {}
    for name, code in aliases.items():
        names.setdefault(code, name)
    return tuple((code, names.get(code, code)) for code in codes)


def _calendar_form(calendar: BusinessCalendar | None) -> CalendarForm:
    form = CalendarForm()
    if request.method == "GET":
        if calendar is not None:
            form.load(calendar)
        else:
            form.timezone.data, form.country.data = "America/Sao_Paulo", "BR"
            for name in WEEKDAYS[:5]:
                form[name].data = "08:00-12:00, 13:00-18:00"
    country = form.country.data if form.country.data in _supported() else "BR"
    form.fill_choices(list(_supported()), _subdivisions(country))
    return form


def _week(calendar: BusinessCalendar) -> list[tuple[str, str]]:
    """Consecutive weekdays with the same hours grouped: [("Mon–Fri", "08:00-12:00, …")]."""
    if calendar.is_24x7:
        return []
    days = [
        format_day(sorted((i.start_time, i.end_time) for i in calendar.intervals if i.weekday == d))
        for d in range(7)
    ]
    locale = get_locale()
    short = locale.days["format"]["abbreviated"] if locale is not None else WEEKDAYS
    groups: list[tuple[int, int, str]] = []
    for weekday, hours in enumerate(days):
        if groups and groups[-1][2] == hours and groups[-1][1] == weekday - 1:
            groups[-1] = (groups[-1][0], weekday, hours)
        else:
            groups.append((weekday, weekday, hours))
    return [
        (short[a] if a == b else f"{short[a]}–{short[b]}", hours) for a, b, hours in groups if hours
    ]


def _region_name(calendar: BusinessCalendar) -> str:
    locale = get_locale()
    country = locale.territories.get(calendar.country, calendar.country) if locale else ""
    if calendar.subdivision:
        names = dict(_subdivisions(calendar.country))
        return f"{country} — {names.get(calendar.subdivision, calendar.subdivision)}"
    return country


def _holiday_language(country: str) -> str | None:
    try:
        languages = holidays_package.country_holidays(country).supported_languages
    except (NotImplementedError, AttributeError):
        return None
    wanted = str(get_locale() or "en")
    for candidate in (wanted, wanted.split("_")[0], "en_US"):
        for language in languages:
            if language == candidate or language.split("_")[0] == candidate:
                return language
    return None


def public_holidays(calendar: BusinessCalendar) -> list[tuple[date, str]]:
    """The national (and state) holidays of this year and next, in the reader's language."""
    year = now().year
    try:
        found = holidays_package.country_holidays(
            calendar.country,
            subdiv=calendar.subdivision,
            years=(year, year + 1),
            language=_holiday_language(calendar.country),
        )
    except NotImplementedError:
        return []
    return sorted(found.items())


def _calculate(calendar: BusinessCalendar, form: CalculatorForm) -> dict | None:
    """The due instant of start + duration on the saved calendar, or None (form errors)."""
    if not form.validate():
        return None
    zone = ZoneInfo(calendar.timezone)
    start = form.start_value.replace(tzinfo=zone)
    duration = timedelta(minutes=form.total_minutes())
    years = range(start.year - 1, start.year + 3)
    try:
        working = working_calendar(calendar, years=years)
        due = add_working_time(working, start, duration)
        begins = (
            add_working_time(working, start, timedelta(microseconds=1)) - timedelta(microseconds=1)
            if duration
            else start.astimezone(UTC)
        )
    except (ValueError, OverflowError):
        form.start.errors.append(_("This calendar has no working time to count."))
        return None
    locale = get_locale()

    def local(instant):
        return format_datetime(instant, "EEEE, d MMM y, HH:mm", tzinfo=zone, locale=locale)

    return {
        "start": local(start),
        "begins": local(begins) if begins > start.astimezone(UTC) else None,
        "due": local(due),
        "due_utc": due,
        "hours": form.total_minutes() // 60,
        "minutes": form.total_minutes() % 60,
    }


def _calendar_page(calendar, *, form=None, holiday_form=None, status=200):
    """The edit page: settings and week, company holidays, public holidays, calculator."""
    calculator = CalculatorForm(request.args if "start" in request.args else None)
    result = None
    if "start" in request.args:
        result = _calculate(calendar, calculator)
    elif not calculator.start.data:
        calculator.start.data = (
            now().astimezone(ZoneInfo(calendar.timezone)).strftime("%Y-%m-%dT%H:%M")
        )
        calculator.hours.data = 9
    return (
        render_template(
            "admin/calendars_form.html",
            calendar=calendar,
            form=form or _calendar_form(calendar),
            holiday_form=holiday_form or HolidayForm(formdata=None),
            public=public_holidays(calendar),
            region=_region_name(calendar),
            calculator=calculator,
            result=result,
        ),
        status,
    )


@bp.get("/calendars")
def calendars():
    rows = db.session.scalars(
        sa.select(BusinessCalendar)
        .options(selectinload(BusinessCalendar.intervals))
        .order_by(BusinessCalendar.name, BusinessCalendar.id)
    ).all()
    return render_template(
        "admin/calendars.html",
        calendars=[(c, _week(c), _region_name(c)) for c in rows],
    )


@bp.route("/calendars/new", methods=["GET", "POST"])
def calendar_new():
    form = _calendar_form(None)
    if form.validate_on_submit():
        with attempt() as done:
            calendar = create_calendar(**form.service_data())
        if done.error:
            show_domain_error(form, done.error)
        else:
            flash(_("Calendar “%(name)s” created.", name=calendar.name), "success")
            return redirect(url_for("admin.calendar_edit", calendar_id=calendar.id))
    return render_template("admin/calendars_new.html", form=form)


@bp.route("/calendars/<int:calendar_id>", methods=["GET", "POST"])
def calendar_edit(calendar_id: int):
    calendar = load_or_404(BusinessCalendar, calendar_id)
    form = _calendar_form(calendar)
    if form.validate_on_submit():
        with attempt() as done:
            update_calendar(calendar, **form.service_data())
        if done.error:
            show_domain_error(form, done.error)
            calendar = load_or_404(BusinessCalendar, calendar_id)
        else:
            flash(_("Calendar “%(name)s” saved.", name=calendar.name), "success")
            return redirect(url_for("admin.calendar_edit", calendar_id=calendar.id))
    return _calendar_page(calendar, form=form)


@bp.post("/calendars/<int:calendar_id>/holidays")
def calendar_holiday_add(calendar_id: int):
    calendar = load_or_404(BusinessCalendar, calendar_id)
    form = HolidayForm()
    if form.validate_on_submit():
        with attempt() as done:
            add_holiday(calendar, day=form.date.data, name=form.name.data or "")
        if done.error:
            show_domain_error(form, done.error)
            calendar = load_or_404(BusinessCalendar, calendar_id)
        else:
            flash(_("Company holiday added."), "success")
            return redirect(url_for("admin.calendar_edit", calendar_id=calendar.id) + "#holidays")
    return _calendar_page(calendar, holiday_form=form)


@bp.post("/calendars/<int:calendar_id>/holidays/<day>/remove")
def calendar_holiday_remove(calendar_id: int, day: str):
    calendar = load_or_404(BusinessCalendar, calendar_id)
    when = parse_day_or_none(day)
    if when is None:
        abort(404)
    remove_holiday(calendar, when)  # NotFound -> the shared 404 page
    flash(_("Company holiday removed."), "success")
    return redirect(url_for("admin.calendar_edit", calendar_id=calendar.id) + "#holidays")
