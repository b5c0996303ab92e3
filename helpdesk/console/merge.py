"""Merge a duplicate into another demand from the workspace: pick the survivor (a protocol typed or
pasted, or one of the customer's other open demands), confirm with both side by side, merge.

GET /tickets/<protocol>/merge?into=… shows the confirmation (or why it cannot be done); the POST
merges (tickets.merge.merge_tickets), commits and goes to the survivor.
"""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.errors import DomainError
from ..core.unit import attempt
from ..tickets.merge import check_merge, merge_tickets
from ..tickets.models import OPEN_STATUSES, Ticket
from ..tickets.permissions import staff_department_ids
from ..tickets.queries import TicketFilter, ticket_page
from ..tickets.services import get_ticket_by_protocol
from .blueprint import bp, load_workable_ticket

log = logging.getLogger(__name__)


def merge_candidates(ticket: Ticket) -> list[Ticket]:
    """The customer's other open demands the agent may work (newest first, a handful)."""
    return ticket_page(
        TicketFilter(
            statuses=OPEN_STATUSES,
            customer_id=ticket.customer_id,
            department_ids=staff_department_ids(current_user),
            extra=[Ticket.id != ticket.id, Ticket.merged_into_id.is_(None)],
        ),
        sort="newest",
        limit=10,
        eager=False,
    ).items


def _target(raw: str) -> Ticket:
    return get_ticket_by_protocol(raw or "", field="into")


@bp.get("/tickets/<protocol>/merge")
def merge_confirm(protocol: str):
    source = load_workable_ticket(protocol)
    raw = request.args.get("into", "").strip()
    target, error = None, None
    if raw:  # nothing chosen yet: the picker alone
        try:
            target = check_merge(source, _target(raw), current_user)
        except DomainError as exc:
            error = str(exc)
    return render_template(
        "console/merge.html",
        ticket=source,
        target=target,
        into=raw,
        error=error,
        candidates=merge_candidates(source) if target is None else [],
    ), 200 if error is None else 400


@bp.post("/tickets/<protocol>/merge")
def merge(protocol: str):
    source = load_workable_ticket(protocol)
    raw = request.form.get("into", "").strip()
    reason = request.form.get("reason", "")
    survivor = None
    with attempt() as done:
        survivor = merge_tickets(source, _target(raw), current_user, reason=reason)
    if done.error:  # rolled back: nothing changed
        return render_template(
            "console/merge.html",
            ticket=source,
            target=None,
            into=raw,
            error=str(done.error),
            candidates=merge_candidates(source),
        ), 400
    flash(
        _(
            "Demand %(old)s was merged into %(new)s.",
            old=source.protocol,
            new=survivor.protocol,
        ),
        "success",
    )
    return redirect(url_for("console.ticket", protocol=survivor.protocol))
