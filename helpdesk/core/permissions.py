"""Named permission checks by role (staff, supervisor, admin, integration), used by views, the API
and templates alike. Checks on tickets, which need the domain's models, live in
helpdesk/tickets/permissions.py (core imports no domain package)."""

from __future__ import annotations


def is_staff(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.is_staff)


def is_admin(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.role == "admin")


def is_supervisor(user) -> bool:
    return bool(
        user and getattr(user, "is_authenticated", False) and user.role in ("supervisor", "admin")
    )


def can_admin(user) -> bool:
    return is_admin(user)


def can_integrate(user) -> bool:
    """Phone systems and chat connectors (CTI, conversations): an integration or admin token."""
    return bool(
        user and getattr(user, "is_authenticated", False) and user.role in ("integration", "admin")
    )


def can_take_call(user, call) -> bool:
    """Only the agent the phone system put the call through to acts on its pop."""
    return is_staff(user) and call.agent_id == user.id
