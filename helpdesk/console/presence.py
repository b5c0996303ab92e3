"""Collision in the workspace: the page polls who else has the ticket open or is typing a reply.

POST /console/tickets/<protocol>/presence (CSRF header, `typing=1` while the agent types) records
the caller's presence and answers, as JSON, the others and the newest public message's id, with
the sentence to show ("Ana is viewing · Bruno is typing a reply") already translated.
"""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from ..tickets.presence import purge_presence, ticket_presence, touch_presence
from .blueprint import bp, load_workable_ticket


def presence_text(presence) -> str:
    parts = [_("%(name)s is typing a reply", name=name) for name in presence.typing]
    parts += [_("%(name)s is viewing", name=name) for name in presence.viewing]
    return " · ".join(parts)


@bp.post("/tickets/<protocol>/presence")
def presence(protocol: str):
    ticket = load_workable_ticket(protocol)
    typing = request.form.get("typing") == "1"
    purge_presence(ticket, current_user)
    touch_presence(ticket, current_user, typing=typing)
    found = ticket_presence(ticket, current_user)
    return jsonify(
        {
            "viewing": found.viewing,
            "typing": found.typing,
            "text": presence_text(found),
            "last_public_id": found.last_public_id,
        }
    )
