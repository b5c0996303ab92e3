"""The end of a unit of work: one commit, then the side effects that must wait for it."""

from __future__ import annotations

import logging

from ..extensions import db

log = logging.getLogger(__name__)


def commit() -> None:
    """Commit the request's transaction, then deliver the emails it queued.

    Delivery failures never undo the commit: the outbox rows stay pending and the scheduler retries.
    """
    from ..notifications.services import deliver_outbox, take_queued_ids

    db.session.commit()
    ids = take_queued_ids()
    if ids:
        try:
            deliver_outbox(ids)
        except Exception:
            log.exception("immediate delivery failed; the scheduler will retry")
            db.session.rollback()
