"""Guest access in the browser session: which demands this browser may open without an account.

The session holds only the ids of guest grants (redeemed guest links, or the grant given to the
browser that registered a demand without an account). Every request checks them against the
database (`valid_guest_grants`): an expired or revoked grant opens nothing, whatever the signed
cookie still says.
"""

from __future__ import annotations

from flask import g, session

from ..accounts.services import valid_guest_grants
from ..tickets.merge import survivor_ids

GUEST_SESSION_KEY = "guest_grants"
MAX_GUEST_GRANTS = 20


def _session_grant_ids() -> list[int]:
    raw = session.get(GUEST_SESSION_KEY, [])
    if not isinstance(raw, list):
        return []
    return [i for i in raw if isinstance(i, int) and not isinstance(i, bool)]


def remember_guest_grant(grant) -> None:
    """Keep `grant` (a redeemed guest token) in this browser's session."""
    ids = [i for i in _session_grant_ids() if i != grant.id]
    session[GUEST_SESSION_KEY] = [*ids[-(MAX_GUEST_GRANTS - 1) :], grant.id]
    g.pop("_guest_grants", None)
    g.pop("_guest_ticket_ids", None)


def guest_grants() -> dict[int, int]:
    """{grant id: ticket id} of this browser's grants that still hold (one query per request,
    none without grants); grants that no longer hold leave the session."""
    cached = g.get("_guest_grants")
    if cached is not None:
        return cached
    ids = _session_grant_ids()
    grants = valid_guest_grants(ids) if ids else {}
    if ids and len(grants) != len(ids):
        session[GUEST_SESSION_KEY] = [i for i in ids if i in grants]
    g._guest_grants = grants
    return grants


def guest_ticket_ids() -> set[int]:
    """Tickets this browser may open as a guest, checked against the database now; a demand
    merged into another opens its survivor too (the same customer's, see tickets.merge)."""
    cached = g.get("_guest_ticket_ids")
    if cached is not None:
        return cached
    ids = set(guest_grants().values())
    if ids:
        ids |= set(survivor_ids(ids).values())
    g._guest_ticket_ids = ids
    return ids


def guest_grant_for(ticket_id: int) -> int | None:
    return next((gid for gid, tid in guest_grants().items() if tid == ticket_id), None)
