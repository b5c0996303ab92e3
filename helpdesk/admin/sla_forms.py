"""Admin forms for issue 3: business calendars (weekly grid, company holidays, deadline
calculator), SLA policies and escalation rules.

The weekly grid is one text input per weekday ("08:00-12:00, 13:00-18:00"), parsed here so that a
mistake is reported next to its day. Choices that come from the database are filled by the views.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import available_timezones

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from .forms import MultiCheckboxField

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = {
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
    "sat": _l("Saturday"),
    "sun": _l("Sunday"),
}
MAX_INTERVALS_PER_DAY = 12
# zones offered first (São Paulo above all); every other IANA zone follows alphabetically
COMMON_ZONES = (
    "America/Sao_Paulo",
    "America/Manaus",
    "America/Fortaleza",
    "America/Recife",
    "America/Bahia",
    "America/Belem",
    "America/Cuiaba",
    "America/Porto_Velho",
    "America/Rio_Branco",
    "America/Noronha",
    "America/Argentina/Buenos_Aires",
    "America/Montevideo",
    "America/Asuncion",
    "America/Santiago",
    "America/Lima",
    "America/Bogota",
    "America/Mexico_City",
    "America/New_York",
    "Europe/Lisbon",
    "Europe/Madrid",
    "UTC",
)

_TIME = r"(\d{1,2})(?:[:h.](\d{2}))?h?"
_INTERVAL = re.compile(rf"^{_TIME}\s*(?:-|–|—|to|a|até)\s*{_TIME}$", re.IGNORECASE)


def zone_choices() -> list[tuple[str, str]]:
    known = available_timezones()
    common = [z for z in COMMON_ZONES if z in known]
    rest = sorted(z for z in known if z not in common and "/" in z and not z.startswith("Etc/"))
    return [(z, z.replace("_", " ")) for z in common + rest]


def country_choices(codes) -> list[tuple[str, str]]:
    """Supported countries by their name in the reader's language, Brazil first."""
    locale = get_locale()
    names = locale.territories if locale is not None else {}
    rows = sorted(((code, names.get(code, code)) for code in codes), key=lambda r: r[1])
    first = [r for r in rows if r[0] == "BR"]
    return first + [r for r in rows if r[0] != "BR"]


def _clock(hours: str, minutes: str | None, raw: str) -> time:
    h, m = int(hours), int(minutes or 0)
    if h == 24 and m == 0:
        return time(0, 0)  # midnight at the end of the day
    if h > 23 or m > 59:
        raise ValueError(_l("“%(value)s” is not a time of day (00:00 to 24:00).", value=raw))
    return time(h, m)


def parse_day(text: str) -> list[tuple[time, time]]:
    """ "08:00-12:00, 13:00-18:00" -> [(08:00, 12:00), (13:00, 18:00)]; ValueError with a
    translated message. An end of 24:00 (or 00:00) is midnight at the end of the day."""
    parts = [p.strip() for p in re.split(r"[,;\n]+", text or "") if p.strip()]
    if len(parts) > MAX_INTERVALS_PER_DAY:
        raise ValueError(_l("At most %(count)s intervals per day.", count=MAX_INTERVALS_PER_DAY))
    result = []
    for part in parts:
        match = _INTERVAL.match(part)
        if match is None:
            raise ValueError(
                _l("Write “%(value)s” like 08:00-12:00 (start-end, 24-hour clock).", value=part)
            )
        start_h, start_m, end_h, end_m = match.groups()
        start = _clock(start_h, start_m, part)
        end = _clock(end_h, end_m, part)
        if start == time(0, 0) and start_h == "24":
            raise ValueError(_l("An interval cannot start at 24:00."))
        if end != time(0, 0) and start >= end:
            raise ValueError(_l("“%(value)s” must start before it ends.", value=part))
        result.append((start, end))
    result.sort()
    for (_a, end_a), (start_b, _b) in zip(result, result[1:], strict=False):
        if end_a == time(0, 0) or start_b < end_a:
            raise ValueError(_l("The intervals of a day must not overlap."))
    return result


def format_day(intervals) -> str:
    def clock(t: time, end: bool) -> str:
        if end and (t == time(0, 0) or t == time.max):
            return "24:00"
        return t.strftime("%H:%M")

    return ", ".join(f"{clock(s, False)}-{clock(e, True)}" for s, e in intervals)


