"""Issuing one-time tokens (reset, confirmation and guest links): hashed, expiring, single use.

Apart from accounts.services so that notifications can put a guest link in an email without
importing the account operations (which import notifications)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from ..core.clock import now
from ..core.tokens import hash_token, new_token
from ..extensions import db
from .models import OneTimeToken


def issue_one_time(purpose: str, hours: int, **fields) -> str:
    raw = new_token()
    db.session.add(
        OneTimeToken(
            purpose=purpose,
            token_hash=hash_token(raw),
            expires_at=now() + timedelta(hours=hours),
            **fields,
        )
    )
    db.session.flush()
    return raw


def issue_guest_link(ticket, email: str) -> str:
    """A one-time link token that opens `ticket` (GUEST_LINK_HOURS to use it) for `email`."""
    return issue_one_time(
        "guest", current_app.config["GUEST_LINK_HOURS"], ticket_id=ticket.id, email=email
    )
