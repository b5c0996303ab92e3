"""An agent ends the guest access to a ticket: every emailed guest link and every browser that
opened one stop opening it on their next request (the customer asked, or a link went astray)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from ..accounts.services import revoke_guest_links
from ..tickets.protocol import display
from .blueprint import bp, load_workable_ticket


@bp.post("/tickets/<protocol>/guest-links/revoke")
def revoke_guest_access(protocol: str):
    ticket = load_workable_ticket(protocol)
    if not FlaskForm().validate_on_submit():  # the CSRF token
        abort(400)
    count = revoke_guest_links(ticket.id)
    protocol = ticket.protocol
    flash(
        _(
            "Guest links to %(protocol)s ended (%(count)s).",
            protocol=display(protocol),
            count=count,
        ),
        "success",
    )
    return redirect(url_for("console.ticket", protocol=protocol))
