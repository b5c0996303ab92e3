"""Admin forms: departments, users, categories, routing rules and the routing preview sample.

Choices that come from the database (departments, staff, categories) are filled by the views.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..accounts.models import ROLE_LABELS, ROLES
from ..core.i18n import LANGUAGE_NAMES, localized_name
from ..customers.models import (  # noqa: F401 - admin views import it here
    LIFECYCLE_LABELS,
    RELATIONSHIP_LABELS,
    SEGMENT_LABELS,
    SEGMENTS,
    VALUE_TIER_LABELS,
)
from ..mail.models import TLS_MODE_LABELS
from ..tickets.models import CHANNEL_LABELS, CHANNELS, KIND_LABELS, KINDS, PRIORITY_LABELS

KEY_ACCOUNT_CHOICES = [
    ("", _l("Any")),
    ("yes", _l("Key accounts only")),
    ("no", _l("Not key accounts")),
]


def _any(label=None):
    return [("", label or _l("Any"))]


def role_choices():
    return [(r, ROLE_LABELS[r]) for r in ROLES]


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (kinds of demand)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):
    """An empty form: the CSRF token for POST-only buttons (move, deactivate, reactivate)."""


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=500)])
    is_default = BooleanField(_l("Default department (receives what no rule routes)"))
    is_ombudsman = BooleanField(_l("Ombudsman (second instance)"))
    active = BooleanField(_l("Active"), default=True)
    members = SelectMultipleField(_l("Members"), coerce=int, validate_choice=True)


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form: it changes nothing

    role = SelectField(_l("Role"), choices=[], validators=[Optional()])
    q = SearchField(_l("Email or name starts with"), validators=[Optional(), Length(max=100)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = _any(_l("All roles")) + role_choices()


class _UserFields(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[])
    departments = SelectMultipleField(_l("Departments"), coerce=int, validate_choice=True)
    locale = SelectField(_l("Language"), choices=[], validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()
        self.locale.choices = _any(_l("Browser language")) + list(LANGUAGE_NAMES.items())


class UserCreateForm(_UserFields):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Initial password"), validators=[Optional(), Length(min=8, max=200)]
    )
    send_link = BooleanField(_l("Email a link so the person chooses their own password"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.password.data and not self.send_link.data:
            self.password.errors.append(
                _l("Give an initial password or choose to email a password link.")
            )
            return False
        return ok


class UserEditForm(_UserFields):
    pass


class CategoryForm(FlaskForm):
    name = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    name_pt_br = StringField(_l("Name (Portuguese)"), validators=[Optional(), Length(max=120)])
    name_es = StringField(_l("Name (Spanish)"), validators=[Optional(), Length(max=120)])
    kinds = MultiCheckboxField(_l("Kinds of demand"), choices=[])
    active = BooleanField(_l("Active"), default=True)
    position = IntegerField(
        _l("Position"),
        default=0,
        validators=[Optional(), NumberRange(min=-100000, max=100000)],
        render_kw={"min": -100000, "max": 100000},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds.choices = [(k, KIND_LABELS[k]) for k in KINDS]


class _Conditions(FlaskForm):
    """What a routing rule or a preview sample looks at; choices filled by fill_choices()."""

    kind = SelectField(_l("Kind"), choices=[], validators=[Optional()])
    channel = SelectField(_l("Channel"), choices=[], validators=[Optional()])
    category_id = SelectField(_l("Category"), choices=[], validators=[Optional()])
    segment = SelectField(_l("Customer segment"), choices=[], validators=[Optional()])
    relationship_type = SelectField(_l("Relationship type"), choices=[], validators=[Optional()])
    lifecycle_stage = SelectField(_l("Lifecycle stage"), choices=[], validators=[Optional()])
    value_tier = SelectField(_l("Value tier"), choices=[], validators=[Optional()])

    def fill_choices(self, categories, *, any_label=None) -> None:
        self.kind.choices = _any(any_label) + [(k, KIND_LABELS[k]) for k in KINDS]
        self.channel.choices = _any(any_label) + [(c, CHANNEL_LABELS[c]) for c in CHANNELS]
        self.category_id.choices = _any(any_label) + [
            (str(c.id), localized_name(c)) for c in categories
        ]
        self.segment.choices = _any(any_label) + [(s, SEGMENT_LABELS[s]) for s in SEGMENTS]
        self.relationship_type.choices = _any(any_label) + list(RELATIONSHIP_LABELS.items())
        self.lifecycle_stage.choices = _any(any_label) + list(LIFECYCLE_LABELS.items())
        self.value_tier.choices = _any(any_label) + list(VALUE_TIER_LABELS.items())

    def relationship_data(self) -> dict:
        return {
            "relationship_type": self.relationship_type.data or None,
            "lifecycle_stage": self.lifecycle_stage.data or None,
            "value_tier": self.value_tier.data or None,
        }


class RuleForm(_Conditions):
    name = StringField(_l("Rule name"), validators=[DataRequired(), Length(max=120)])
    active = BooleanField(_l("Active"), default=True)
    keywords = StringField(
        _l("Keywords (comma-separated, any of them)"), validators=[Optional(), Length(max=500)]
    )
    key_account = SelectField(_l("Key account"), choices=[])
    department_id = SelectField(_l("Send to department"), choices=[], validators=[InputRequired()])
    priority = SelectField(_l("Set priority"), choices=[], validators=[Optional()])
    agent_id = SelectField(_l("Assign to agent"), choices=[], validators=[Optional()])

    def fill_outcomes(self, departments, staff) -> None:
        self.key_account.choices = list(KEY_ACCOUNT_CHOICES)
        self.department_id.choices = [("", _l("Choose…"))] + [
            (str(d.id), d.name) for d in departments
        ]
        self.priority.choices = [("", _l("Keep the ticket's priority"))] + [
            (str(p), label) for p, label in PRIORITY_LABELS.items()
        ]
        self.agent_id.choices = [("", _l("Automatic (fewest open tickets)"))] + [
            (str(u.id), u.name) for u in staff
        ]

    def service_data(self) -> dict:
        """The rule fields as routing.services.create_rule/update_rule take them."""
        key = self.key_account.data
        return {
            "name": self.name.data,
            "active": self.active.data,
            "kind": self.kind.data or None,
            "channel": self.channel.data or None,
            "category_id": int(self.category_id.data) if self.category_id.data else None,
            "segment": self.segment.data or None,
            "keywords": self.keywords.data or "",
            "key_account": {"yes": True, "no": False}.get(key),
            **self.relationship_data(),
            "department_id": int(self.department_id.data) if self.department_id.data else None,
            "priority": int(self.priority.data) if self.priority.data else None,
            "agent_id": int(self.agent_id.data) if self.agent_id.data else None,
        }

    def load(self, rule) -> None:
        """Fill the form from a saved rule (GET of the edit page)."""
        self.name.data, self.active.data, self.keywords.data = rule.name, rule.active, rule.keywords
        self.kind.data, self.channel.data = rule.kind or "", rule.channel or ""
        self.segment.data = rule.segment or ""
        self.relationship_type.data = rule.relationship_type or ""
        self.lifecycle_stage.data = rule.lifecycle_stage or ""
        self.value_tier.data = rule.value_tier or ""
        self.category_id.data = str(rule.category_id) if rule.category_id else ""
        self.key_account.data = {True: "yes", False: "no"}.get(rule.key_account, "")
        self.department_id.data = str(rule.department_id)
        self.priority.data = str(rule.priority) if rule.priority else ""
        self.agent_id.data = str(rule.agent_id) if rule.agent_id else ""


class SampleForm(_Conditions):
    """A sample demand typed into the routing preview."""

    class Meta:
        csrf = False  # GET on the rules page; embedded in the (CSRF-checked) rule form otherwise

    kind = SelectField(_l("Kind"), choices=[], validators=[InputRequired()])
    channel = SelectField(_l("Channel"), choices=[], validators=[InputRequired()])
    key_account = BooleanField(_l("Key account customer"))
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])

    def fill_choices(self, categories, *, any_label=None) -> None:
        super().fill_choices(categories, any_label=_l("None"))
        self.kind.choices = self.kind.choices[1:]
        self.channel.choices = self.channel.choices[1:]

    def sample(self):
        from ..routing.services import Sample

        return Sample(
            kind=self.kind.data,
            channel=self.channel.data,
            subject=self.subject.data or "",
            description=self.description.data or "",
            category_id=int(self.category_id.data) if self.category_id.data else None,
            segment=self.segment.data or None,
            key_account=bool(self.key_account.data),
            **self.relationship_data(),
        )


class MailboxForm(FlaskForm):
    """An IMAP mailbox polled for new demands (the password is never shown back)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    host = StringField(_l("IMAP server"), validators=[DataRequired(), Length(max=255)])
    port = IntegerField(
        _l("Port"), default=993, validators=[InputRequired(), NumberRange(min=1, max=65535)]
    )
    tls_mode = SelectField(
        _l("Encryption"),
        choices=list(TLS_MODE_LABELS.items()),
        default="ssl",
    )
    folder = StringField(_l("Folder"), default="INBOX", validators=[Length(max=255)])
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=255)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=500)])
    department_id = SelectField(_l("Department fed"), coerce=int, default=0)
    active = BooleanField(_l("Active (polled by the scheduler)"), default=True)
    hold_unauthenticated = BooleanField(
        _l("Hold replies to existing demands that fail SPF, DKIM or DMARC for review"),
        default=False,
    )


class TagForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    color = StringField(
        _l("Colour"), default="#64748b", validators=[Length(max=7)], render_kw={"type": "color"}
    )
    curated = BooleanField(
        _l("Curated (offered to agents; kept when free tags are off)"), default=True
    )


class AuditFilterForm(FlaskForm):
    """The admin audit log's filters (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    actor = SelectField(_l("Who"), choices=[], validators=[Optional()])
    entity = SelectField(_l("What kind of setting"), choices=[], validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
