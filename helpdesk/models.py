"""Imports every model so that metadata (migrations, create_all) sees all tables."""

from .accounts.models import (
    ApiToken,
    Department,
    OneTimeToken,
    RecoveryCode,
    User,
    UserSession,
    memberships,
)
from .audit.models import AdminAuditEntry
from .channels.models import Call, ContactHandle, Conversation
from .compliance.models import DataRequest
from .customers.models import Customer, CustomerEmail, CustomerEvent, CustomerPhone
from .escalations.models import Escalation, EscalationRule, Notification
from .feedback.models import FeedbackItem, FeedbackTopic
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
from .kb.index import ArticleSearch
from .kb.models import (
    Article,
    DeflectionEvent,
    KbImage,
    KbRevision,
    KbTopic,
    KbUse,
    KbVote,
    ProblemFollower,
    ProblemNotice,
)
from .macros.models import Macro
from .mail.models import InboundMessage, Mailbox
from .notifications.models import OutboxAttempt, OutboxMessage
from .routing.models import RoutingRule
from .search.models import SearchDocument
from .sla.models import (
    BusinessCalendar,
    CalendarHoliday,
    CalendarInterval,
    SlaPolicy,
    TicketSla,
)
from .surveys.models import FollowUp, Survey
from .tickets.models import (
    Attachment,
    Category,
    IdempotencyKey,
    Message,
    ProtocolCounter,
    SavedView,
    Tag,
    Ticket,
    TicketEvent,
    TicketPresence,
    ticket_tags,
)
from .webhooks.models import WebhookDelivery, WebhookSubscription

__all__ = [
    "AdminAuditEntry",
    "RecoveryCode",
    "UserSession",
    "CustomerEvent",
    "FeedbackItem",
    "FeedbackTopic",
    "FollowUp",
    "Survey",
    "Article",
    "ArticleSearch",
    "DeflectionEvent",
    "KbImage",
    "KbRevision",
    "KbTopic",
    "KbUse",
    "KbVote",
    "ProblemFollower",
    "ProblemNotice",
    "ApiToken",
    "Attachment",
    "Call",
    "ContactHandle",
    "Conversation",
    "BusinessCalendar",
    "CapaAction",
    "CalendarHoliday",
    "CalendarInterval",
    "Category",
    "Customer",
    "DataRequest",
    "CustomerEmail",
    "CustomerPhone",
    "Department",
    "Escalation",
    "EscalationRule",
    "IdempotencyKey",
    "InboundMessage",
    "Investigation",
    "InvestigationEvent",
    "InvestigationTicket",
    "InvestigationWhy",
    "IshikawaSubcategory",
    "Macro",
    "Mailbox",
    "Message",
    "NoticeBroadcast",
    "NoticeDelivery",
    "Notification",
    "OneTimeToken",
    "OutboxAttempt",
    "OutboxMessage",
    "ProtocolCounter",
    "RoutingRule",
    "SavedView",
    "SearchDocument",
    "SlaPolicy",
    "Tag",
    "Ticket",
    "TicketEvent",
    "TicketPresence",
    "TicketSla",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
    "memberships",
    "ticket_tags",
]
