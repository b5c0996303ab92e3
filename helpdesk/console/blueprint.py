"""The console blueprint and what every console view shares: staff-only access, ticket loading."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.models import Department
from ..core.errors import ProtocolNotFound
from ..core.permissions import is_admin, is_staff
from ..core.text import ascii_digits
from ..extensions import db, login_manager
from ..tickets import protocol as protocols
from ..tickets.models import Ticket
from ..tickets.permissions import can_work_ticket
from ..tickets.queries import ticket_with_thread
from ..tickets.services import get_ticket_by_protocol

bp = Blueprint("console", __name__)


@bp.before_request
def require_staff():
    """Anonymous → the login page (or 401 for JSON); customers → 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not is_staff(current_user):
        abort(403)
    return None


def load_workable_ticket(protocol: str, *, full: bool = False) -> Ticket:
    """Load by protocol (400 wrong check digit, 404 unknown), then check-or-403."""
    if full:  # the page's eager loads in the same statement as the lookup (not a second one)
        ticket = ticket_with_thread(protocol=protocols.parse(protocol))
        if ticket is None:
            raise ProtocolNotFound(field="protocol")
    else:
        ticket = get_ticket_by_protocol(protocol)
    if not can_work_ticket(current_user, ticket):
        abort(403)
    return ticket


def back_to_ticket(ticket: Ticket, anchor: str | None = None, *, endpoint: str = "console.ticket"):
    """Where to go after an action on a ticket (call it after the commit): back to the ticket if
    the actor can still work it, else to the queue with a flash naming the protocol (a transfer,
    a reroute or a reassignment can move the demand out of the actor's departments)."""
    if can_work_ticket(current_user, ticket):
        return redirect(url_for(endpoint, protocol=ticket.protocol, _anchor=anchor))
    flash(
        _(
            "Demand %(protocol)s is now with %(department)s, outside your departments; it has "
            "left your queue.",
            protocol=ticket.protocol,
            department=ticket.department.name,
        ),
        "success",
    )
    return redirect(url_for("console.queue"))


def visible_departments(user) -> list[Department]:
    """Departments the user may filter on: all active ones for an admin, else their own."""
    if is_admin(user):
        return list(
            db.session.scalars(
                sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
            )
        )
    return list(user.departments)


def arg_choice(name: str, allowed) -> str | None:
    """A query-string value from an allow-list; absent: None; anything else: 400."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        abort(400)
    return value


def arg_int_choice(name: str, allowed, default=None) -> int | None:
    """A query-string whole number from an allow-list (ids, hours); absent: `default`; else 400."""
    value = request.args.get(name, "").strip()
    if not value:
        return default
    if not ascii_digits(value) or int(value) not in allowed:
        abort(400)
    return int(value)
