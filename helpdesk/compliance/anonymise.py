"""Anonymisation: personal data replaced set-based (one UPDATE per registered column and batch),
attachments' files deleted after the commit, the search rows rewritten. Rows, ids, protocols,
kinds, channels, statuses, departments and instants stay, so every count and report adds up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..audit.services import forget_users
from ..core.clock import now
from ..core.errors import DomainError
from ..customers.models import Customer
from ..extensions import db
from ..search.indexer import index_tickets
from ..tickets import trail
from ..tickets.attachments import path_of
from ..tickets.models import Attachment, Ticket
from .registry import columns

log = logging.getLogger(__name__)

_FILES = "compliance_files_to_delete"
BATCH = 1000


class LegalHold(DomainError):
    """Anonymisation refused: a legal hold applies."""

    status = 409
    code = "legal_hold"


def _update(scope: str, ids: list[int]) -> None:
    for entry in columns(scope):
        table = entry.model.__table__
        stmt = (
            sa.update(table).where(entry.condition(ids)).values({entry.column: entry.replacement()})
        )
        if entry.only is not None:
            stmt = stmt.where(entry.only())
        db.session.execute(stmt)


def _forget_files(ticket_ids: list[int]) -> int:
    rows = db.session.scalars(sa.select(Attachment).where(Attachment.ticket_id.in_(ticket_ids)))
    paths = [path_of(row) for row in rows]
    db.session.info.setdefault(_FILES, []).extend(paths)
    return len(paths)


def _chunks(ids: list[int], size: int = BATCH):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def anonymise_ticket_ids(ticket_ids: Iterable[int]) -> dict:
    """Replace the personal data of these tickets (free text, names on messages, attachments)."""
    ids = sorted({int(i) for i in ticket_ids})
    files = 0
    db.session.flush()
    for chunk in _chunks(ids):
        files += _forget_files(chunk)
        trail.freeze_text_digests(chunk)  # the events' text may change; their chain must not
        _update("ticket", chunk)
        db.session.execute(
            sa.update(Ticket).where(Ticket.id.in_(chunk)).values(anonymised_at=now())
        )
        index_tickets(db.session.connection(), chunk)
    db.session.expire_all()
    return {"tickets": len(ids), "attachments": files}


def anonymise_customer_ids(customer_ids: Iterable[int]) -> dict:
    """Replace the customers' own data (name, document, emails, phones, account, calls) and then
    their tickets' (all of them: call it only when none is held)."""
    ids = sorted({int(i) for i in customer_ids})
    db.session.flush()
    ticket_ids: list[int] = []
    for chunk in _chunks(ids):
        logins = db.session.scalars(
            sa.select(Customer.user_id).where(Customer.id.in_(chunk), Customer.user_id.is_not(None))
        )
        forget_users(db.session, list(logins))  # the admin log's entries about their logins
        _update("customer", chunk)
        db.session.execute(
            sa.update(Customer).where(Customer.id.in_(chunk)).values(anonymised_at=now())
        )
        ticket_ids.extend(
            db.session.scalars(sa.select(Ticket.id).where(Ticket.customer_id.in_(chunk)))
        )
    result = anonymise_ticket_ids(ticket_ids)
    result["customers"] = len(ids)
    return result


def hold_reason(customer: Customer) -> str | None:
    """Why this customer cannot be anonymised now, or None."""
    if customer.legal_hold:
        return str(_l("A legal hold applies to this customer's records."))
    held = db.session.scalars(
        sa.select(Ticket.protocol).where(
            Ticket.customer_id == customer.id, Ticket.legal_hold.is_(True)
        )
    ).all()
    if held:
        return str(
            _l(
                "A legal hold applies to demand(s) %(protocols)s: their records must be kept as "
                "they are.",
                protocols=", ".join(held),
            )
        )
    return None


def anonymise_customer(customer: Customer) -> dict:
    """On the data subject's request: refused (LegalHold, with the reason) when a hold applies."""
    reason = hold_reason(customer)
    if reason:
        raise LegalHold(reason)
    result = anonymise_customer_ids([customer.id])
    log.info("Customer %s anonymised: %s", customer.id, result)
    return result


@sa.event.listens_for(Session, "after_commit")
def _delete_files(session: Session) -> None:
    for path in session.info.pop(_FILES, []):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.warning("could not delete the anonymised attachment %s", path.name)


@sa.event.listens_for(Session, "after_rollback")
def _keep_files(session: Session) -> None:
    session.info.pop(_FILES, None)
