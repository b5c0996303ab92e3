"""Imports every model so that metadata (migrations, create_all) sees all tables."""

from .accounts.models import ApiToken, Department, OneTimeToken, User, memberships
from .customers.models import Customer, CustomerEmail, CustomerPhone
from .investigations.models import (
    CapaAction,
    Investigation,
    InvestigationEvent,
    InvestigationTicket,
    InvestigationWhy,
    IshikawaSubcategory,
    NoticeBroadcast,
    NoticeDelivery,
)
from .notifications.models import OutboxMessage
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
    "CapaAction",
    "CalendarHoliday",
    "CalendarInterval",
    "Category",
    "Customer",
    "CustomerEmail",
    "CustomerPhone",
    "Department",
    "IdempotencyKey",
    "Investigation",
    "InvestigationEvent",
    "InvestigationTicket",
    "InvestigationWhy",
    "IshikawaSubcategory",
    "Message",
    "NoticeBroadcast",
    "NoticeDelivery",
    "OneTimeToken",
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
