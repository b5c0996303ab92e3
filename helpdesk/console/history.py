"""One translated sentence per ticket event, for the workspace's history panel."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..escalations.models import DECISION_LABELS, LEVEL_LABELS, REASON_LABELS
from ..tickets.authors import event_author, parse_rule
from ..tickets.models import (
    CHANNEL_LABELS,
    KIND_LABELS,
    PRIORITY_LABELS,
    PRIORITY_VALUES,
    STATUS_LABELS,
    TicketEvent,
)

# one whole sentence per field: the article before a field name changes with gender in pt and es
UPDATED_SENTENCES = {
    "subject": _l("%(who)s changed the subject."),
    "description": _l("%(who)s changed the description."),
    "remedy": _l("%(who)s changed the remedy sought."),
    "category_id": _l("%(who)s changed the category."),
    None: _l("%(who)s changed the demand's details."),
}


def _label(mapping, value) -> str:
    if value is None:
        return "—"
    return str(mapping.get(value, value))


def _priority(value) -> str:
    return _label(PRIORITY_LABELS, PRIORITY_VALUES.get(value)) if value else "—"


def actor_name(event: TicketEvent) -> str:
    """Who acted, as the subject of a sentence: a person's name, "The customer", "The system",
    or the rule that decided (routing, assignment, SLA and sweep events are never a person's)."""
    author = event_author(event)
    if author.kind == "routing_rule":
        return _("Routing rule “%(name)s”", name=author.rule_name)
    if author.kind == "escalation_rule":
        return _("Escalation rule “%(name)s”", name=author.rule_name)
    if author.user is not None:
        return author.user.name
    return _("The customer") if author.kind == "customer" else _("The system")


REASONS = {
    "default": _l("no rule matched: the default department"),
    "key_account": _l("the customer's dedicated agent"),
    "least_loaded": _l("the available agent with the fewest open demands"),
    "registered_by": _l("the agent who registered it"),
}


def reason_text(code: str) -> str:
    """Routing reason codes (see routing.services.rule_reason) as a translated phrase."""
    if code.startswith("rule:"):
        name = code.split(":", 2)[2] if code.count(":") >= 2 else code
        return _("routing rule “%(name)s”", name=name)
    return str(REASONS.get(code, code))


# deadlines and escalations (issue 3): one sentence per SLA event, the target named
SLA_TARGET_NAMES = {
    "first_response": _l("first response"),
    "next_response": _l("next response"),
    "resolution": _l("resolution"),
}
SLA_SENTENCES = {
    "sla_breached": _l("Deadline missed: %(target)s."),
    "sla_met": _l("Deadline met: %(target)s."),
    "sla_breached_met": _l("Deadline met late: %(target)s."),
    "sla_paused": _l("Deadline paused: %(target)s."),
    "sla_resumed": _l("Deadline resumed: %(target)s."),
    "sla_started": _l("Deadline started: %(target)s."),
    "sla_reopened": _l("Deadline running again: %(target)s."),
}


def _level(value) -> str:
    try:
        return str(LEVEL_LABELS[int(value)])
    except (TypeError, ValueError, KeyError):
        return "—"


def _escalation_sentence(event: TicketEvent, who: str) -> str | None:
    action = event.action
    if action == "escalated":
        return _(
            "%(who)s escalated it from %(old)s to %(new)s.",
            who=who,
            old=_level(event.old_value),
            new=_level(event.new_value),
        )
    if action == "de_escalated":
        return _(
            "%(who)s de-escalated it from %(old)s to %(new)s.",
            who=who,
            old=_level(event.old_value),
            new=_level(event.new_value),
        )
    if action == "escalation_acknowledged":
        return _(
            "%(who)s acknowledged the escalation (%(level)s).",
            who=who,
            level=_level(event.new_value),
        )
    if action == "escalation_decided":
        return _(
            "%(who)s decided the escalation: %(decision)s.",
            who=who,
            decision=_label(DECISION_LABELS, event.new_value),
        )
    if action in SLA_SENTENCES:
        return str(SLA_SENTENCES[action]) % {
            "target": _label(SLA_TARGET_NAMES, event.field),
        }
    return None


def event_detail(event: TicketEvent) -> str:
    """The event's free text, with stored codes (the kind on "created") shown translated."""
    if event.action == "sla":
        return ""
    if event.action == "escalated":
        reason = REASON_LABELS.get(event.detail or "")
        return _("Why: %(reason)s", reason=reason) if reason else event.detail or ""
    if event.action == "created":
        return _label(KIND_LABELS, event.detail) if event.detail else ""
    rule = parse_rule(event.detail)
    if rule is not None and (rule[0] == "escalation_rule" or event.action != "routed"):
        return ""  # the sentence already names the rule as the one who acted
    if (
        event.action in ("routed", "assigned", "priority")
        and event.detail
        and (event.detail in REASONS or event.detail.startswith("rule:"))
    ):
        return _("Why: %(reason)s", reason=reason_text(event.detail))
    return event.detail or ""


def describe_event(event: TicketEvent) -> str:
    """A sentence such as "Ana changed the status from New to Open."."""
    who = actor_name(event)
    old, new, action = event.old_value, event.new_value, event.action
    if action == "created":
        return _(
            "%(who)s registered the demand (channel: %(channel)s).",
            who=who,
            channel=_label(CHANNEL_LABELS, new),
        )
    if action == "routed":
        return _("Routed to %(department)s.", department=new or "—")
    if action == "assigned":
        if new is None:
            return _("%(who)s removed the assignee (was %(old)s).", who=who, old=old or "—")
        if old:
            return _("%(who)s reassigned it from %(old)s to %(new)s.", who=who, old=old, new=new)
        return _("%(who)s assigned it to %(new)s.", who=who, new=new)
    if action == "updated":
        if event.field == "kind":
            return _(
                "%(who)s changed the kind from %(old)s to %(new)s.",
                who=who,
                old=_label(KIND_LABELS, old),
                new=_label(KIND_LABELS, new),
            )
        return str(UPDATED_SENTENCES.get(event.field, UPDATED_SENTENCES[None])) % {"who": who}
    if action == "note":
        return _("%(who)s added an internal note.", who=who)
    if action == "answered":
        return _("%(who)s answered the customer.", who=who)
    if action == "customer_replied":
        return _(
            "%(who)s replied (channel: %(channel)s).", who=who, channel=_label(CHANNEL_LABELS, new)
        )
    if action == "status":
        return _(
            "%(who)s changed the status from %(old)s to %(new)s.",
            who=who,
            old=_label(STATUS_LABELS, old),
            new=_label(STATUS_LABELS, new),
        )
    if action == "priority":
        return _(
            "%(who)s changed the priority from %(old)s to %(new)s.",
            who=who,
            old=_priority(old),
            new=_priority(new),
        )
    if action == "transferred":
        return _(
            "%(who)s transferred it from %(old)s to %(new)s.", who=who, old=old or "—", new=new
        )
    if action == "verdict":
        if new == "resolved":
            return _("%(who)s said the demand was resolved.", who=who)
        return _("%(who)s said the demand was not resolved.", who=who)
    if action == "sla":
        if event.detail == "recomputed":
            return _("Deadlines recomputed (SLA policy “%(name)s”).", name=new or "—")
        return _("SLA policy “%(name)s” applied.", name=new or "—")
    if action == "call":
        if event.field == "ended":
            return _("The phone call ended (%(seconds)s s).", seconds=new or "0")
        return _("%(who)s linked a phone call from %(number)s.", who=who, number=new or "—")
    if action == "legal_hold":
        if new == "on":
            return _("%(who)s put the demand under a legal hold.", who=who)
        return _("%(who)s lifted the legal hold.", who=who)
    if action == "investigation_linked":
        return _("%(who)s linked it to investigation %(number)s.", who=who, number=new or "—")
    if action == "investigation_unlinked":
        return _("%(who)s unlinked it from investigation %(number)s.", who=who, number=old or "—")
    if action == "investigation_notice":
        return _(
            "%(who)s told the customer what investigation %(number)s fixed.",
            who=who,
            number=new or "—",
        )
    if action == "merged":
        return _("%(who)s merged it into demand %(protocol)s.", who=who, protocol=new or "—")
    if action == "merged_from":
        return _("%(who)s merged demand %(protocol)s into it.", who=who, protocol=new or "—")
    if action == "rated":
        return _("%(who)s rated the service %(n)s out of 5.", who=who, n=new or "—")
    sentence = _escalation_sentence(event, who)
    if sentence is not None:
        return sentence
    return _("%(who)s: %(action)s.", who=who, action=action)