class IntervalsField(StringField):
    """One weekday of the grid; `.intervals` holds the parsed value after validation."""

    intervals: list[tuple[time, time]]

    def pre_validate(self, form) -> None:
        self.intervals = []
        if self.data and len(self.data) > 400:
            raise ValidationError(_l("This day is too long; write at most a few intervals."))
        try:
            self.intervals = parse_day(self.data or "")
        except ValueError as exc:
            raise ValidationError(exc.args[0]) from exc


class CalendarForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    timezone = SelectField(_l("Time zone"), choices=[], validators=[DataRequired()])
    country = SelectField(_l("Public holidays of"), choices=[], validators=[DataRequired()])
    subdivision = SelectField(_l("State or region"), choices=[], validators=[Optional()])
    is_24x7 = BooleanField(_l("24×7: every minute counts (calendar time, no holidays)"))
    active = BooleanField(_l("Active"), default=True)
    intervals = HiddenField()  # carries the errors about the week as a whole
    mon = IntervalsField(WEEKDAY_LABELS["mon"])
    tue = IntervalsField(WEEKDAY_LABELS["tue"])
    wed = IntervalsField(WEEKDAY_LABELS["wed"])
    thu = IntervalsField(WEEKDAY_LABELS["thu"])
    fri = IntervalsField(WEEKDAY_LABELS["fri"])
    sat = IntervalsField(WEEKDAY_LABELS["sat"])
    sun = IntervalsField(WEEKDAY_LABELS["sun"])

    def fill_choices(self, countries, subdivisions) -> None:
        """`countries`: supported codes; `subdivisions`: (code, name) of the chosen country."""
        self.timezone.choices = zone_choices()
        self.country.choices = country_choices(countries)
        self.subdivision.choices = [("", _l("Whole country (national holidays only)"))] + [
            (code, f"{name} ({code})" if name != code else code) for code, name in subdivisions
        ]

    def days(self):
        return [self[d] for d in WEEKDAYS]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.is_24x7.data and not any(f.intervals for f in self.days()):
            self.intervals.errors = [
                _l("Give the working hours of at least one day, or make it a 24×7 calendar.")
            ]
            return False
        return ok

    def service_data(self) -> dict:
        intervals = []
        if not self.is_24x7.data:
            for weekday, name in enumerate(WEEKDAYS):
                intervals += [(weekday, s, e) for s, e in self[name].intervals]
        return {
            "name": self.name.data,
            "timezone": self.timezone.data,
            "country": self.country.data,
            "subdivision": self.subdivision.data or None,
            "is_24x7": bool(self.is_24x7.data),
            "active": bool(self.active.data),
            "intervals": intervals,
        }

    def load(self, calendar) -> None:
        self.name.data, self.timezone.data = calendar.name, calendar.timezone
        self.country.data, self.subdivision.data = calendar.country, calendar.subdivision or ""
        self.is_24x7.data, self.active.data = calendar.is_24x7, calendar.active
        for weekday, name in enumerate(WEEKDAYS):
            mine = [(i.start_time, i.end_time) for i in calendar.intervals if i.weekday == weekday]
            self[name].data = format_day(sorted(mine))


class HolidayForm(FlaskForm):
    # beside the calendar's own form on one page: ids of their own
    date = DateField(_l("Date"), validators=[InputRequired()], id="holiday-date")
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)], id="holiday-name")


class CalculatorForm(FlaskForm):
    """The deadline calculator on the calendar page (GET; it saves nothing)."""

    class Meta:
        csrf = False

    start = StringField(
        _l("Clock starts at"),
        validators=[InputRequired()],
        render_kw={"type": "datetime-local"},
    )
    hours = IntegerField(
        _l("Hours"), default=0, validators=[Optional(), NumberRange(min=0, max=366 * 24)]
    )
    minutes = IntegerField(
        _l("Minutes"), default=0, validators=[Optional(), NumberRange(min=0, max=59 * 1000)]
    )

    def validate_start(self, field) -> None:
        try:
            value = datetime.fromisoformat((field.data or "").strip())
        except ValueError as exc:
            raise ValidationError(_l("Give a date and time like 2026-11-20 16:30.")) from exc
        if value.tzinfo is not None or not 2000 <= value.year <= 2100:
            raise ValidationError(_l("Give a date and time like 2026-11-20 16:30."))
        self.start_value = value

    def total_minutes(self) -> int:
        return (self.hours.data or 0) * 60 + (self.minutes.data or 0)


