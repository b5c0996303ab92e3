"""JSON shapes of tickets, messages, events, customers and admin records.

What a viewer may see is decided here with the named permission checks: customers never get
internal notes, internal events, staff e-mail addresses or customer documents.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import get_locale

from ..core.clock import iso  # noqa: F401 - the API modules import it from here
from ..core.permissions import is_staff
from ..tickets.authors import event_author
from ..tickets.models import PRIORITIES
from ..tickets.permissions import can_download_attachment, can_see_message


def _locale() -> str:
    return str(get_locale() or "")


def person(user, viewer) -> dict | None:
    if user is None:
        return None
    data = {"id": user.id, "name": user.name}
    if is_staff(viewer):
        data["email"] = user.email
    return data


def department_ref(dept) -> dict | None:
    return None if dept is None else {"id": dept.id, "name": dept.name}


def category_ref(category) -> dict | None:
    if category is None:
        return None
    return {"id": category.id, "name": category.name, "label": category.label(_locale())}


def customer_json(customer, viewer) -> dict:
    data = {
        "id": customer.id,
        "name": customer.name,
        "emails": [e.email for e in customer.emails],
        "phones": [p.number for p in customer.phones],
    }
    if is_staff(viewer):
        data["document"] = customer.document
        data["segment"] = customer.segment
        data["is_key_account"] = customer.is_key_account
    return data


def ticket_links(protocol: str) -> dict:
    return {
        "self": url_for("api.get_ticket", protocol=protocol),
        "messages": url_for("api.list_messages", protocol=protocol),
        "events": url_for("api.list_events", protocol=protocol),
        "portal": f"/portal/demands/{protocol}",
    }


def ticket_json(ticket, viewer, *, detail: bool = False, tags=None) -> dict:
    """`tags`: the ticket's tags when a list loaded them for the whole page (tags_by_ticket)."""
    data = {
        "protocol": ticket.protocol,
        "kind": ticket.kind,
        "category": category_ref(ticket.category),
        "channel": ticket.channel,
        "subject": ticket.subject,
        "description": ticket.description,
        "remedy": ticket.remedy,
        "status": ticket.status,
        "priority": PRIORITIES.get(ticket.priority, "normal"),
        "department": department_ref(ticket.department),
        "assignee": person(ticket.assignee, viewer),
        "customer": customer_json(ticket.customer, viewer),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "first_response_at": iso(ticket.first_response_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at),
        "customer_verdict": ticket.customer_verdict,
        "escalation_level": ticket.escalation_level or 0,
        "links": ticket_links(ticket.protocol),
    }
    if is_staff(viewer):  # labels for the team, not shown to customers
        data["tags"] = [t.name for t in (ticket.tags if tags is None else tags)]
    if detail:
        data["outcome"] = ticket.outcome
        data["attachments"] = [
            attachment_json(a) for a in ticket.attachments if can_download_attachment(viewer, a)
        ]
        data["sla"] = sla_json(ticket, viewer)
    return data


def sla_json(ticket, viewer) -> dict:
    """Each target's due instant and state; customers get the resolution deadline only."""
    from ..sla.clocks import visible_slas

    return {
        row.target: {"due_at": iso(row.due_at), "state": state, "met_at": iso(row.met_at)}
        for row, state in visible_slas(ticket, staff=is_staff(viewer))
    }


def attachment_json(attachment) -> dict:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "message_id": attachment.message_id,
        "created_at": iso(attachment.created_at),
    }


def message_json(message, viewer) -> dict:
    return {
        "id": message.id,
        "author_kind": message.author_kind,
        "author_name": message.author_name,
        "internal": message.is_internal,
        "channel": message.channel,
        "body": message.body,
        "created_at": iso(message.created_at),
        "attachments": [attachment_json(a) for a in message.attachments],
    }


def visible_messages(ticket, viewer) -> list:
    return [m for m in ticket.messages if can_see_message(viewer, m)]


def event_json(event, viewer) -> dict:
    """`actor` is the person who acted (null for the system's work: routing, automatic
    assignment, deadlines, sweeps); `actor_type` says who it was, `rule` the rule that decided."""
    author = event_author(event)
    rule = (
        {"type": author.kind, "id": author.rule_id, "name": author.rule_name}
        if author.kind in ("routing_rule", "escalation_rule")
        else None
    )
    return {
        "id": event.id,
        "action": event.action,
        "field": event.field,
        "old_value": event.old_value,
        "new_value": event.new_value,
        "detail": event.detail,
        "public": event.is_public,
        "actor": person(author.user, viewer),
        "actor_type": author.kind,
        "rule": rule,
        "created_at": iso(event.created_at),
    }


def department_json(dept) -> dict:
    return {
        "id": dept.id,
        "name": dept.name,
        "description": dept.description,
        "is_default": dept.is_default,
        "is_ombudsman": dept.is_ombudsman,
        "active": dept.active,
    }


def category_json(category) -> dict:
    return {
        "id": category.id,
        "name": category.name,
        "name_pt_br": category.name_pt_br,
        "name_es": category.name_es,
        "label": category.label(_locale()),
        "kinds": list(category.kinds or []),
        "active": category.active,
        "position": category.position,
    }


def rule_json(rule) -> dict:
    return {
        "id": rule.id,
        "position": rule.position,
        "name": rule.name,
        "active": rule.active,
        "kind": rule.kind,
        "category": rule.category_id,
        "channel": rule.channel,
        "keywords": rule.keyword_list,
        "segment": rule.segment,
        "key_account": rule.key_account,
        "relationship_type": rule.relationship_type,
        "lifecycle_stage": rule.lifecycle_stage,
        "value_tier": rule.value_tier,
        "department": department_ref(rule.department),
        "priority": PRIORITIES.get(rule.priority) if rule.priority else None,
        "agent": {"id": rule.agent.id, "name": rule.agent.name, "email": rule.agent.email}
        if rule.agent
        else None,
    }


def tag_json(tag) -> dict:
    return {"id": tag.id, "name": tag.name, "color": tag.color, "curated": tag.curated}


def macro_json(macro) -> dict:
    actions = dict(macro.actions or {})
    return {
        "id": macro.id,
        "name": macro.name,
        "scope": macro.scope,
        "department": department_ref(macro.department),
        "owner": None if macro.owner is None else {"id": macro.owner.id, "name": macro.owner.name},
        "body_pt_br": macro.body_pt_br or "",
        "body_es": macro.body_es or "",
        "body_en": macro.body_en or "",
        "actions": {key: actions.get(key) for key in _MACRO_ACTIONS if actions.get(key)},
        "active": macro.active,
        "usage_count": macro.usage_count or 0,
        "last_used_at": iso(macro.last_used_at),
    }


_MACRO_ACTIONS = (
    "status",
    "priority",
    "assignee_id",
    "department_id",
    "transfer_reason",
    "tags",
    "note",
)
