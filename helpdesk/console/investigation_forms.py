"""Forms of the investigation pages: the record, its status, links, whys, actions, the effectiveness
check and the customer notice. Choices from the database are filled by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..core.text import MAX_ID
from ..investigations.models import (
    ACTION_KIND_LABELS,
    ISHIKAWA_LABELS,
    LEVEL_LABELS,
    VERDICT_LABELS,
)
from .forms import opts


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class InvestigationForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    statement = TextAreaField(
        _l("Problem statement (what happens)"), validators=[Optional(), Length(max=20000)]
    )
    location = StringField(_l("Where"), validators=[Optional(), Length(max=200)])
    since = DateField(_l("Since when"), validators=[Optional()])
    customers_affected = IntegerField(
        _l("Customers affected (estimate)"), validators=[Optional(), NumberRange(min=0, max=MAX_ID)]
    )
    estimated_cost = IntegerField(
        _l("Estimated cost"), validators=[Optional(), NumberRange(min=0, max=MAX_ID)]
    )
    impact = SelectField(_l("Impact"), coerce=int, choices=opts(LEVEL_LABELS.items()), default=2)
    urgency = SelectField(_l("Urgency"), coerce=int, choices=opts(LEVEL_LABELS.items()), default=2)
    owner = SelectField(_l("Owner"), coerce=_optional_int, validators=[Optional()])
    department = SelectField(_l("Team (department)"), coerce=_optional_int, validators=[Optional()])
    category = SelectField(
        _l("Category of the demands"), coerce=_optional_int, validators=[Optional()]
    )
    keywords = StringField(
        _l("Keywords (comma separated)"), validators=[Optional(), Length(max=500)]
    )
    containment = TextAreaField(
        _l("Containment or workaround (shown to agents)"),
        validators=[Optional(), Length(max=20000)],
    )
    ishikawa = SelectField(
        _l("Ishikawa category"),
        choices=opts([("", "—"), *ISHIKAWA_LABELS.items()]),
        validators=[Optional()],
    )
    subcategory = SelectField(_l("Sub-category"), coerce=_optional_int, validators=[Optional()])
    root_cause = TextAreaField(
        _l("Confirmed root cause"), validators=[Optional(), Length(max=20000)]
    )
    evidence = TextAreaField(
        _l("Evidence of the root cause"), validators=[Optional(), Length(max=20000)]
    )
    tickets = HiddenField()


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validators=[InputRequired()])
    reason = TextAreaField(
        _l("Reason (required to cancel or reopen)"), validators=[Optional(), Length(max=2000)]
    )


class LinkForm(FlaskForm):
    protocol = StringField(_l("Protocol"), validators=[DataRequired(), Length(max=40)])


class TicketLinkForm(FlaskForm):
    number = StringField(_l("Investigation number"), validators=[DataRequired(), Length(max=20)])


class WhyForm(FlaskForm):
    text = TextAreaField(_l("Why?"), validators=[DataRequired(), Length(max=2000)])


class ActionForm(FlaskForm):
    description = TextAreaField(_l("Action"), validators=[DataRequired(), Length(max=2000)])
    kind = SelectField(_l("Kind"), choices=opts(ACTION_KIND_LABELS.items()))
    owner = SelectField(_l("Owner"), coerce=_optional_int, validators=[Optional()])
    due_on = DateField(_l("Due date"), validators=[Optional()])


class ActionAcceptForm(FlaskForm):
    owner = SelectField(_l("Owner"), coerce=_optional_int, validators=[Optional()])
    due_on = DateField(_l("Due date"), validators=[Optional()])


class ActionDoneForm(FlaskForm):
    evidence = TextAreaField(
        _l("What was done (evidence)"), validators=[DataRequired(), Length(max=5000)]
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class EffectivenessForm(FlaskForm):
    metric = StringField(
        _l("Metric (e.g. new demands in the category per week)"),
        validators=[Optional(), Length(max=300)],
    )
    baseline = StringField(_l("Baseline"), validators=[Optional(), Length(max=100)])
    target = StringField(_l("Target"), validators=[Optional(), Length(max=100)])
    check_on = DateField(_l("Date of the check"), validators=[Optional()])
    result = TextAreaField(_l("Measured result"), validators=[Optional(), Length(max=20000)])
    verdict = SelectField(
        _l("Verdict"), choices=opts([("", "—"), *VERDICT_LABELS.items()]), validators=[Optional()]
    )


class NoticeForm(FlaskForm):
    notice_pt_br = TextAreaField(
        _l("Message in Portuguese (Brazil)"), validators=[Optional(), Length(max=5000)]
    )
    notice_es = TextAreaField(_l("Message in Spanish"), validators=[Optional(), Length(max=5000)])
    notice_en = TextAreaField(_l("Message in English"), validators=[Optional(), Length(max=5000)])
    resolve = BooleanField(_l("Also resolve these demands"))


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""


class ReportForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