def parse_day_or_none(value: str) -> date | None:
    """A date from a URL segment, or None when it is not one."""
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


__all__ = [
    "CalculatorForm",
    "CalendarForm",
    "HolidayForm",
    "MultiCheckboxField",
    "format_day",
    "parse_day",
]


# SLA policies -------------------------------------------------------------------------------------

POLICY_TARGETS = ("first_response", "next_response", "resolution")
TARGET_TITLES = {
    "first_response": _l("First response"),
    "next_response": _l("Next response (after each customer message)"),
    "resolution": _l("Resolution"),
}
UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 24 * 60}
UNIT_LABELS = {"minutes": _l("minutes"), "hours": _l("hours"), "days": _l("calendar days")}


def _amount(label):
    return IntegerField(
        label, validators=[Optional(), NumberRange(min=1, max=999_999)], render_kw={"min": 1}
    )


def _unit():
    return SelectField(_l("Unit"), choices=[], default="hours")


def _calendar():
    return SelectField(_l("Counted on"), choices=[], validators=[Optional()])


def split_minutes(minutes: int | None, calendar_id) -> tuple[int | None, str]:
    """Stored minutes as the form shows them: whole calendar days on 24x7, else hours, else min."""
    if not minutes:
        return None, "hours"
    if calendar_id is None and minutes % (24 * 60) == 0:
        return minutes // (24 * 60), "days"
    if minutes % 60 == 0:
        return minutes // 60, "hours"
    return minutes, "minutes"


