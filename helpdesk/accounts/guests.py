"""A visitor without an account opens a demand: found or created as a customer by the email they
give, registered through the one intake (`register_ticket`), acknowledged with a guest link and
given a guest grant for the browser they used.

Its own module (not accounts.services): it calls the tickets services, which call back into
accounts for the default department.
"""

from __future__ import annotations

from ..core.errors import Conflict
from ..customers.services import (
    add_contacts,
    create_customer,
    find_customer_by_email,
    normalize_document,
    normalize_email,
    normalize_phone,
)
from ..extensions import db
from ..notifications.services import notify_acknowledgement
from ..tickets.services import register_ticket
from .services import grant_guest_access


def _guest_customer(*, name: str, email: str, phone: str, document: str, locale: str | None):
    """The customer record of a visitor's email, or a new one. Nothing a visitor types changes
    an existing record (the email is not proven yet); a new record gets the phone and CPF unless
    they already belong to someone else."""
    email_n = normalize_email(email)
    phone_n = normalize_phone(phone) if (phone or "").strip() else None
    doc_n = normalize_document(document) if (document or "").strip() else None
    customer = find_customer_by_email(email_n)
    if customer is not None:
        return customer, email_n
    try:
        with db.session.begin_nested():
            customer = create_customer(name=name, email=email_n, locale=locale)
    except Conflict:  # the same visitor a moment ago, in another tab
        customer = find_customer_by_email(email_n)
        if customer is None:
            raise
        return customer, email_n
    add_contacts(customer, phone=phone_n, document=doc_n)
    return customer, email_n


def open_guest_demand(
    *,
    name: str,
    email: str,
    phone: str = "",
    document: str = "",
    locale: str | None = None,
    **demand,
):
    """A visitor without an account opens a demand: registered like every channel's, the
    protocol emailed at once with a guest link that opens it, and this browser given access.

    Returns (ticket, grant): the caller keeps the grant's id in the visitor's session."""
    customer, email_n = _guest_customer(
        name=name, email=email, phone=phone, document=document, locale=locale
    )
    ticket = register_ticket(
        actor=None, customer=customer, channel="web", notify_customer=False, **demand
    )
    notify_acknowledgement(ticket, to=email_n)  # with a guest link: the visitor has no account
    return ticket, grant_guest_access(ticket, email_n)
