"""Routing: the first matching rule decides department, priority and agent; then assignment."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..accounts.models import Department, User, memberships
from ..accounts.services import default_department
from ..core.errors import ValidationError
from ..extensions import db
from ..tickets.events import record_event
from ..tickets.models import CHANNELS, KINDS, OPEN_STATUSES, PRIORITIES, Ticket
from .models import RoutingRule

log = logging.getLogger(__name__)


@dataclass
class Sample:
    """What routing looks at: a ticket, or a sample typed into the preview form."""

    kind: str
    channel: str
    subject: str = ""
    description: str = ""
    category_id: int | None = None
    segment: str | None = None
    key_account: bool = False
    relationship_type: str | None = None
    lifecycle_stage: str | None = None
    value_tier: str | None = None


RELATIONSHIP_CONDITIONS = ("relationship_type", "lifecycle_stage", "value_tier")


def _relationship_choices() -> dict:
    from ..customers.models import LIFECYCLE_STAGES, RELATIONSHIP_TYPES, VALUE_TIERS

    return {
        "relationship_type": (RELATIONSHIP_TYPES, _l("Unknown relationship type.")),
        "lifecycle_stage": (LIFECYCLE_STAGES, _l("Unknown lifecycle stage.")),
        "value_tier": (VALUE_TIERS, _l("Unknown value tier.")),
    }


def sample_of(ticket: Ticket) -> Sample:
    return Sample(
        kind=ticket.kind,
        channel=ticket.channel,
        subject=ticket.subject,
        description=ticket.description,
        category_id=ticket.category_id,
        segment=ticket.customer.segment,
        key_account=ticket.customer.is_key_account,
        relationship_type=ticket.customer.relationship_type,
        lifecycle_stage=ticket.customer.lifecycle_stage,
        value_tier=ticket.customer.value_tier,
    )


def rule_matches(rule: RoutingRule, sample: Sample) -> bool:
    if rule.kind and rule.kind != sample.kind:
        return False
    if rule.category_id and rule.category_id != sample.category_id:
        return False
    if rule.channel and rule.channel != sample.channel:
        return False
    if rule.segment and rule.segment != sample.segment:
        return False
    if rule.key_account is not None and rule.key_account != sample.key_account:
        return False
    for name in RELATIONSHIP_CONDITIONS:
        wanted = getattr(rule, name)
        if wanted and wanted != getattr(sample, name):
            return False
    keywords = rule.keyword_list
    if keywords:
        text = f"{sample.subject}\n{sample.description}".lower()
        if not any(k in text for k in keywords):
            return False
    return True


def active_rules() -> list[RoutingRule]:
    return list(
        db.session.scalars(
            sa.select(RoutingRule)
            .where(RoutingRule.active.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
    )


def match_rule(sample: Sample, rules: list[RoutingRule] | None = None) -> RoutingRule | None:
    for rule in rules if rules is not None else active_rules():
        if rule_matches(rule, sample):
            return rule
    return None


def preview_routing(sample: Sample, rules: list[RoutingRule] | None = None) -> dict:
    """Which rule a sample would hit, and the outcome, without changing anything."""
    rule = match_rule(sample, rules)
    department = rule.department if rule else default_department()
    return {
        "rule": rule,
        "department": department,
        "priority": rule.priority if rule and rule.priority else None,
        "agent": rule.agent if rule else None,
    }


def least_loaded_agent(department_id: int) -> User | None:
    """The active agent of the department with the fewest open tickets (ties: lowest id)."""
    open_count = (
        sa.select(sa.func.count(Ticket.id))
        .where(Ticket.assignee_id == User.id, Ticket.status.in_(OPEN_STATUSES))
        .correlate(User)
        .scalar_subquery()
    )
    return db.session.scalar(
        sa.select(User)
        .join(memberships, memberships.c.user_id == User.id)
        .where(
            memberships.c.department_id == department_id,
            User.active.is_(True),
            User.role == "agent",
        )
        .order_by(open_count, User.id)
        .limit(1)
    )


def rule_reason(rule: RoutingRule) -> str:
    """How an event records that a rule decided: a stable code, rendered translated by surfaces.

    Reason codes in event details: "rule:<id>:<name>", "default" (no rule matched: the default
    department), "key_account" (the customer's dedicated agent), "least_loaded" (the active agent
    with the fewest open tickets), "registered_by" (the agent who registered it).
    """
    return f"rule:{rule.id}:{rule.name}"


def route_ticket(
    ticket: Ticket,
    actor: User | None,
    rules: list[RoutingRule] | None = None,
    *,
    default: Department | None = None,
) -> None:
    """Apply the first matching rule (or the default department), then assign; record why.

    `default`: the default department when the caller has just looked it up (saves a query)."""
    rule = match_rule(sample_of(ticket), rules)
    department = rule.department if rule else (default or default_department())
    old_department = ticket.department.name if ticket.department is not None else None
    ticket.department_id = department.id
    ticket.department = department
    reason = rule_reason(rule) if rule else "default"
    # routing and automatic assignment are the system's (or the rule's) decisions, whoever's
    # request they ran in: their events carry no actor, the rule is named in the detail
    record_event(
        ticket,
        None,
        "routed",
        field="department",
        old=old_department,
        new=department.name,
        detail=reason,
    )
    if rule and rule.priority and rule.priority != ticket.priority:
        record_event(
            ticket,
            None,
            "priority",
            field="priority",
            old=PRIORITIES.get(ticket.priority),
            new=PRIORITIES[rule.priority],
            detail=reason,
        )
        ticket.priority = rule.priority
    agent, why = None, ""
    if rule and rule.agent and rule.agent.active:
        agent, why = rule.agent, reason
    elif (
        ticket.customer.is_key_account
        and ticket.customer.key_account_agent
        and ticket.customer.key_account_agent.active
    ):
        agent, why = ticket.customer.key_account_agent, "key_account"
    else:
        agent = least_loaded_agent(department.id)
        why = "least_loaded"
    if agent is not None:
        ticket.assignee_id = agent.id
        ticket.assignee = agent
        record_event(
            ticket, None, "assigned", field="assignee", old=None, new=agent.name, detail=why
        )
    log.info(
        "Ticket %s routed to department %s (%s), assignee %s",
        ticket.protocol or "(new)",  # a registration takes its number after routing
        department.id,
        f"rule {rule.id}" if rule else "default",
        agent.id if agent else None,
    )


# rule administration ----------------------------------------------------------------------


def _validate_rule(data: dict) -> dict:
    name = " ".join((data.get("name") or "").split())
    if not name or len(name) > 120:
        raise ValidationError(
            _l("Please give the rule a name of at most 120 characters."), field="name"
        )
    if data.get("kind") and data["kind"] not in KINDS:
        raise ValidationError(_l("Unknown kind."), field="kind")
    if data.get("channel") and data["channel"] not in CHANNELS:
        raise ValidationError(_l("Unknown channel."), field="channel")
    if data.get("priority") and data["priority"] not in PRIORITIES:
        raise ValidationError(_l("Unknown priority."), field="priority")
    department = db.session.get(Department, data.get("department_id") or 0)
    if department is None:
        raise ValidationError(
            _l("Choose the department that receives these tickets."), field="department_id"
        )
    if data.get("agent_id"):
        agent = db.session.get(User, data["agent_id"])
        if agent is None or not agent.is_staff or department not in agent.departments:
            raise ValidationError(
                _l("The agent must be a member of the chosen department."), field="agent_id"
            )
    for condition, (allowed, message) in _relationship_choices().items():
        if data.get(condition) and data[condition] not in allowed:
            raise ValidationError(message, field=condition)
    keywords = ",".join(k.strip() for k in (data.get("keywords") or "").split(",") if k.strip())
    if len(keywords) > 500:
        raise ValidationError(_l("Too many keywords (at most 500 characters)."), field="keywords")
    return {
        "name": name,
        "kind": data.get("kind") or None,
        "category_id": data.get("category_id") or None,
        "channel": data.get("channel") or None,
        "keywords": keywords,
        "segment": data.get("segment") or None,
        "key_account": data.get("key_account"),
        **{c: data.get(c) or None for c in RELATIONSHIP_CONDITIONS},
        "department_id": department.id,
        "priority": data.get("priority") or None,
        "agent_id": data.get("agent_id") or None,
        "active": data.get("active", True),
    }


def create_rule(**data) -> RoutingRule:
    values = _validate_rule(data)
    last = db.session.scalar(sa.select(sa.func.max(RoutingRule.position))) or 0
    rule = RoutingRule(position=data.get("position") or last + 10, **values)
    db.session.add(rule)
    db.session.flush()
    log.info("Routing rule %s created (department %s)", rule.id, rule.department_id)
    return rule


def update_rule(rule: RoutingRule, **data) -> RoutingRule:
    for key, value in _validate_rule(data).items():
        setattr(rule, key, value)
    if data.get("position") is not None:
        rule.position = data["position"]
    db.session.flush()
    log.info("Routing rule %s updated", rule.id)
    return rule


def move_rule(rule: RoutingRule, direction: int) -> None:
    """Swap the rule with its neighbour above (-1) or below (+1)."""
    rules = list(
        db.session.scalars(sa.select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
    )
    index = rules.index(rule)
    other = index + direction
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
    for position, item in enumerate(rules, start=1):
        item.position = position * 10
    db.session.flush()
    log.info("Routing rule %s moved to position %s", rule.id, rule.position)


def draft_rule(**data) -> RoutingRule:
    """A validated rule that is never added to the session: to preview unsaved edits."""
    values = _validate_rule(data)
    rule = RoutingRule(position=-1, **values)
    rule.department = db.session.get(Department, values["department_id"])
    rule.agent = db.session.get(User, values["agent_id"]) if values["agent_id"] else None
    if rule in db.session:
        db.session.expunge(rule)
    return rule
