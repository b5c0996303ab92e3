"""Forms of the customer portal: a new demand, a reply, the verdict after an answer.

Only the fields declared here are read: anything else a browser posts (status, assignee,
customer_id...) never reaches a service.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import (
    EmailField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from ..core.clock import now
from ..core.errors import DomainError
from ..customers.services import normalize_document, normalize_phone
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


def _check(normalize, field) -> None:
    """Every mistake at once: the service's own check on an optional contact field."""
    if (field.data or "").strip():
        try:
            normalize(field.data)
        except DomainError as exc:
            raise ValidationError(str(exc)) from None


def _started_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="guest-demand-started")


class GuestDemandForm(DemandForm):
    """A demand from a visitor without an account: who they are, then the demand.

    Two guards instead of a captcha: `website` is a field people never see (bots fill it in), and
    `started` is a signed instant of when the form was shown (a bot posts within a second, a
    person takes longer than GUEST_FORM_MIN_SECONDS; a form older than a day is shown again)."""

    name = StringField(
        _l("Your name"),
        validators=[DataRequired(message=_l("Please tell us your name.")), Length(max=200)],
        render_kw={"autocomplete": "name", "maxlength": 200},
    )
    email = EmailField(
        _l("Your email"),
        validators=[
            DataRequired(message=_l("Please give an email: we send the protocol there.")),
            Length(max=254),
            Email(message=_l("This email address is not valid.")),
        ],
        render_kw={"autocomplete": "email", "maxlength": 254},
    )
    phone = StringField(
        _l("Phone (optional)"),
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 40},
    )
    document = StringField(
        _l("CPF or CNPJ (optional)"),
        validators=[Optional(), Length(max=40)],
        render_kw={"inputmode": "numeric", "maxlength": 40},
    )
    website = StringField(
        _l("Leave this field empty"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )
    started = HiddenField()

    def stamp(self) -> None:
        """Sign the instant the form is shown (on GET, and again when shown with errors)."""
        self.started.data = _started_serializer().dumps(int(now().timestamp()))

    def validate_phone(self, field) -> None:
        _check(normalize_phone, field)

    def validate_document(self, field) -> None:
        _check(normalize_document, field)

    def validate_website(self, field) -> None:
        if (field.data or "").strip():
            raise ValidationError(_l("We could not accept this form. Please try again."))

    def validate_started(self, field) -> None:
        try:
            shown_at = _started_serializer().loads(field.data or "", max_age=86400)
            shown_at = float(shown_at)
        except (BadSignature, TypeError, ValueError):
            raise ValidationError(
                _l("This form had expired. Please check your data and send it again.")
            ) from None
        if now().timestamp() - shown_at < current_app.config["GUEST_FORM_MIN_SECONDS"]:
            raise ValidationError(
                _l("That was very fast. Please check your data and send it again.")
            )


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
