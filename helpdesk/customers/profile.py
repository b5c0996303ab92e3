"""The customer record's relationship fields (customer 360), changed by agents and audited: one
CustomerEvent per field changed (who, from what, to what), the record's timeline."""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..accounts.models import STAFF_ROLES, User
from ..core.errors import ValidationError
from ..extensions import db
from .models import (
    LIFECYCLE_STAGES,
    RELATIONSHIP_TYPES,
    SEGMENTS,
    VALUE_TIERS,
    Customer,
    CustomerEvent,
)

log = logging.getLogger(__name__)

PREFERRED_CHANNELS = ("email", "phone", "web", "whatsapp", "sms", "chat")
TEXT_LIMIT = 4000
PROFILE_FIELDS = (
    "relationship_type",
    "lifecycle_stage",
    "value_tier",
    "segment",
    "is_key_account",
    "key_account_agent_id",
    "preferred_channel",
    "locale",
    "customer_notes",
    "customer_important_dates",
)


def _check(field: str, value):
    choices = {
        "relationship_type": (RELATIONSHIP_TYPES, _l("Unknown relationship type.")),
        "lifecycle_stage": (LIFECYCLE_STAGES, _l("Unknown lifecycle stage.")),
        "value_tier": (VALUE_TIERS, _l("Unknown value tier.")),
        "preferred_channel": (PREFERRED_CHANNELS, _l("Unknown channel.")),
    }
    if field in choices:
        allowed, message = choices[field]
        if value is not None and value not in allowed:
            raise ValidationError(message, field=field)
        return value
    if field == "segment":
        if value not in SEGMENTS:
            raise ValidationError(_l("Unknown customer segment."), field=field)
        return value
    if field == "locale":
        if value is not None and value not in current_app.config["LANGUAGES"]:
            raise ValidationError(_l("Unknown language."), field=field)
        return value
    if field == "is_key_account":
        if not isinstance(value, bool):
            raise ValidationError(_l("Give true or false."), field=field)
        return value
    if field == "key_account_agent_id":
        if value is None:
            return None
        agent = db.session.get(User, value) if isinstance(value, int) else None
        if agent is None or agent.role not in STAFF_ROLES or not agent.active:
            raise ValidationError(_l("The account manager must be a staff member."), field=field)
        return value
    if field in ("customer_notes", "customer_important_dates"):
        value = (value or "").strip()
        if len(value) > TEXT_LIMIT:
            raise ValidationError(_l("The text is too long."), field=field)
        return value
    raise ValidationError(_l("This field cannot be changed."), field=field)


def update_profile(customer: Customer, actor: User | None, changes: dict) -> list[str]:
    """Apply the given fields (all validated first: nothing changes when one is wrong); audit
    each change. Returns the names of the fields that changed."""
    clean = {field: _check(field, value) for field, value in changes.items()}
    changed = []
    for field, value in clean.items():
        old = getattr(customer, field)
        if old == value:
            continue
        setattr(customer, field, value)
        db.session.add(
            CustomerEvent(
                customer_id=customer.id,
                actor_id=actor.id if actor else None,
                action="changed",
                field=field,
                old_value=None if old is None else str(old),
                new_value=None if value is None else str(value),
            )
        )
        changed.append(field)
    db.session.flush()
    if changed:
        log.info("Customer %s: %s changed", customer.id, ", ".join(changed))
    return changed
