"""Who really acted on a ticket event: a person, the customer, the system, or a named rule.

Routing, automatic assignment, deadlines (SLA) and the escalation sweep are the system's work,
even when they ran inside a request made by someone (a customer registering in the portal, an
agent rerouting). Services record those events without an actor; this module also reads older
rows that carried the requester, so every surface (console history, API) shows the same author.
"""

from __future__ import annotations

from dataclasses import dataclass

# always the system's, whoever's request they ran in
SYSTEM_ACTIONS = frozenset(
    {
        "routed",
        "sla",
        "sla_breached",
        "sla_met",
        "sla_breached_met",
        "sla_paused",
        "sla_resumed",
        "sla_started",
        "sla_reopened",
    }
)
# actions the customer takes; recorded without an actor for a customer without an account
CUSTOMER_ACTIONS = frozenset({"created", "customer_replied", "verdict", "rated"})
CUSTOMER_ESCALATION_REASONS = frozenset({"not_resolved", "deadline_passed"})
# the routing reasons that are automatic decisions ("registered_by" is the agent's own choice)
AUTOMATIC_REASONS = frozenset({"default", "key_account", "least_loaded"})
ROUTING_RULE_PREFIX = "rule:"
ESCALATION_RULE_PREFIX = "escalation_rule:"


@dataclass(frozen=True)
class Author:
    kind: str  # "user", "customer", "system", "routing_rule" or "escalation_rule"
    user: object | None = None
    rule_id: int | None = None
    rule_name: str | None = None


def escalation_rule_reason(rule_id: int, name: str) -> str:
    """The detail code of an event an escalation rule caused."""
    return f"{ESCALATION_RULE_PREFIX}{rule_id}:{name}"


def parse_rule(detail: str | None) -> tuple[str, int | None, str] | None:
    """("routing_rule" | "escalation_rule", id, name) from a rule code in an event detail."""
    if not detail:
        return None
    for prefix, kind in (
        (ESCALATION_RULE_PREFIX, "escalation_rule"),
        (ROUTING_RULE_PREFIX, "routing_rule"),
    ):
        if detail.startswith(prefix):
            rest = detail[len(prefix) :]
            ident, _sep, name = rest.partition(":")
            return kind, int(ident) if ident.isdigit() else None, name or rest
    return None


def is_automatic(event) -> bool:
    """True when the event is the system's (or a rule's) work, whoever's request it ran in."""
    if event.action in SYSTEM_ACTIONS:
        return True
    if event.action in ("assigned", "priority", "transferred"):
        return parse_rule(event.detail) is not None or event.detail in AUTOMATIC_REASONS
    return False


def event_author(event) -> Author:
    if is_automatic(event):
        rule = parse_rule(event.detail)
        if rule is not None:
            return Author(rule[0], rule_id=rule[1], rule_name=rule[2])
        return Author("system")
    actor = event.actor
    if actor is not None:
        return Author("customer" if actor.role == "customer" else "user", user=actor)
    if event.action in CUSTOMER_ACTIONS or (
        event.action == "escalated" and event.detail in CUSTOMER_ESCALATION_REASONS
    ):
        return Author("customer")
    return Author("system")
