"""Forms of the sign-in surface: login, sign-up, password reset, account, guest access."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from ..core.errors import InvalidProtocol
from ..core.i18n import LANGUAGE_NAMES
from ..tickets import protocol as protocols

COMMON_TIMEZONES = (
    "America/Sao_Paulo",
    "America/Manaus",
    "America/Belem",
    "America/Fortaleza",
    "America/Recife",
    "America/Bahia",
    "America/Cuiaba",
    "America/Campo_Grande",
    "America/Porto_Velho",
    "America/Boa_Vista",
    "America/Rio_Branco",
    "America/Noronha",
    "America/Argentina/Buenos_Aires",
    "America/Montevideo",
    "America/Asuncion",
    "America/Santiago",
    "America/La_Paz",
    "America/Lima",
    "America/Bogota",
    "America/Guayaquil",
    "America/Caracas",
    "America/Mexico_City",
    "America/New_York",
    "Europe/Madrid",
    "Atlantic/Canary",
    "Europe/Lisbon",
    "UTC",
)

EMAIL = [DataRequired(), Length(max=254), Email(message=_l("This email address is not valid."))]
PASSWORD_LENGTH = Length(
    min=8, max=200, message=_l("The password must have between 8 and 200 characters.")
)


def _language_choices() -> list[SelectChoice]:
    return [
        SelectChoice(code, LANGUAGE_NAMES.get(code, code))
        for code in current_app.config["LANGUAGES"]
    ]


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ResendVerificationForm(FlaskForm):
    email = EmailField(_l("Email"), validators=EMAIL)


class SignupForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(_l("Email"), validators=EMAIL, render_kw={"autocomplete": "email"})
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), PASSWORD_LENGTH],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    language = SelectField(_l("Language"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = _language_choices()


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email"), validators=EMAIL)


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), PASSWORD_LENGTH])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ProfileForm(FlaskForm):
    action = HiddenField(default="profile")
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(_l("Language"), validators=[DataRequired()])
    timezone = SelectField(_l("Time zone"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = _language_choices()
        default = current_app.config["BABEL_DEFAULT_TIMEZONE"]
        self.timezone.choices = [SelectChoice("", _l("Default (%(zone)s)", zone=default))] + [
            SelectChoice(zone, zone.replace("_", " ")) for zone in COMMON_TIMEZONES
        ]

    def validate_timezone(self, field) -> None:
        if not field.data:
            return
        try:
            ZoneInfo(field.data)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(_l("Unknown time zone.")) from None


class PasswordChangeForm(FlaskForm):
    action = HiddenField(default="password")
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), PASSWORD_LENGTH],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The passwords differ.")),
        ],
    )


class EndOtherSessionsForm(FlaskForm):
    """One button: sign this account out of every other browser and device."""

    action = HiddenField(default="sessions", id="end-sessions-action")


class ProtocolField(StringField):
    """A protocol as people type it; the check digit is verified on validation."""

    def pre_validate(self, form) -> None:
        if not (self.data or "").strip():
            return  # DataRequired says so
        try:
            self.data = protocols.parse(self.data or "")
        except InvalidProtocol as exc:
            raise ValidationError(str(exc)) from None


class GuestAccessForm(FlaskForm):
    protocol = ProtocolField(
        _l("Protocol number"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    email = EmailField(_l("Email you gave us"), validators=EMAIL)


CODE_FIELD = {
    "autocomplete": "one-time-code",
    "autocapitalize": "off",
    "spellcheck": "false",
    "autofocus": True,
}


class SecondFactorForm(FlaskForm):
    """The code of the authenticator app, or one recovery code, after the password."""

    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[DataRequired(), Length(max=20)],
        render_kw=CODE_FIELD,
    )


class EnableTwoFactorForm(FlaskForm):
    action = HiddenField(default="enable")
    code = StringField(
        _l("The 6-digit code your app shows now"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={**CODE_FIELD, "inputmode": "numeric"},
    )


class ManageTwoFactorForm(FlaskForm):
    """New recovery codes, or turning the second factor off: both need a current code (the page
    posts which in a plain `action` input; each form has its own prefix)."""

    code = StringField(
        _l("A current code from your app, or a recovery code"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={k: v for k, v in CODE_FIELD.items() if k != "autofocus"},
    )


class RevokeSessionForm(FlaskForm):
    """Sign out one browser or device of the session list."""

    action = HiddenField(default="revoke", id="revoke-session-action")
    session_id = HiddenField()
