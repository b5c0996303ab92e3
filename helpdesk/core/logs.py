"""How services name things in their INFO log lines (one line per state change, as Indico's
operations log): ids, protocol numbers and the acting user's id, never names, emails or texts.

    log.info("Ticket %s assigned to user %s by %s", ticket.protocol, agent.id, who(actor))
"""

from __future__ import annotations


def who(actor, nobody: str = "system") -> str:
    """The actor of a change: ``user <id>``, or `nobody` when there is none (``system``: a rule,
    a job; callers where no actor means the customer without a login pass ``"customer"``)."""
    actor_id = getattr(actor, "id", None)
    return f"user {actor_id}" if actor_id is not None else nobody
