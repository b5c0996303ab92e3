"""The scheduler process: runs periodic jobs beside (never inside) the web workers.

Start it with `python -m helpdesk.scheduler` (`make run` does). Every job is idempotent and safe when
two schedulers run at once, so one scheduler per machine is fine.
"""

from __future__ import annotations

import logging
import signal

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger(__name__)


def _in_app(app: Flask, func):
    def job():
        with app.app_context():
            from .extensions import db

            try:
                result = func()
                db.session.commit()
                if result:
                    log.info("%s: %s", func.__name__, result)
            except Exception:
                db.session.rollback()
                log.exception("job %s failed", func.__name__)
            finally:
                db.session.remove()

    job.__name__ = func.__name__
    return job


def deliver_outbox_job():
    """Send pending outbound emails (retries with back-off); release claims of crashed workers."""
    from .notifications.services import deliver_outbox, release_stale_claims

    released = release_stale_claims()
    result = deliver_outbox()
    if released or result["sent"] or result["failed"]:
        return {"released": released, **result}
    return None


def overdue_actions_job():
    """Tell the owner of each overdue corrective/preventive action, once per action."""
    from .investigations.services import notify_overdue_actions

    return notify_overdue_actions() or None


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1}
    )
    scheduler.add_job(
        _in_app(app, deliver_outbox_job),
        "interval",
        seconds=app.config["SCHEDULER_OUTBOX_SECONDS"],
        id="deliver_outbox",
        replace_existing=True,
    )
    scheduler.add_job(
        _in_app(app, overdue_actions_job),
        "interval",
        minutes=app.config.get("SCHEDULER_OVERDUE_ACTIONS_MINUTES", 30),
        id="overdue_actions",
        replace_existing=True,
    )
    return scheduler


def main() -> None:
    from . import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(message)s"
    )
    app = create_app()
    scheduler = build_scheduler(app)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    log.info("scheduler started with jobs: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")


if __name__ == "__main__":
    main()
