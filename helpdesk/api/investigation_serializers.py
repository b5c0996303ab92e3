"""JSON shapes of investigations, their linked tickets and CAPA actions (described by
api/schemas/investigations.py; what a viewer may see of a linked ticket is decided here)."""

from __future__ import annotations

from flask import url_for

from ..core.i18n import localized_name
from ..investigations import dates, operations, queries
from ..investigations.models import LEVELS, CapaAction, Investigation
from ..tickets.permissions import can_view_ticket
from .serializers import iso


def _person(user) -> dict | None:
    return {"id": user.id, "name": user.name} if user is not None else None


def action_json(action: CapaAction, today) -> dict:
    return {
        "id": action.id,
        "description": action.description,
        "kind": action.kind,
        "status": action.status,
        "owner": _person(action.owner),
        "due_on": action.due_on.isoformat() if action.due_on else None,
        "overdue": action.is_overdue(today),
        "done_at": iso(action.done_at),
        "evidence": action.evidence,
        "created_at": iso(action.created_at),
    }


def investigation_json(found: Investigation, user, *, detail: bool = False) -> dict:
    data = {
        "number": found.number,
        "title": found.title,
        "status": found.status,
        "impact": LEVELS[found.impact],
        "urgency": LEVELS[found.urgency],
        "owner": _person(found.owner),
        "created_at": iso(found.created_at),
        "updated_at": iso(found.updated_at),
        "closed_at": iso(found.closed_at),
        "links": {"self": url_for("api.get_investigation", number=found.number)},
    }
    if not detail:
        return data
    today = dates.today()
    data.update(
        statement=found.statement,
        location=found.location,
        since=found.since.isoformat() if found.since else None,
        customers_affected=found.customers_affected,
        estimated_cost=found.estimated_cost,
        department=(
            {"id": found.department.id, "name": found.department.name} if found.department else None
        ),
        category=(
            {
                "id": found.category.id,
                "name": found.category.name,
                "label": localized_name(found.category),
            }
            if found.category
            else None
        ),
        keywords=[k.strip() for k in found.keywords.split(",") if k.strip()],
        containment=found.containment,
        ishikawa=found.ishikawa,
        subcategory=(
            {"id": found.subcategory.id, "name": found.subcategory.name}
            if found.subcategory
            else None
        ),
        whys=[{"position": w.position, "text": w.text, "accepted": w.accepted} for w in found.whys],
        root_cause=found.root_cause,
        evidence=found.evidence,
        effectiveness={
            "metric": found.metric,
            "baseline": found.baseline,
            "target": found.target,
            "check_on": found.check_on.isoformat() if found.check_on else None,
            "result": found.result,
            "verdict": found.verdict,
        },
        notice={"pt_BR": found.notice_pt_br, "es": found.notice_es, "en": found.notice_en},
        cancel_reason=found.cancel_reason,
        reopened_count=found.reopened_count,
        tickets=[link_json(link, user) for link in found.links],
        recurrences=queries.recurrence_count(found),
        actions=[action_json(a, today) for a in found.actions],
        close_blockers={k: str(v) for k, v in operations.blockers(found, "closed").items()},
        allowed_transitions=sorted(operations.TRANSITIONS[found.status]),
    )
    return data


def link_json(link, user) -> dict:
    ticket = link.ticket
    visible = can_view_ticket(user, ticket)
    return {
        "protocol": ticket.protocol,
        "subject": ticket.subject if visible else None,
        "status": ticket.status,
        "linked_at": iso(link.linked_at),
        "recurrence": link.is_recurrence,
    }
