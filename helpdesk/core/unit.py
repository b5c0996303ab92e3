"""The end of a unit of work: one commit, then the side effects that must wait for it."""

from __future__ import annotations

import logging

from ..extensions import db

log = logging.getLogger(__name__)


def commit() -> None:
    """Commit the request's transaction; the emails it queued leave afterwards.

    By default the scheduler's outbox job sends them within seconds (one batch for many requests,
    outside the web workers); with HELPDESK_OUTBOX_DELIVER_IN_REQUEST=1 (and in tests) they are
    sent right after the commit. Delivery failures never undo the commit: the rows stay pending
    and the scheduler retries.
    """
    from flask import current_app

    from ..notifications.services import deliver_outbox, take_queued_ids

    db.session.commit()
    ids = take_queued_ids()
    if ids and current_app.config["OUTBOX_DELIVER_IN_REQUEST"]:
        try:
            deliver_outbox(ids)
        except Exception:
            log.exception("immediate delivery failed; the scheduler will retry")
            db.session.rollback()