class PolicyForm(FlaskForm):
    name = StringField(_l("Policy name"), validators=[DataRequired(), Length(max=120)])
    active = BooleanField(_l("Active"), default=True)
    kind = SelectField(_l("Kind"), choices=[], validators=[Optional()])
    category_id = SelectField(_l("Category"), choices=[], validators=[Optional()])
    priority = SelectField(_l("Priority"), choices=[], validators=[Optional()])
    department_id = SelectField(_l("Department"), choices=[], validators=[Optional()])
    channel = SelectField(_l("Channel"), choices=[], validators=[Optional()])
    segment = SelectField(_l("Customer segment"), choices=[], validators=[Optional()])
    relationship_type = SelectField(_l("Relationship type"), choices=[], validators=[Optional()])
    lifecycle_stage = SelectField(_l("Lifecycle stage"), choices=[], validators=[Optional()])
    value_tier = SelectField(_l("Value tier"), choices=[], validators=[Optional()])
    first_response_minutes = _amount(_l("First response within"))
    first_response_unit = _unit()
    first_response_calendar_id = _calendar()
    next_response_minutes = _amount(_l("Next response within"))
    next_response_unit = _unit()
    next_response_calendar_id = _calendar()
    resolution_minutes = _amount(_l("Resolution within"))
    resolution_unit = _unit()
    resolution_calendar_id = _calendar()
    pause_statuses = MultiCheckboxField(_l("Statuses that pause the clocks"), choices=[])
    resolution_is_legal = BooleanField(
        _l("The resolution target is a legal deadline: it never pauses")
    )

    def fill_choices(self, *, categories, departments, calendars, statuses) -> None:
        """Conditions, active calendars (plus the ones this policy already uses), statuses."""
        from ..core.i18n import localized_name
        from ..customers.models import (
            LIFECYCLE_LABELS,
            RELATIONSHIP_LABELS,
            SEGMENTS,
            VALUE_TIER_LABELS,
        )
        from ..tickets.models import (
            CHANNEL_LABELS,
            CHANNELS,
            KIND_LABELS,
            KINDS,
            PRIORITY_LABELS,
        )
        from .forms import SEGMENT_LABELS

        anything = [("", _l("Any"))]
        self.kind.choices = anything + [(k, KIND_LABELS[k]) for k in KINDS]
        self.category_id.choices = anything + [(str(c.id), localized_name(c)) for c in categories]
        self.priority.choices = anything + [(str(p), lbl) for p, lbl in PRIORITY_LABELS.items()]
        self.department_id.choices = anything + [(str(d.id), d.name) for d in departments]
        self.channel.choices = anything + [(c, CHANNEL_LABELS[c]) for c in CHANNELS]
        self.segment.choices = anything + [(s, SEGMENT_LABELS[s]) for s in SEGMENTS]
        self.relationship_type.choices = anything + list(RELATIONSHIP_LABELS.items())
        self.lifecycle_stage.choices = anything + list(LIFECYCLE_LABELS.items())
        self.value_tier.choices = anything + list(VALUE_TIER_LABELS.items())
        calendar_choices = [("", _l("24×7 (calendar time)"))] + [
            (str(c.id), c.name if c.active else _l("%(name)s (inactive)", name=c.name))
            for c in calendars
        ]
        for target in POLICY_TARGETS:
            self[f"{target}_unit"].choices = list(UNIT_LABELS.items())
            self[f"{target}_calendar_id"].choices = calendar_choices
        self.pause_statuses.choices = statuses

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for target in POLICY_TARGETS:
            amount = self[f"{target}_minutes"]
            if (
                amount.data
                and self[f"{target}_unit"].data == "days"
                and self[f"{target}_calendar_id"].data
            ):
                amount.errors = [
                    *amount.errors,
                    _l(
                        "Calendar days count every minute: choose “24×7 (calendar time)”, or give "
                        "hours of the business calendar (one business day of 08–12 and 13–18 is "
                        "9 hours)."
                    ),
                ]
                ok = False
        return ok

    def service_data(self) -> dict:
        def optional_int(value):
            return int(value) if value else None

        data = {
            "name": self.name.data,
            "active": bool(self.active.data),
            "kind": self.kind.data or None,
            "category_id": optional_int(self.category_id.data),
            "priority": optional_int(self.priority.data),
            "department_id": optional_int(self.department_id.data),
            "channel": self.channel.data or None,
            "segment": self.segment.data or None,
            "relationship_type": self.relationship_type.data or None,
            "lifecycle_stage": self.lifecycle_stage.data or None,
            "value_tier": self.value_tier.data or None,
            "pause_statuses": list(self.pause_statuses.data or []),
            "resolution_is_legal": bool(self.resolution_is_legal.data),
        }
        for target in POLICY_TARGETS:
            amount = self[f"{target}_minutes"].data
            unit = UNIT_MINUTES.get(self[f"{target}_unit"].data, 1)
            data[f"{target}_minutes"] = amount * unit if amount else None
            data[f"{target}_calendar_id"] = optional_int(self[f"{target}_calendar_id"].data)
        return data

    def load(self, policy) -> None:
        self.name.data, self.active.data = policy.name, policy.active
        self.kind.data, self.channel.data = policy.kind or "", policy.channel or ""
        self.segment.data = policy.segment or ""
        for field in ("relationship_type", "lifecycle_stage", "value_tier"):
            self[field].data = getattr(policy, field) or ""
        for field in ("category_id", "priority", "department_id"):
            value = getattr(policy, field)
            self[field].data = str(value) if value is not None else ""
        for target in POLICY_TARGETS:
            calendar_id = getattr(policy, f"{target}_calendar_id", None)
            amount, unit = split_minutes(getattr(policy, f"{target}_minutes", None), calendar_id)
            self[f"{target}_minutes"].data, self[f"{target}_unit"].data = amount, unit
            self[f"{target}_calendar_id"].data = str(calendar_id) if calendar_id else ""
        self.pause_statuses.data = list(policy.pause_statuses or [])
        self.resolution_is_legal.data = policy.resolution_is_legal


# escalation rules ---------------------------------------------------------------------------------


