"""Forms of the customer portal: a new demand, a reply, the verdict after an answer.

Only the fields declared here are read: anything else a browser posts (status, assignee,
customer_id...) never reaches a service.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from ..tickets.models import KIND_LABELS, KINDS

KIND_HINTS = {
    "complaint": _l("Something went wrong: a charge, a delivery, a product, our service."),
    "request": _l("You need something from us: information, a copy, a change, a cancellation."),
    "suggestion": _l("An idea to make our products or our service better."),
}


def optional_int(value):
    if value in (None, ""):
        return None
    return int(value)


class DemandForm(FlaskForm):
    kind = RadioField(
        _l("What kind of demand is it?"),
        choices=[SelectChoice(k, KIND_LABELS[k]) for k in KINDS],
        validators=[InputRequired(message=_l("Please choose the kind of demand."))],
    )
    category = SelectField(_l("Subject area"), coerce=optional_int, validators=[Optional()])
    subject = StringField(
        _l("Summary"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"maxlength": 200, "autocomplete": "off"},
    )
    description = TextAreaField(
        _l("What happened?"),
        validators=[DataRequired(), Length(max=20000)],
        render_kw={"rows": 7},
    )
    remedy = TextAreaField(
        _l("What would solve it for you?"),
        validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 3},
    )
    attachments = MultipleFileField(_l("Attach files (optional)"))

    def set_categories(self, categories, locale: str) -> None:
        self.category.choices = [SelectChoice("", _l("I am not sure"))] + [
            SelectChoice(c.id, c.label(locale)) for c in categories
        ]


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your message"), validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 5}
    )
    attachments = MultipleFileField(_l("Attach files (optional)"))


class VerdictForm(FlaskForm):
    resolved = RadioField(
        _l("Did our answer solve your demand?"),
        choices=[
            SelectChoice("yes", _l("Yes, it is resolved")),
            SelectChoice("no", _l("No, it is not resolved")),
        ],
        validators=[InputRequired(message=_l("Please tell us whether it is resolved."))],
    )
    rating = RadioField(
        _l("How would you rate our service?"),
        choices=[SelectChoice(n, str(n)) for n in range(1, 6)],
        coerce=optional_int,
        validate_choice=False,
        validators=[Optional(), AnyOf([1, 2, 3, 4, 5], message=_l("The rating goes from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("Anything you want to add? (optional)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )


class EscalateForm(FlaskForm):
    """The customer sends a demand past its deadline to the ombudsman."""

    note = TextAreaField(
        _l("Anything the ombudsman should know? (optional)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )


class EndGuestAccessForm(FlaskForm):
    """A button: a guest closes the demand on this device; the owner ends every guest link."""
