"""The customer's verdict after an answer, as every surface records it (portal, API, demo).

The ticket records the verdict (`tickets.services.record_ticket_verdict`: event, rating, comment,
status); an answered demand the customer says is not resolved then goes to the ombudsman (issue 3).
This orchestration sits above both, so the ticket services never call up into escalations.
"""

from __future__ import annotations

from ..accounts.models import User
from ..surveys.services import LOW_RATING, open_follow_up
from ..tickets.models import Ticket
from ..tickets.services import record_ticket_verdict
from .services import escalate_by_customer


def record_verdict(
    ticket: Ticket,
    actor: User | None,
    *,
    resolved: bool,
    rating: int | None = None,
    comment: str = "",
) -> None:
    """Resolved closes the loop; not resolved reopens and escalates to the ombudsman (once: a
    demand already there is only reopened). Resolved but rated badly opens the supervisor's
    follow-up, as a bad survey answer does (the ombudsman takes the not-resolved ones)."""
    record_ticket_verdict(ticket, actor, resolved=resolved, rating=rating, comment=comment)
    if not resolved:
        escalate_by_customer(ticket, actor, reason="not_resolved", note=comment)
    elif rating is not None and rating <= LOW_RATING:
        open_follow_up(ticket, None)
