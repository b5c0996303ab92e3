"""Forms of the supervision surface: escalate a ticket, decide an escalation, the compliance period.

Selects whose choices come from the database are filled by the view; their values are checked by
the view against what the user could pick (an unknown value is an error next to the field).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..escalations.models import AGENT_REASONS, LEVEL_LABELS, LEVELS, REASON_LABELS
from ..escalations.services import MAX_NOTE
from .forms import opts


class EscalateForm(FlaskForm):
    """An agent escalates the ticket they work on."""

    reason = SelectField(
        _l("Reason"),
        choices=opts(
            [("", _l("— choose a reason —"))] + [(r, REASON_LABELS[r]) for r in AGENT_REASONS]
        ),
        validators=[InputRequired(message=_l("Please choose a reason."))],
    )
    level = SelectField(
        _l("Level"),
        choices=opts([("", _l("One level up"))] + [(str(n), LEVEL_LABELS[n]) for n in LEVELS]),
        validators=[Optional()],
    )
    note = TextAreaField(
        _l("What the supervisor should know"),
        validators=[
            DataRequired(message=_l("Please write a few words.")),
            Length(max=MAX_NOTE),
        ],
    )

    @property
    def level_value(self) -> int | None:
        return int(self.level.data) if self.level.data else None


class DecideForm(FlaskForm):
    """One decision on an escalation; rendered once per decision (with the decision as prefix),
    showing only the fields that decision uses."""

    note = TextAreaField(_l("Note"), validators=[Length(max=MAX_NOTE)])
    department = SelectField(_l("Department"), validate_choice=False, validators=[Optional()])
    assignee = SelectField(_l("Person"), validate_choice=False, validators=[Optional()])
    priority = SelectField(_l("New priority"), validate_choice=False, validators=[Optional()])


class ComplianceForm(FlaskForm):
    """The period of the compliance report (GET: no CSRF)."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()], render_kw={"max": "9999-12-31"})
    date_to = DateField(_l("To"), validators=[Optional()], render_kw={"max": "9999-12-31"})
