"""Investigation operations: open and edit, the status machine with its closing checks, linking
tickets (a ticket linked after closing is a recurrence).

Every function takes an actor (`by`; None = the system, e.g. an escalation rule), checks the named
permission, flushes (never commits) and appends an InvestigationEvent for each change.

Who may do what ("propose" defined):
- supervisors and admins own investigations: create, edit, change status, close, reopen, cancel,
  accept or reject proposals, tell the customers;
- agents see every investigation, link and unlink tickets they can work, and *propose*: a why
  (shown as "proposed" until a supervisor accepts it into the 5 whys) and an action (status
  "proposed" until a supervisor accepts it as open, or rejects it); the owner of an action marks it
  done with its evidence;
- customers never see any of it (only the public message the notice adds to their ticket).
"""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core.clock import now
from ..core.errors import Conflict, NotAllowed, NotFound, ValidationError
from ..core.logs import who
from ..extensions import db
from ..tickets.events import record_event
from ..tickets.models import Ticket
from ..tickets.permissions import can_work_ticket
from .fields import apply_values, text_value
from .history import record
from .models import (
    ACTION_OPEN_STATUSES,
    STATUSES,
    Investigation,
    InvestigationTicket,
)
from .permissions import require_manager, require_viewer
from .queries import link_of

log = logging.getLogger(__name__)

TRANSITIONS = {
    "open": {"analysing", "cancelled"},
    "analysing": {"acting", "cancelled"},
    "acting": {"verifying", "analysing", "cancelled"},
    "verifying": {"closed", "acting", "cancelled"},
    "closed": {"analysing"},  # reopen
    "cancelled": {"open"},  # reopen
}

# what people write when they have no result yet: never accepted as an effectiveness result
PLACEHOLDERS = {
    "n/a", "na", "n.a", "n.a.", "n/d", "nd", "-", "--", "---", "—", "–", ".", "..", "...", "?",
    "??", "none", "null", "nil", "tbd", "todo", "to do", "pending", "x", "xx", "xxx", "ok",
    "nenhum", "nenhuma", "nada", "pendente", "ninguno", "ninguna", "pendiente", "s/r", "s/n",
    "sem resultado", "sin resultado", "não se aplica", "nao se aplica", "no aplica", "no aplica.",
}  # fmt: skip


class TransitionRefused(Conflict):
    """A status change whose conditions are not met; `errors` says why, field by field."""

    code = "investigation-transition-refused"
    default_message = _l("This status change is not possible yet: %(reasons)s")

    def __init__(self, errors: dict, message=None):
        reasons = " ".join(str(v) for v in errors.values())
        super().__init__(message, reasons=reasons)
        self.errors = errors
        self.field = next(iter(errors), None)


class CloseRefused(TransitionRefused):
    code = "investigation-close-refused"
    default_message = _l("This investigation cannot be closed yet: %(reasons)s")


def open_investigation(
    *,
    by: User | None,
    title: str,
    from_ticket: Ticket | None = None,
    tickets_to_link=(),
    **values,
) -> Investigation:
    """Open a new investigation (supervisors, admins, or the system when by is None), linking
    `from_ticket` and `tickets_to_link`. The owner defaults to the supervisor who opens it; the
    category and department default to the first ticket's."""
    require_manager(by)
    first = from_ticket or next(iter(tickets_to_link), None)
    values.setdefault("owner", by)
    if first is not None:
        values.setdefault("category", first.category_id)
        values.setdefault("department", first.department_id)
    inv = Investigation(
        title="",
        status="open",
        created_by_id=by.id if by is not None else None,
        created_at=now(),
        updated_at=now(),
    )
    apply_values(inv, by, {"title": title, **values}, created=True)
    db.session.add(inv)
    db.session.flush()
    inv.number = f"INV-{inv.id:05d}"
    record(inv, by, "created", new=inv.number)
    seen = set()
    for ticket in [t for t in (from_ticket, *tickets_to_link) if t is not None]:
        if ticket.id not in seen:
            seen.add(ticket.id)
            link_ticket(inv, ticket, by=by)
    db.session.flush()
    log.info("Investigation %s opened by %s", inv.number, who(by))
    return inv


def update_investigation(inv: Investigation, by: User | None, **values) -> Investigation:
    require_manager(by)
    if inv.status == "cancelled":
        raise Conflict(_l("This investigation was cancelled; reopen it to change it."))
    apply_values(inv, by, values)
    db.session.flush()
    log.info("Investigation %s updated by %s: %s", inv.number, who(by), ", ".join(sorted(values)))
    return inv


# status machine -------------------------------------------------------------------------------


def is_real_result(text: str | None) -> bool:
    """An effectiveness result is real when it says something: not empty, not "N/A" or "-"."""
    value = " ".join((text or "").split()).strip().lower()
    if not value or value in PLACEHOLDERS or value.rstrip(".!") in PLACEHOLDERS:
        return False
    letters = sum(ch.isalpha() for ch in value)
    return any(ch.isdigit() for ch in value) or letters >= 3


