"""Forms of the console: one small form per ticket action, the phone-call steps.

Choices that depend on the database (departments, categories, staff) are filled by the view with
`fill_*` helpers, so validation checks the submitted value against what the user could pick.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..core.text import MAX_ID
from ..tickets.models import KIND_LABELS, KINDS, PRIORITY_LABELS, STATUS_LABELS

REPLY_STATUSES = ("pending_customer", "resolved", "open")


def opts(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def kind_choices() -> list[SelectChoice]:
    return opts((k, KIND_LABELS[k]) for k in KINDS)


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Answer to the customer"), validators=[DataRequired(), Length(max=20000)]
    )
    attachments = MultipleFileField(_l("Attachments"))
    status_after = SelectField(
        _l("Status after the answer"),
        choices=opts((s, STATUS_LABELS[s]) for s in REPLY_STATUSES),
        default="pending_customer",
    )


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note"), validators=[DataRequired(), Length(max=20000)])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assignee"), validators=[InputRequired()])


class TransferForm(FlaskForm):
    department = SelectField(_l("Department"), coerce=int, validators=[InputRequired()])
    reason = TextAreaField(  # the ticket page has another form's "reason": its own id
        _l("Reason for the transfer"),
        validators=[DataRequired(), Length(max=1000)],
        id="transfer-reason",
    )


class PriorityForm(FlaskForm):
    priority = SelectField(
        _l("Priority"),
        coerce=int,
        choices=opts(PRIORITY_LABELS.items()),
        validators=[InputRequired()],
    )


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validators=[InputRequired()])
    outcome = TextAreaField(_l("Outcome (when resolving)"), validators=[Length(max=5000)])


class DetailsForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=kind_choices(), validators=[InputRequired()])
    category = SelectField(_l("Category"), validators=[Optional()])
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)])
    remedy = TextAreaField(_l("Remedy sought by the customer"), validators=[Length(max=5000)])
    reroute = BooleanField(_l("Route it again with the new details"))

    @property
    def category_id(self) -> int | None:
        return int(self.category.data) if self.category.data else None


class PhoneDetailsForm(DetailsForm):
    """Step 2 of a phone call: what the caller wants, or how it was solved during the call."""

    resolved_in_call = BooleanField(_l("I resolved it during the call"))
    resolution = TextAreaField(
        _l("How it was resolved (sent to the customer)"), validators=[Length(max=20000)]
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.resolved_in_call.data and not (self.resolution.data or "").strip():
            self.resolution.errors.append(_l("Tell the customer how it was resolved."))
            ok = False
        return ok


class CallerSearchForm(FlaskForm):
    """GET form: no CSRF, one box and which field it is."""

    class Meta:
        csrf = False

    by = SelectField(
        _l("Search by"),
        choices=opts(
            [
                ("any", _l("Anything")),
                ("phone", _l("Phone")),
                ("email", _l("Email")),
                ("document", _l("CPF / CNPJ")),
            ]
        ),
        default="any",
    )
    q = StringField(_l("Name, phone, email, CPF/CNPJ or protocol"), validators=[Length(max=254)])


class NewCallerForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    document = StringField(_l("CPF / CNPJ (optional)"), validators=[Optional(), Length(max=20)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not (self.phone.data or self.email.data):
            self.phone.errors.append(_l("Give a phone number or an email to reach the caller."))
            ok = False
        return ok


class StartCallForm(FlaskForm):
    customer_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])


class EmptyForm(FlaskForm):
    """A CSRF-only form for buttons."""

    next = HiddenField()