class EscalationRuleForm(FlaskForm):
    name = StringField(_l("Rule name"), validators=[DataRequired(), Length(max=120)])
    active = BooleanField(_l("Active"), default=True)
    kind = SelectField(_l("Kind"), choices=[], validators=[Optional()])
    department_id = SelectField(_l("Department"), choices=[], validators=[Optional()])
    priority = SelectField(_l("Priority"), choices=[], validators=[Optional()])
    target = SelectField(_l("Deadline watched"), choices=[], validators=[InputRequired()])
    trigger = SelectField(_l("Fires"), choices=[], validators=[InputRequired()])
    percent = IntegerField(
        _l("Share of the target elapsed (%)"),
        validators=[Optional(), NumberRange(min=1, max=100)],
        render_kw={"min": 1, "max": 100},
    )
    offset_minutes = IntegerField(
        _l("Minutes after the breach"),
        validators=[Optional(), NumberRange(min=0, max=366 * 24 * 60)],
        render_kw={"min": 0},
    )
    level = SelectField(_l("Escalation level"), choices=[], validators=[InputRequired()])
    notify_assignee = BooleanField(_l("Notify the assigned agent"), default=True)
    notify_supervisors = BooleanField(_l("Notify the department's supervisors"), default=True)
    notify_user_ids = MultiCheckboxField(_l("Also notify"), choices=[], coerce=int)
    set_priority = SelectField(_l("Raise the priority to"), choices=[], validators=[Optional()])
    reassign_department_id = SelectField(
        _l("Move to department"), choices=[], validators=[Optional()]
    )
    reassign_user_id = SelectField(_l("Assign to"), choices=[], validators=[Optional()])
    to_ombudsman = BooleanField(_l("Send to the ombudsman (second instance)"))
    ack_minutes = IntegerField(
        _l("Minutes to acknowledge"),
        default=240,
        validators=[InputRequired(), NumberRange(min=1, max=30 * 24 * 60)],
        render_kw={"min": 1},
    )

    def fill_choices(self, *, departments, staff, level_labels, trigger_labels) -> None:
        from ..tickets.models import KIND_LABELS, KINDS, PRIORITY_LABELS

        anything = [("", _l("Any"))]
        self.kind.choices = anything + [(k, KIND_LABELS[k]) for k in KINDS]
        self.department_id.choices = anything + [(str(d.id), d.name) for d in departments]
        priorities = [(str(p), lbl) for p, lbl in PRIORITY_LABELS.items()]
        self.priority.choices = anything + priorities
        self.target.choices = [(t, TARGET_TITLES[t]) for t in POLICY_TARGETS]
        self.trigger.choices = list(trigger_labels.items())
        self.level.choices = [(str(lv), f"{lv} — {lbl}") for lv, lbl in level_labels.items() if lv]
        self.notify_user_ids.choices = [(u.id, f"{u.name} <{u.email}>") for u in staff]
        self.set_priority.choices = [("", _l("Keep the ticket's priority"))] + priorities
        self.reassign_department_id.choices = [("", _l("Keep the department"))] + [
            (str(d.id), d.name) for d in departments
        ]
        self.reassign_user_id.choices = [("", _l("Keep the assignee"))] + [
            (str(u.id), u.name) for u in staff
        ]

    def service_data(self) -> dict:
        def optional_int(value):
            return int(value) if value else None

        elapsed = self.trigger.data == "elapsed"
        return {
            "name": self.name.data,
            "active": bool(self.active.data),
            "kind": self.kind.data or None,
            "department_id": optional_int(self.department_id.data),
            "priority": optional_int(self.priority.data),
            "target": self.target.data,
            "trigger": self.trigger.data,
            "percent": self.percent.data if elapsed else None,
            "offset_minutes": None if elapsed else (self.offset_minutes.data or 0),
            "level": optional_int(self.level.data),
            "notify_assignee": bool(self.notify_assignee.data),
            "notify_supervisors": bool(self.notify_supervisors.data),
            "notify_user_ids": list(self.notify_user_ids.data or []),
            "set_priority": optional_int(self.set_priority.data),
            "reassign_department_id": optional_int(self.reassign_department_id.data),
            "reassign_user_id": optional_int(self.reassign_user_id.data),
            "to_ombudsman": bool(self.to_ombudsman.data),
            "ack_minutes": self.ack_minutes.data,
        }

    def load(self, rule) -> None:
        for field in ("name", "active", "target", "trigger", "percent", "offset_minutes"):
            self[field].data = getattr(rule, field)
        for field in ("notify_assignee", "notify_supervisors", "to_ombudsman", "ack_minutes"):
            self[field].data = getattr(rule, field)
        self.kind.data = rule.kind or ""
        for field in (
            "department_id",
            "priority",
            "level",
            "set_priority",
            "reassign_department_id",
            "reassign_user_id",
        ):
            value = getattr(rule, field)
            self[field].data = str(value) if value is not None else ""
        self.notify_user_ids.data = list(rule.notify_user_ids or [])
