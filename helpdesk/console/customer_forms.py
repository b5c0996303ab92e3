"""The customer record's relationship fields, as agents edit them in the console."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from ..customers.models import (
    LIFECYCLE_LABELS,
    RELATIONSHIP_LABELS,
    SEGMENT_LABELS,
    VALUE_TIER_LABELS,
)
from ..customers.profile import PREFERRED_CHANNELS, TEXT_LIMIT

NONE = ("", "—")


class CustomerProfileForm(FlaskForm):
    relationship_type = SelectField(_l("Relationship type"), validators=[Optional()])
    lifecycle_stage = SelectField(_l("Lifecycle stage"), validators=[Optional()])
    value_tier = SelectField(_l("Value tier"), validators=[Optional()])
    segment = SelectField(_l("Segment"))
    is_key_account = BooleanField(_l("Key account"))
    key_account_agent = SelectField(_l("Account manager"), validators=[Optional()])
    preferred_channel = SelectField(_l("Preferred channel"), validators=[Optional()])
    locale = SelectField(_l("Preferred language"), validators=[Optional()])
    customer_important_dates = TextAreaField(
        _l("Important dates"), validators=[Optional(), Length(max=TEXT_LIMIT)]
    )
    customer_notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=TEXT_LIMIT)])

    def fill_choices(self, staff, channel_labels) -> None:
        self.relationship_type.choices = [NONE, *RELATIONSHIP_LABELS.items()]
        self.lifecycle_stage.choices = [NONE, *LIFECYCLE_LABELS.items()]
        self.value_tier.choices = [NONE, *VALUE_TIER_LABELS.items()]
        self.segment.choices = list(SEGMENT_LABELS.items())
        self.key_account_agent.choices = [NONE, *((str(u.id), u.name) for u in staff)]
        self.preferred_channel.choices = [
            NONE,
            *((c, channel_labels.get(c, c)) for c in PREFERRED_CHANNELS),
        ]
        self.locale.choices = [NONE, *((c, c) for c in current_app.config["LANGUAGES"])]

    def changes(self) -> dict:
        def blank(value):
            return value or None

        return {
            "relationship_type": blank(self.relationship_type.data),
            "lifecycle_stage": blank(self.lifecycle_stage.data),
            "value_tier": blank(self.value_tier.data),
            "segment": self.segment.data,
            "is_key_account": bool(self.is_key_account.data),
            "key_account_agent_id": int(self.key_account_agent.data)
            if self.key_account_agent.data
            else None,
            "preferred_channel": blank(self.preferred_channel.data),
            "locale": blank(self.locale.data),
            "customer_important_dates": self.customer_important_dates.data or "",
            "customer_notes": self.customer_notes.data or "",
        }