def blockers(inv: Investigation, status: str) -> dict:
    """Why the investigation cannot move to `status` now ({} when it can)."""
    errors: dict = {}
    if status == "acting":
        if not inv.root_cause.strip():
            errors["root_cause"] = _l("Record the confirmed root cause.")
        if not inv.ishikawa:
            errors["ishikawa"] = _l("Choose the Ishikawa category of the root cause.")
    if status == "verifying":
        if not any(a.status != "cancelled" for a in inv.actions):
            errors["actions"] = _l("Plan at least one corrective or preventive action.")
        if not inv.metric.strip():
            errors["metric"] = _l("Define the effectiveness metric.")
        if not inv.check_on:
            errors["check_on"] = _l("Set the date of the effectiveness check.")
    if status == "closed":
        still_open = [a for a in inv.actions if a.status in ACTION_OPEN_STATUSES]
        if still_open:
            errors["actions"] = _l(
                "%(n)s action(s) are still open or proposed; finish or cancel them.",
                n=len(still_open),
            )
        if not inv.metric.strip():
            errors["metric"] = _l("Define the effectiveness metric.")
        if not is_real_result(inv.result):
            errors["result"] = _l(
                "Record the effectiveness result (a measured value; “N/A” is not a result)."
            )
        elif inv.verdict != "effective":
            errors["verdict"] = _l(
                "The effectiveness check must show the actions were effective; "
                "if they were not, go back to acting."
            )
    return errors


def change_status(inv: Investigation, by: User | None, status: str, *, reason: str = "") -> None:
    """Move along open → analysing → acting → verifying → closed (or cancelled with a reason);
    a closed investigation reopens to analysing, a cancelled one to open (with a reason)."""
    require_manager(by)
    if status not in STATUSES:
        raise ValidationError(_l("Unknown status."), field="status")
    if status == inv.status:
        return
    if status not in TRANSITIONS[inv.status]:
        raise ValidationError(_l("This status change is not possible."), field="status")
    reopening = inv.status in ("closed", "cancelled")
    reason = text_value(reason, "reason", required=status == "cancelled" or reopening, limit=2000)
    errors = blockers(inv, status)
    if errors:
        raise (CloseRefused if status == "closed" else TransitionRefused)(
            {k: str(v) for k, v in errors.items()}
        )
    old = inv.status
    inv.status = status
    if status == "closed":
        inv.closed_at = now()
    if status == "cancelled":
        inv.cancel_reason = reason
        inv.closed_at = now()
    if reopening:
        inv.closed_at = None
        inv.reopened_count += 1
        inv.verdict = None  # a reopened investigation needs a new check
    record(inv, by, "status", field="status", old=old, new=status, detail=reason)
    db.session.flush()
    log.info("Investigation %s status %s -> %s by %s", inv.number, old, status, who(by))


def reopen_investigation(inv: Investigation, by: User | None, reason: str) -> None:
    target = "analysing" if inv.status == "closed" else "open"
    if inv.status not in ("closed", "cancelled"):
        raise ValidationError(_l("Only a closed or cancelled investigation reopens."))
    change_status(inv, by, target, reason=reason)


# linking --------------------------------------------------------------------------------------


def link_ticket(inv: Investigation, ticket: Ticket, *, by: User | None) -> InvestigationTicket:
    """Link a ticket (staff who can work it, or the system). A ticket linked after the
    investigation was closed is a recurrence. Linking twice to the same one changes nothing."""
    require_viewer(by)
    if by is not None and not can_work_ticket(by, ticket):
        raise NotAllowed(_l("You cannot work this demand."))
    if inv.status == "cancelled":
        raise Conflict(_l("This investigation was cancelled; tickets cannot be linked to it."))
    current = link_of(ticket)
    if current is not None:
        if current.investigation_id == inv.id:
            return current
        raise Conflict(
            _l(
                "Demand %(protocol)s is already linked to %(number)s; unlink it there first.",
            ),
            field="protocol",
            protocol=ticket.protocol,
            number=current.investigation.number,
        )
    recurrence = inv.status == "closed"
    link = InvestigationTicket(
        investigation=inv,
        ticket_id=ticket.id,
        ticket=ticket,
        linked_by_id=by.id if by is not None else None,
        linked_at=now(),
        is_recurrence=recurrence,
    )
    db.session.add(link)
    record(
        inv,
        by,
        "recurrence" if recurrence else "linked",
        new=ticket.protocol,
    )
    record_event(ticket, by, "investigation_linked", new=inv.number)
    db.session.flush()
    log.info(
        "Investigation %s: ticket %s linked by %s%s",
        inv.number,
        ticket.protocol,
        who(by),
        " (a recurrence)" if recurrence else "",
    )
    return link


def unlink_ticket(inv: Investigation, ticket: Ticket, *, by: User | None) -> None:
    require_viewer(by)
    if by is not None and not can_work_ticket(by, ticket):
        raise NotAllowed(_l("You cannot work this demand."))
    link = link_of(ticket)
    if link is None or link.investigation_id != inv.id:
        raise NotFound(_l("This demand is not linked to this investigation."), field="protocol")
    inv.links.remove(link)
    db.session.delete(link)
    record(inv, by, "unlinked", old=ticket.protocol)
    record_event(ticket, by, "investigation_unlinked", old=inv.number)
    db.session.flush()
    log.info("Investigation %s: ticket %s unlinked by %s", inv.number, ticket.protocol, who(by))
