"""SLA policies: create, update and order them, match a ticket to its policy, the SAC default.

Services validate and flush; the surface commits. Errors are `ValidationError` with the offending
`field` (name, a condition or a target field).
"""

from __future__ import annotations

import logging
from datetime import time

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..accounts.models import Department
from ..core.errors import ValidationError
from ..core.text import id_number
from ..customers.models import LIFECYCLE_STAGES, RELATIONSHIP_TYPES, SEGMENTS, VALUE_TIERS
from ..extensions import db
from ..tickets.models import CHANNELS, KINDS, PRIORITIES, Category
from .business_calendars import clean_name, create_calendar
from .models import (
    SLA_TARGETS,
    BusinessCalendar,
    SlaPolicy,
)

log = logging.getLogger(__name__)

# SLA policies -------------------------------------------------------------------------------------
#
# A policy gives a ticket its targets (first response, resolution), each a number of minutes of a
# calendar's working time (no calendar = 24x7). The first active policy by `position` whose
# conditions all match wins. Each target becomes one `TicketSla` row with its due instant.
#
# Pauses: `pause_statuses` is stored and validated, but this slice computes due instants without
# pauses; the pause/resume clock arrives with the escalation sweep (see docs/sla.md).

DEFAULT_CALENDAR_NAME = "Horário comercial"
DEFAULT_POLICY_NAME = "SAC"
DEFAULT_POLICY_POSITION = 1000
MAX_TARGET_MINUTES = 366 * 24 * 60
# one business day of the default calendar: 08:00-12:00 + 13:00-18:00
BUSINESS_DAY_MINUTES = 9 * 60
PAUSABLE_STATUSES = ("new", "open", "pending_customer", "reopened")

# conditions read from the customer record rather than the ticket
_CUSTOMER_CONDITIONS = ("segment", "relationship_type", "lifecycle_stage", "value_tier")
_CONDITIONS = ("kind", "category_id", "priority", "department_id", "channel", *_CUSTOMER_CONDITIONS)


def _optional_choice(value, choices, field: str, message):
    if value in (None, ""):
        return None
    if value not in choices:
        raise ValidationError(message, field=field)
    return value


def _optional_row(model, value, field: str, message):
    if value in (None, ""):
        return None
    value = id_number(value)  # past an INTEGER column's range: no such row, not a 500
    if value is None or db.session.get(model, value) is None:
        raise ValidationError(message, field=field)
    return value


def _minutes_value(value, field: str):
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_TARGET_MINUTES:
        raise ValidationError(
            _l("Please give a whole number of minutes between 1 and one year."), field=field
        )
    return value


def _calendar_id(value, field: str):
    if value in (None, ""):
        return None
    calendar = db.session.get(BusinessCalendar, value) if isinstance(value, int) else None
    if calendar is None or not calendar.active:
        raise ValidationError(_l("Please choose an active calendar."), field=field)
    return calendar.id


def _clean_policy(data: dict, current: SlaPolicy | None = None) -> dict:
    clean: dict = {}
    if "name" in data:
        name = clean_name(data["name"])
        if not name or len(name) > 120:
            raise ValidationError(_l("Please give a name of at most 120 characters."), field="name")
        query = sa.select(SlaPolicy.id).where(SlaPolicy.name == name)
        if current is not None:
            query = query.where(SlaPolicy.id != current.id)
        if db.session.scalar(query):
            raise ValidationError(_l("A policy with this name already exists."), field="name")
        clean["name"] = name
    if "position" in data:
        position = data["position"]
        if isinstance(position, bool) or not isinstance(position, int) or abs(position) > 10**6:
            raise ValidationError(_l("Please give a whole number."), field="position")
        clean["position"] = position
    if "active" in data:
        clean["active"] = bool(data["active"])
    checks = {
        "kind": lambda v: _optional_choice(v, KINDS, "kind", _l("Unknown kind of demand.")),
        "channel": lambda v: _optional_choice(v, CHANNELS, "channel", _l("Unknown channel.")),
        "segment": lambda v: _optional_choice(
            v, SEGMENTS, "segment", _l("Unknown customer segment.")
        ),
        "relationship_type": lambda v: _optional_choice(
            v, RELATIONSHIP_TYPES, "relationship_type", _l("Unknown relationship type.")
        ),
        "lifecycle_stage": lambda v: _optional_choice(
            v, LIFECYCLE_STAGES, "lifecycle_stage", _l("Unknown lifecycle stage.")
        ),
        "value_tier": lambda v: _optional_choice(
            v, VALUE_TIERS, "value_tier", _l("Unknown value tier.")
        ),
        "priority": lambda v: _optional_choice(v, PRIORITIES, "priority", _l("Unknown priority.")),
        "category_id": lambda v: _optional_row(
            Category, v, "category_id", _l("Please choose an existing category.")
        ),
        "department_id": lambda v: _optional_row(
            Department, v, "department_id", _l("Please choose an existing department.")
        ),
        "first_response_minutes": lambda v: _minutes_value(v, "first_response_minutes"),
        "next_response_minutes": lambda v: _minutes_value(v, "next_response_minutes"),
        "resolution_minutes": lambda v: _minutes_value(v, "resolution_minutes"),
        "first_response_calendar_id": lambda v: _calendar_id(v, "first_response_calendar_id"),
        "next_response_calendar_id": lambda v: _calendar_id(v, "next_response_calendar_id"),
        "resolution_calendar_id": lambda v: _calendar_id(v, "resolution_calendar_id"),
    }
    for field, check in checks.items():
        if field in data:
            clean[field] = check(data[field])
    if "pause_statuses" in data:
        statuses = data["pause_statuses"] or []
        if isinstance(statuses, str) or not all(s in PAUSABLE_STATUSES for s in statuses):
            raise ValidationError(
                _l("Only open statuses can pause a clock."), field="pause_statuses"
            )
        clean["pause_statuses"] = sorted(set(statuses), key=PAUSABLE_STATUSES.index)
    if "resolution_is_legal" in data:
        clean["resolution_is_legal"] = bool(data["resolution_is_legal"])

    def final(field):
        return clean[field] if field in clean else getattr(current, field, None)

    if all(final(f"{target}_minutes") is None for target in SLA_TARGETS):
        raise ValidationError(
            _l("Please give at least one target (first response, next response or resolution)."),
            field="first_response_minutes",
        )
    return clean


