"""The weekly digest: each active supervisor and admin gets the headline numbers of the last seven
days (their departments, their time zone and language) beside the week before, by email through
the outbox.

`send_weekly_digests` is the scheduler's job: it runs often and sends a recipient's digest once a
week (not when the outbox already holds one for them since this week's Monday). `send_digests`
(the `flask --app wsgi reports digest` command) sends every digest now.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from ..accounts.models import User
from ..core.clock import as_utc, now
from ..extensions import db
from ..notifications.models import OutboxMessage
from ..notifications.services import queue_email
from ..tickets.permissions import staff_department_ids
from .charts import format_value
from .headline import headlines, run_dashboard
from .params import Params

log = logging.getLogger(__name__)

KIND = "report_digest"
DIGEST_REPORTS = (
    "volume_by_channel",
    "backlog",
    "first_response_time",
    "resolution_time",
    "sla_compliance",
    "csat_by_department",
    "customer_verdict",
    "ombudsman",
    "reopen_rate",
)


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or current_app.config["BABEL_DEFAULT_TIMEZONE"])
    except Exception:  # noqa: BLE001 - an odd stored zone must not stop the digest
        return ZoneInfo("UTC")


def recipients() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.active.is_(True), User.role.in_(("supervisor", "admin")))
            .order_by(User.id)
        )
    )


def digest_for(user: User, at: datetime) -> dict:
    """The numbers of the last seven days (yesterday included) and of the seven before."""
    zone = _zone(user)
    yesterday = as_utc(at).astimezone(zone).date() - timedelta(days=1)
    scope = staff_department_ids(user)
    week = Params(
        first=yesterday - timedelta(days=6),
        last=yesterday,
        zone=zone,
        at=as_utc(at),
        scope=None if scope is None else tuple(scope),
        locale=user.locale,
    )
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        this = headlines(run_dashboard(week, DIGEST_REPORTS + ("volume_by_day",)))
        before = headlines(run_dashboard(week.shifted(7), DIGEST_REPORTS + ("volume_by_day",)))
    previous = {h.key: h.value for h in before}
    return {
        "first": week.first,
        "last": week.last,
        "lines": [(h, previous.get(h.key)) for h in this],
        "filters": week.filters,
    }


def send_digest(user: User, at: datetime) -> None:
    digest = digest_for(user, at)
    queue_email(
        kind=KIND,
        to=user.email,
        to_name=user.name,
        template="report_digest",
        locale=user.locale,
        user=user,
        digest_value=format_value,
        **digest,
    )


def send_digests(at: datetime | None = None) -> int:
    """Every recipient's digest, now (the command). Returns how many were queued."""
    at = at or now()
    people = recipients()
    for user in people:
        send_digest(user, at)
    log.info("Report digest queued for %s people", len(people))
    return len(people)


def _week_start(at: datetime, zone: ZoneInfo) -> datetime:
    local = as_utc(at).astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    return as_utc(datetime.combine(monday, time(0), tzinfo=zone))


def send_weekly_digests(at: datetime | None = None) -> int:
    """The scheduler's job: a digest to each recipient who got none since this week's Monday
    (their zone). Safe to run every hour; returns how many were queued."""
    at = at or now()
    sent = 0
    for user in recipients():
        since = _week_start(at, _zone(user))
        already = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.kind == KIND,
                OutboxMessage.to_addr.contains(user.email),
                OutboxMessage.created_at >= since,
            )
        )
        if already:
            continue
        send_digest(user, at)
        sent += 1
    if sent:
        log.info("Weekly report digest queued for %s people", sent)
    return sent
