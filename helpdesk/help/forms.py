"""Forms of the help centre: "was this helpful?" and following a known problem."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional


class VoteForm(FlaskForm):
    helpful = RadioField(
        _l("Was this article helpful?"),
        choices=[("yes", _l("Yes")), ("no", _l("No"))],
        validators=[DataRequired(message=_l("Choose yes or no."))],
    )
    comment = TextAreaField(
        _l("What was missing? (optional)"), validators=[Optional(), Length(max=2000)]
    )
    visit = HiddenField()


class FollowForm(FlaskForm):
    email = EmailField(
        _l("Your email"),
        validators=[Optional(), Email(message=_l("Enter a valid email address.")), Length(max=254)],
    )
