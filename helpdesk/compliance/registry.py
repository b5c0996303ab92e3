"""Every column that holds personal data, in one place, and what anonymisation writes there.

A field added later (a survey comment, a customer note) is one line here: `PersonalColumn(Model,
"column", kind, scope)`. Scope "customer" rows are found from customer ids, scope "ticket" rows from
ticket ids; `key` says which column names them (or builds the condition itself).

Kinds and what they become: name → "Anonymised"; email/phone on a unique column → a placeholder
unique per row, otherwise a fixed placeholder (or NULL when the column allows it); document → NULL;
text → "[anonymised]"; clear → ""; null → NULL; or an explicit `value`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..accounts.models import User
from ..channels.models import Call, ContactHandle, Conversation
from ..customers.models import Customer, CustomerEmail, CustomerEvent, CustomerPhone
from ..mail.models import InboundMessage
from ..notifications.models import OutboxMessage
from ..surveys.models import Survey
from ..tickets.models import Attachment, Message, Ticket, TicketEvent

ANON_NAME = "Anonymised"
ANON_TEXT = "[anonymised]"
ANON_EMAIL_DOMAIN = "anonymised.invalid"
_KEEP = object()


@dataclass(frozen=True)
class PersonalColumn:
    model: Any
    column: str
    kind: str  # name | email | phone | document | text | clear | null
    scope: str  # customer | ticket
    key: str | Callable[[Any], Any] = "customer_id"
    only: Callable[[], Any] | None = None  # an extra condition (e.g. customer-authored messages)
    value: Any = _KEEP

    def replacement(self):
        if self.value is not _KEEP:
            return self.value
        col = self.model.__table__.c[self.column]
        pk = self.model.__table__.c.id
        if self.kind == "name":
            return ANON_NAME
        if self.kind in ("email", "phone") and col.unique:
            prefix = "anonymised-" if self.kind == "email" else "anon-"
            suffix = f"@{ANON_EMAIL_DOMAIN}" if self.kind == "email" else ""
            return sa.literal(prefix) + sa.cast(pk, sa.String) + sa.literal(suffix)
        if self.kind == "email":
            return None if col.nullable else f"anonymised@{ANON_EMAIL_DOMAIN}"
        if self.kind == "phone":
            return None if col.nullable else ""
        if self.kind == "text":
            return ANON_TEXT
        if self.kind == "clear":
            return None if col.nullable else ""
        return None  # document, null

    def condition(self, ids):
        if callable(self.key):
            return self.key(ids)
        return self.model.__table__.c[self.key].in_(ids)


def _customer_user(ids):
    return User.id.in_(sa.select(Customer.user_id).where(Customer.id.in_(ids)))


def _customer_messages():
    return Message.author_kind == "customer"


# ticket events whose `detail` is text people wrote (the customer's verdict comment, a reason for a
# transfer or a merge, an escalation decision's note); the others hold codes the reports read.
# The anonymiser freezes the events' text digests first, so the hash chain still verifies.
FREE_TEXT_EVENTS = ("verdict", "transferred", "merged", "merged_from", "escalation_decided")


def _free_text_events():
    return sa.and_(TicketEvent.action.in_(FREE_TEXT_EVENTS), TicketEvent.detail != "")


PERSONAL_DATA: tuple[PersonalColumn, ...] = (
    # the customer record
    PersonalColumn(Customer, "name", "name", "customer", key="id"),
    PersonalColumn(Customer, "document", "document", "customer", key="id"),
    PersonalColumn(CustomerEmail, "email", "email", "customer"),
    PersonalColumn(CustomerPhone, "number", "phone", "customer"),
    # what agents wrote on the record, and its audit trail (old and new values of those notes)
    PersonalColumn(Customer, "customer_notes", "clear", "customer", key="id"),
    PersonalColumn(Customer, "customer_important_dates", "clear", "customer", key="id"),
    PersonalColumn(CustomerEvent, "old_value", "null", "customer"),
    PersonalColumn(CustomerEvent, "new_value", "null", "customer"),
    # what the customer wrote in a satisfaction survey
    PersonalColumn(Survey, "customer_comment", "clear", "customer"),
    # the customer's portal account: no name, no address, no way to sign in
    PersonalColumn(User, "name", "name", "customer", key=_customer_user),
    PersonalColumn(User, "email", "email", "customer", key=_customer_user),
    PersonalColumn(User, "password_hash", "null", "customer", key=_customer_user),
    PersonalColumn(User, "active", "null", "customer", key=_customer_user, value=False),
    # channels
    PersonalColumn(Call, "caller_number", "phone", "customer"),
    PersonalColumn(Call, "caller_e164", "phone", "customer"),
    PersonalColumn(Call, "recording_ref", "null", "customer"),
    PersonalColumn(ContactHandle, "handle", "email", "customer"),
    PersonalColumn(Conversation, "contact_handle", "clear", "customer"),
    # the demands: free text, the customer's name on their messages, attachments' names
    PersonalColumn(Ticket, "subject", "text", "ticket", key="id"),
    PersonalColumn(Ticket, "description", "text", "ticket", key="id"),
    PersonalColumn(Ticket, "remedy", "text", "ticket", key="id"),
    PersonalColumn(Ticket, "outcome", "text", "ticket", key="id"),
    PersonalColumn(Message, "body", "text", "ticket", key="ticket_id"),
    PersonalColumn(
        Message, "author_name", "name", "ticket", key="ticket_id", only=_customer_messages
    ),
    PersonalColumn(Attachment, "filename", "text", "ticket", key="ticket_id"),
    PersonalColumn(
        TicketEvent, "detail", "text", "ticket", key="ticket_id", only=_free_text_events
    ),
    PersonalColumn(Call, "caller_number", "phone", "ticket", key="ticket_id"),
    PersonalColumn(Call, "caller_e164", "phone", "ticket", key="ticket_id"),
    PersonalColumn(Call, "recording_ref", "null", "ticket", key="ticket_id"),
    PersonalColumn(Conversation, "contact_handle", "clear", "ticket", key="ticket_id"),
    PersonalColumn(Survey, "customer_comment", "clear", "ticket", key="ticket_id"),
    PersonalColumn(InboundMessage, "from_addr", "email", "ticket", key="ticket_id"),
    PersonalColumn(InboundMessage, "subject", "text", "ticket", key="ticket_id"),
    PersonalColumn(InboundMessage, "body_full", "text", "ticket", key="ticket_id"),
    PersonalColumn(InboundMessage, "body_html", "clear", "ticket", key="ticket_id"),
    PersonalColumn(InboundMessage, "auth_header", "clear", "ticket", key="ticket_id"),
    PersonalColumn(OutboxMessage, "to_addr", "email", "ticket", key="ticket_id"),
    PersonalColumn(OutboxMessage, "subject", "text", "ticket", key="ticket_id"),
    PersonalColumn(OutboxMessage, "body_text", "text", "ticket", key="ticket_id"),
    PersonalColumn(OutboxMessage, "body_html", "clear", "ticket", key="ticket_id"),
)


def columns(scope: str) -> list[PersonalColumn]:
    return [entry for entry in PERSONAL_DATA if entry.scope == scope]
