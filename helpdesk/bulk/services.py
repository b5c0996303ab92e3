"""Bulk changes: the same change on many selected tickets, each through the ticket services.

`bulk_update` applies, per ticket and in a SAVEPOINT of its own: transfer (with a reason),
assignee, priority, tags added and removed, a macro, a link to an investigation, then the status.
Each step is the service an agent uses on one ticket, so every change makes its own event, the
SLA is recomputed, webhooks and emails are queued (and leave after the surface's commit), and
permission and state are checked per ticket: a ticket the actor may not work, or whose state
refuses the change, is rolled back alone and reported in `refused` with the reason, while the
others change. At most MAX_TICKETS tickets per call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..accounts.models import Department, User
from ..core.errors import DomainError, NotAllowed, ValidationError
from ..core.logs import who
from ..core.text import clean_text
from ..extensions import db
from ..investigations import operations as investigation_ops
from ..investigations import queries as investigation_queries
from ..macros.services import apply_macro, get_usable_macro
from ..tickets import services as tickets
from ..tickets.models import PRIORITY_VALUES, STATUSES, Ticket, TicketEvent
from ..tickets.permissions import can_work_ticket
from ..tickets.queries import TicketFilter, filter_conditions
from ..tickets.tags import add_tags, parse_tag_names, remove_tags

log = logging.getLogger(__name__)

MAX_TICKETS = 500
UNASSIGN = "none"


class TooManyTickets(ValidationError):
    code = "too-many-tickets"
    default_message = _l("At most %(n)s demands can be changed at once; narrow the selection.")


@dataclass
class BulkChanges:
    """What to change; None (or empty) leaves it as it is."""

    status: str | None = None
    outcome: str | None = None
    priority: str | None = None  # low, normal, high, urgent
    assignee: User | None = None
    unassign: bool = False
    department: Department | None = None
    reason: str = ""
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)
    macro_id: int | None = None
    investigation: str | None = None  # its number (INV-00001)

    def is_empty(self) -> bool:
        return not (
            self.status
            or self.priority
            or self.assignee
            or self.unassign
            or self.department
            or self.add_tags
            or self.remove_tags
            or self.macro_id
            or self.investigation
        )


@dataclass
class BulkResult:
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # already as asked
    refused: list[dict] = field(default_factory=list)  # {"protocol", "reason"}

    def as_dict(self) -> dict:
        return {"changed": self.changed, "unchanged": self.unchanged, "refused": self.refused}


def validate_changes(changes: BulkChanges, actor: User):
    """Refuse the whole request before touching any ticket when the change itself is wrong."""
    if changes.is_empty():
        raise ValidationError(_l("Choose at least one change."), field="changes")
    if changes.status and changes.status not in STATUSES:
        raise ValidationError(_l("Unknown status."), field="status")
    if changes.priority and changes.priority not in PRIORITY_VALUES:
        raise ValidationError(_l("Unknown priority."), field="priority")
    if changes.department is not None:
        changes.reason = clean_text(
            changes.reason,
            "reason",
            required=True,
            limit=1000,
            required_message=_l("A transfer needs a reason."),
        )
    changes.add_tags = parse_tag_names(changes.add_tags)
    changes.remove_tags = parse_tag_names(changes.remove_tags)
    macro = get_usable_macro(changes.macro_id, actor) if changes.macro_id else None
    investigation = (
        investigation_queries.get_by_number(changes.investigation)
        if changes.investigation
        else None
    )
    return macro, investigation


def load_tickets(ticket_ids: Iterable[int]) -> list[Ticket]:
    ids = list(dict.fromkeys(int(i) for i in ticket_ids))
    if len(ids) > MAX_TICKETS:
        raise TooManyTickets(field="tickets", n=MAX_TICKETS)
    if not ids:
        raise ValidationError(_l("Select at least one demand."), field="tickets")
    rows = db.session.scalars(
        sa.select(Ticket)
        .where(Ticket.id.in_(ids))
        .options(joinedload(Ticket.department), joinedload(Ticket.assignee))
    ).unique()
    by_id = {t.id: t for t in rows}
    return [by_id[i] for i in ids if i in by_id]


def matching_ticket_ids(flt: TicketFilter) -> list[int]:
    """ "All matching this filter": the ids the filter selects, oldest first, up to the bound
    (one more than the bound is read, so the caller can refuse instead of cutting silently)."""
    return list(
        db.session.scalars(
            sa.select(Ticket.id)
            .where(*filter_conditions(flt))
            .order_by(Ticket.id)
            .limit(MAX_TICKETS + 1)
        )
    )


def count_matching(flt: TicketFilter, cap: int | None = None) -> int:
    """How many tickets the filter selects, counted up to `cap` (default MAX_TICKETS) + 1 (more
    than `cap` is shown as "cap+"): a bounded scan, never COUNT(*) over the table."""
    cap = MAX_TICKETS if cap is None else cap
    inner = sa.select(Ticket.id).where(*filter_conditions(flt)).limit(cap + 1).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(inner))


def _apply_one(ticket: Ticket, changes: BulkChanges, actor: User, macro, investigation) -> bool:
    """Apply to one ticket; True when something changed."""
    if not can_work_ticket(actor, ticket):
        raise NotAllowed(_l("You cannot work this demand."))
    tickets.ensure_open(ticket)
    count_events = (
        sa.select(sa.func.count())
        .select_from(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
    )
    events_before = db.session.scalar(count_events)
    if changes.department is not None and changes.department.id != ticket.department_id:
        tickets.transfer_ticket(ticket, actor, changes.department, changes.reason)
    if changes.unassign:
        tickets.assign_ticket(ticket, actor, None)
    elif changes.assignee is not None:
        tickets.assign_ticket(ticket, actor, changes.assignee)
    if changes.priority:
        tickets.change_priority(ticket, actor, PRIORITY_VALUES[changes.priority])
    if changes.add_tags:
        add_tags(ticket, actor, changes.add_tags)
    if changes.remove_tags:
        remove_tags(ticket, actor, changes.remove_tags)
    if macro is not None:
        apply_macro(ticket, macro, actor)
    if investigation is not None:
        investigation_ops.link_ticket(investigation, ticket, by=actor)
    if changes.status:
        tickets.change_status(ticket, actor, changes.status, outcome=changes.outcome)
    db.session.flush()
    return db.session.scalar(count_events) != events_before


def bulk_update(
    ticket_ids: Iterable[int],
    changes: BulkChanges,
    actor: User,
    *,
    refused: Iterable[dict] = (),
) -> BulkResult:
    """Apply `changes` to each ticket; returns which protocols changed and which were refused
    (with the reason, in the actor's language); `refused` carries what the surface already
    refused (unknown protocols). Raises only when the request as a whole is wrong
    (no change chosen, unknown macro or investigation, more than MAX_TICKETS tickets)."""
    macro, investigation = validate_changes(changes, actor)
    selected = load_tickets(ticket_ids)
    result = BulkResult(refused=list(refused))
    for ticket in selected:
        protocol = ticket.protocol
        savepoint = db.session.begin_nested()
        try:
            changed = _apply_one(ticket, changes, actor, macro, investigation)
        except DomainError as exc:
            savepoint.rollback()
            result.refused.append({"protocol": protocol, "reason": str(exc)})
            continue
        savepoint.commit()
        (result.changed if changed else result.unchanged).append(protocol)
    log.info(
        "Bulk change by %s: %s changed, %s refused",
        who(actor),
        len(result.changed),
        len(result.refused),
    )
    return result
