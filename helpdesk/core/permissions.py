"""Named permission checks used by views, the API and templates alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..accounts.models import User
    from ..tickets.models import Attachment, Message, Ticket


def is_staff(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.is_staff)


def is_admin(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.role == "admin")


def is_supervisor(user) -> bool:
    return bool(
        user and getattr(user, "is_authenticated", False) and user.role in ("supervisor", "admin")
    )


def staff_department_ids(user: User) -> list[int] | None:
    """Departments whose tickets a staff member works; None means every department (admin)."""
    if user.role == "admin":
        return None
    return user.department_ids


def can_view_ticket(
    user, ticket: Ticket, guest_ticket_ids: set[int] | frozenset = frozenset()
) -> bool:
    if ticket.id in guest_ticket_ids:
        return True
    if not user or not getattr(user, "is_authenticated", False):
        return False
    if user.role == "customer":
        return ticket.customer.user_id == user.id
    if user.role == "admin":
        return True
    return ticket.department_id in user.department_ids or ticket.assignee_id == user.id


def can_work_ticket(user, ticket: Ticket) -> bool:
    return is_staff(user) and can_view_ticket(user, ticket)


def can_see_message(user, message: Message) -> bool:
    return not message.is_internal or is_staff(user)


def can_download_attachment(user, attachment: Attachment, guest_ticket_ids=frozenset()) -> bool:
    if not can_view_ticket(user, attachment.ticket, guest_ticket_ids):
        return False
    return attachment.message is None or can_see_message(user, attachment.message)


def can_assign_to(actor: User, ticket: Ticket, assignee: User) -> bool:
    return (
        assignee.active
        and assignee.is_staff
        and (assignee.role == "admin" or ticket.department_id in assignee.department_ids)
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
