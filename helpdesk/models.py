"""Imports every model so that metadata (migrations, create_all) sees all tables."""

from .accounts.models import ApiToken, Department, OneTimeToken, User, memberships
from .customers.models import Customer, CustomerEmail, CustomerPhone
from .mail.models import InboundMessage, Mailbox
from .notifications.models import OutboxAttempt, OutboxMessage
from .routing.models import RoutingRule
from .sla.models import (
    BusinessCalendar,
    CalendarHoliday,
    CalendarInterval,
    SlaPolicy,
    TicketSla,
)
from .tickets.models import (
    Attachment,
    Category,
    IdempotencyKey,
    Message,
    ProtocolCounter,
    Ticket,
    TicketEvent,
)

__all__ = [
    "ApiToken",
    "Attachment",
    "BusinessCalendar",
    "CalendarHoliday",
    "CalendarInterval",
    "Category",
    "Customer",
    "CustomerEmail",
    "CustomerPhone",
    "Department",
    "IdempotencyKey",
    "InboundMessage",
    "Mailbox",
    "Message",
    "OneTimeToken",
    "OutboxAttempt",
    "OutboxMessage",
    "ProtocolCounter",
    "RoutingRule",
    "SlaPolicy",
    "Ticket",
    "TicketEvent",
    "TicketSla",
    "User",
    "memberships",
]