def create_policy(*, name: str, **fields) -> SlaPolicy:
    """A new policy; conditions left out match every ticket, targets left out are not tracked."""
    unknown = (
        set(fields)
        - set(_CONDITIONS)
        - {
            "position",
            "active",
            "first_response_minutes",
            "first_response_calendar_id",
            "next_response_minutes",
            "next_response_calendar_id",
            "resolution_minutes",
            "resolution_calendar_id",
            "pause_statuses",
            "resolution_is_legal",
        }
    )
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    clean = _clean_policy({"name": name, **fields})
    clean.setdefault("pause_statuses", ["pending_customer"])
    policy = SlaPolicy(**clean)
    db.session.add(policy)
    db.session.flush()
    log.info("SLA policy %s created at position %s", policy.id, policy.position)
    return policy


def update_policy(policy: SlaPolicy, **fields) -> SlaPolicy:
    """Change some fields of a policy. Tickets keep their due instants until recomputed."""
    clean = _clean_policy(fields, current=policy)
    for field, value in clean.items():
        setattr(policy, field, value)
    db.session.flush()
    log.info("SLA policy %s updated", policy.id)
    return policy


def move_policy(policy: SlaPolicy, direction: int) -> None:
    """Swap the policy with its neighbour above (-1) or below (+1); positions become 10, 20, …
    (the first matching active policy wins, so the order is the admin's to set)."""
    policies = list(
        db.session.scalars(sa.select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id))
    )
    index = policies.index(policy)
    other = index + direction
    if direction in (-1, 1) and 0 <= other < len(policies):
        policies[index], policies[other] = policies[other], policies[index]
    for position, item in enumerate(policies, start=1):
        item.position = position * 10
    db.session.flush()
    log.info("SLA policy %s moved to position %s", policy.id, policy.position)


def _customer_field(ticket, field: str) -> str | None:
    customer = ticket.customer
    return getattr(customer, field) if customer is not None else None


def policy_matches(policy: SlaPolicy, ticket) -> bool:
    for field in _CONDITIONS:
        wanted = getattr(policy, field)
        if wanted is None:
            continue
        actual = (
            _customer_field(ticket, field)
            if field in _CUSTOMER_CONDITIONS
            else getattr(ticket, field)
        )
        if actual != wanted:
            return False
    return True


def active_policies() -> list[SlaPolicy]:
    """Active policies in order with their calendars, in one statement (policies are few)."""
    return list(
        db.session.scalars(
            sa.select(SlaPolicy)
            .where(SlaPolicy.active.is_(True))
            .order_by(SlaPolicy.position, SlaPolicy.id)
            .options(
                joinedload(SlaPolicy.first_response_calendar),
                joinedload(SlaPolicy.next_response_calendar),
                joinedload(SlaPolicy.resolution_calendar),
            )
        ).unique()
    )


def match_policy(ticket) -> SlaPolicy | None:
    """The first active policy (by position) whose conditions all match the ticket."""
    for policy in active_policies():
        if policy_matches(policy, ticket):
            return policy
    return None


def ensure_default_policy() -> SlaPolicy:
    """The SAC rule: resolution within 7 calendar days (24x7, legal: never pauses) for every kind,
    first response within 1 business day on "Horário comercial" (Mon-Fri 08-12 and 13-18,
    America/Sao_Paulo, BR holidays). Creates the calendar and the policy when missing."""
    policy = db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.name == DEFAULT_POLICY_NAME))
    if policy is not None:
        return policy
    calendar = db.session.scalar(
        sa.select(BusinessCalendar).where(BusinessCalendar.name == DEFAULT_CALENDAR_NAME)
    )
    if calendar is None:
        calendar = create_calendar(
            name=DEFAULT_CALENDAR_NAME,
            timezone="America/Sao_Paulo",
            country="BR",
            intervals=[
                (weekday, start, end)
                for weekday in range(5)
                for start, end in ((time(8), time(12)), (time(13), time(18)))
            ],
        )
    return create_policy(
        name=DEFAULT_POLICY_NAME,
        position=DEFAULT_POLICY_POSITION,
        first_response_minutes=BUSINESS_DAY_MINUTES,
        first_response_calendar_id=calendar.id,
        resolution_minutes=7 * 24 * 60,
        resolution_calendar_id=None,
        resolution_is_legal=True,
    )
