"""Named permission checks on tickets, their messages and attachments (used by views, the API,
services and templates alike); the checks by role alone are in helpdesk/core/permissions.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from ..core.permissions import is_staff

if TYPE_CHECKING:
    from ..accounts.models import User
    from .models import Attachment, Message, Ticket


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


def staff_can_view(user: User):
    """`can_view_ticket` for a staff member as a WHERE condition on tickets (None: every ticket),
    for lists and search: their departments' tickets and those assigned to them."""
    from .models import Ticket

    departments = staff_department_ids(user)
    if departments is None:
        return None
    return sa.or_(Ticket.department_id.in_(departments or [-1]), Ticket.assignee_id == user.id)


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
