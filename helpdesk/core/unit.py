"""The unit of work: a request (or a CLI command, or a job) commits once, at its end.

Services flush and never commit. A request's unit is closed by `finish_request`, which the
application's dispatch calls for every view (see `helpdesk.core.app`): the view returned an
answer below 400 → commit, then what waits for the commit (emails leave the outbox); the view
raised, answered 400 or more, or `refuse()`d → roll back. Views never call `commit()`; CLI
commands and scheduled jobs, which have no request, do.

A view runs a domain operation inside `attempt()`: a `DomainError` rolls the unit back and is
kept for the form error, flash or problem+json, instead of being caught by hand each time::

    with attempt() as done:
        services.close_ticket(ticket, actor=current_user)
    if done.error:
        flash(str(done.error), "error")
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import g

from ..extensions import db
from .errors import DomainError

log = logging.getLogger(__name__)

_after_commit: list[Callable[[], None]] = []
_after_rollback: list[Callable[[], None]] = []


def after_commit(hook: Callable[[], None]) -> Callable[[], None]:
    """Register `hook` to run after every unit's commit (outbox delivery registers here).

    A hook's failure never undoes the commit: it is logged and the session rolled back, so the
    next statement starts clean; the work it left (pending outbox rows) is retried later.
    """
    if hook not in _after_commit:
        _after_commit.append(hook)
    return hook


def after_rollback(hook: Callable[[], None]) -> Callable[[], None]:
    """Register `hook` to run after a unit is rolled back (the outbox forgets what it queued)."""
    if hook not in _after_rollback:
        _after_rollback.append(hook)
    return hook


def commit() -> None:
    """Commit the unit's transaction, then run the after-commit hooks (emails leave)."""
    db.session.commit()
    for hook in _after_commit:
        try:
            hook()
        except Exception:
            log.exception("after-commit step %s failed; it is retried later", hook.__name__)
            db.session.rollback()


def rollback() -> None:
    """Undo the unit: nothing it wrote stays, and nothing it queued is sent."""
    db.session.rollback()
    for hook in _after_rollback:
        hook()


def refuse() -> None:
    """Mark the current request's unit to be rolled back even though its view answers below
    400 (a redirect with an error flash, say)."""
    g._unit_refused = True


@dataclass
class Outcome:
    error: DomainError | None = None

    def __bool__(self) -> bool:  # `if done:` reads as "it worked"
        return self.error is None


@contextmanager
def attempt() -> Iterator[Outcome]:
    """Run a domain operation; a `DomainError` rolls the whole unit back and is kept in
    `outcome.error` (the request then commits nothing unless the view writes again)."""
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as exc:
        rollback()
        outcome.error = exc


def finish_request(status: int) -> None:
    """Close the request's unit: commit below 400 unless refused, otherwise roll back."""
    if status < 400 and not g.pop("_unit_refused", False):
        commit()
    else:
        g.pop("_unit_refused", None)
        rollback()
