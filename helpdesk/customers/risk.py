"""Customers at risk, and the alerts that tell the account manager (customer 360).

A customer is flagged at risk when a second complaint arrives within `AT_RISK_WINDOW_DAYS` (30)
or when they say a demand is not resolved. The flag is set once (`customers.at_risk_since`, by a
conditional UPDATE, so two requests at once flag and notify once), with a CustomerEvent "at_risk"
naming the reason, and one email goes to the key-account manager or, when there is none, to the
supervisors of the demand's department (and one to each address of `AT_RISK_NOTIFY_EMAILS`,
e.g. sales). A supervisor clears the flag (audited); a later flagging
counts only complaints registered after the clearing.

A key account's complaint alerts its account manager at registration, once per demand (a
`key_account_alerted` ticket event marks it, so a call completed as a complaint later alerts too,
once).

Hooks: `tickets.services` calls `on_complaint` after a complaint is registered (or a demand
becomes one) and `on_not_resolved` when the customer's verdict is "not resolved". The cheap path
is one indexed count (`ix_tickets_customer`) for a complaint of a customer not yet at risk.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..accounts.models import STAFF_ROLES, User
from ..accounts.services import department_supervisors
from ..core.clock import as_utc, now
from ..core.errors import Conflict
from ..extensions import db
from ..notifications.services import queue_email
from ..tickets.events import record_event
from ..tickets.models import Ticket, TicketEvent
from .models import Customer, CustomerEvent

log = logging.getLogger(__name__)

AT_RISK_WINDOW_DAYS = 30
AT_RISK_COMPLAINTS = 2
REASONS = ("complaints", "not_resolved")


def on_complaint(ticket: Ticket, *, registered: bool = True) -> None:
    """After a complaint is registered (`registered`) or a demand becomes one: the key-account
    alert, and the at-risk flag when it is the customer's second complaint within the window."""
    customer = ticket.customer
    if customer.is_key_account:
        alert_key_account_complaint(ticket, registered=registered)
    if customer.at_risk_since is not None:
        return
    since = now() - timedelta(days=AT_RISK_WINDOW_DAYS)
    count = db.session.scalar(
        sa.select(sa.func.count(Ticket.id)).where(
            Ticket.customer_id == customer.id,
            Ticket.created_at >= since,
            Ticket.kind == "complaint",
        )
    )
    if count < AT_RISK_COMPLAINTS:
        return
    cleared = _last_cleared_at(customer.id)
    if cleared is not None and cleared > since:
        count = db.session.scalar(
            sa.select(sa.func.count(Ticket.id)).where(
                Ticket.customer_id == customer.id,
                Ticket.created_at >= cleared,
                Ticket.kind == "complaint",
            )
        )
        if count < AT_RISK_COMPLAINTS:
            return
    flag_at_risk(customer, reason="complaints", ticket=ticket)


def on_not_resolved(ticket) -> None:
    """The customer said a demand is not resolved."""
    if ticket.customer.at_risk_since is None:
        flag_at_risk(ticket.customer, reason="not_resolved", ticket=ticket)


def _last_cleared_at(customer_id: int):
    cleared = db.session.scalar(
        sa.select(CustomerEvent.created_at)
        .where(CustomerEvent.customer_id == customer_id, CustomerEvent.action == "at_risk_cleared")
        .order_by(CustomerEvent.id.desc())
        .limit(1)
    )
    return as_utc(cleared) if cleared is not None else None


def flag_at_risk(
    customer: Customer, *, reason: str, ticket=None, actor: User | None = None
) -> bool:
    """Set the flag once and notify once; False when the customer was already at risk."""
    if reason not in REASONS:
        raise ValueError(f"unknown at-risk reason {reason!r}")
    at = now()
    flagged = db.session.execute(
        sa.update(Customer)
        .where(Customer.id == customer.id, Customer.at_risk_since.is_(None))
        .values(at_risk_since=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not flagged:
        return False
    customer.at_risk_since = at
    db.session.add(
        CustomerEvent(
            customer_id=customer.id,
            actor_id=actor.id if actor else None,
            action="at_risk",
            field="at_risk_since",
            new_value=reason,
            old_value=str(ticket.protocol) if ticket is not None else None,
            created_at=at,
        )
    )
    recipients = _recipients(customer, ticket)
    for user in recipients:
        queue_email(
            kind="at_risk",
            to=user.email,
            to_name=user.name,
            template="customer_at_risk",
            locale=user.locale,
            recipient=user,
            customer=customer,
            reason=reason,
            demand=ticket,
            window_days=AT_RISK_WINDOW_DAYS,
        )
    extra = [a for a in current_app.config["AT_RISK_NOTIFY_EMAILS"] if a]
    for address in extra:  # e.g. sales: the link between service and the other departments
        queue_email(
            kind="at_risk",
            to=address,
            template="customer_at_risk",
            locale=None,
            recipient=None,
            customer=customer,
            reason=reason,
            demand=ticket,
            window_days=AT_RISK_WINDOW_DAYS,
        )
    db.session.flush()
    log.info(
        "Customer %s flagged at risk (%s, demand %s); %s person(s) and %s address(es) notified",
        customer.id,
        reason,
        ticket.protocol if ticket is not None else None,
        len(recipients),
        len(extra),
    )
    return True


def clear_at_risk(customer: Customer, actor: User) -> None:
    """A supervisor clears the flag (audited)."""
    if customer.at_risk_since is None:
        raise Conflict(_l("This customer is not flagged at risk."))
    old = customer.at_risk_since
    customer.at_risk_since = None
    db.session.add(
        CustomerEvent(
            customer_id=customer.id,
            actor_id=actor.id,
            action="at_risk_cleared",
            field="at_risk_since",
            old_value=old.isoformat(),
            new_value=None,
        )
    )
    db.session.flush()
    log.info("Customer %s: at-risk flag cleared by user %s", customer.id, actor.id)


def _manager(customer: Customer) -> User | None:
    manager = customer.key_account_agent if customer.key_account_agent_id else None
    if manager is not None and manager.active and manager.role in STAFF_ROLES:
        return manager
    return None


def _recipients(customer: Customer, ticket) -> list[User]:
    """The account manager, or else the active supervisors of the demand's department."""
    manager = _manager(customer)
    if manager is not None:
        return [manager]
    return department_supervisors(ticket.department_id if ticket is not None else None)


def alert_key_account_complaint(ticket: Ticket, *, registered: bool = True) -> bool:
    """Email the key account's manager about this complaint, once per demand (a demand just
    registered cannot have been alerted yet: no query)."""
    manager = _manager(ticket.customer)
    if manager is None:
        return False
    if not registered and db.session.scalar(
        sa.select(TicketEvent.id)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "key_account_alerted")
        .limit(1)
    ):
        return False
    record_event(ticket, None, "key_account_alerted", new=manager.name)
    queue_email(
        kind="key_account_complaint",
        to=manager.email,
        to_name=manager.name,
        template="key_account_complaint",
        locale=manager.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
        recipient=manager,
        customer=ticket.customer,
        demand=ticket,
    )
    log.info("Ticket %s: key-account manager %s alerted", ticket.protocol, manager.id)
    return True
