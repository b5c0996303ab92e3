"""The scheduler process: runs periodic jobs beside (never inside) the web workers.

Start it with `python -m helpdesk.scheduler` (`make run` does). The jobs are defined here, in code,
and each process keeps them in memory (APScheduler's MemoryJobStore): APScheduler's persistent job
stores must never be shared by two schedulers, and nothing needs one, because every job is
idempotent and reads what is due from the data. So one scheduler, or one per machine, on the same
database, never does a job's work twice (see docs/scheduler.md).
"""

from __future__ import annotations

import logging
import os
import signal
from datetime import UTC, datetime

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger(__name__)

_app: Flask | None = None  # the application the jobs run in (set by build_scheduler)


def _job_app() -> Flask:
    """The application jobs run in: the one given to build_scheduler, else one created here once."""
    global _app
    if _app is None:
        from . import create_app

        _app = create_app()
    return _app


def run_job(name: str):
    """Run one named job in an app context, commit, log; failures are logged and rolled back."""
    from .extensions import db

    func = JOBS[name]
    with _job_app().app_context():
        try:
            result = func()
            db.session.commit()
            if result:
                log.info("%s: %s", name, result)
            return result
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", name)
        finally:
            db.session.remove()


def deliver_outbox_job():
    """Send pending outbound emails (retries with back-off); release claims of crashed workers."""
    from .notifications.services import deliver_outbox, release_stale_claims

    released = release_stale_claims()
    result = deliver_outbox()
    if released or result["sent"] or result["failed"]:
        return {"released": released, **result}
    return None


def escalation_sweep_job():
    """Mark breached deadlines and fire escalation levels (see helpdesk/escalations/sweep.py)."""
    from .escalations.sweep import sweep

    return sweep() or None


def deliver_webhooks_job():
    """Send queued webhook deliveries (signed, retried with back-off, dead after N attempts)."""
    from .webhooks.services import deliver_webhooks, release_stale_webhook_claims

    released = release_stale_webhook_claims()
    result = deliver_webhooks()
    if released or any(result.values()):
        return {"released": released, **result}
    return None


def purge_recordings_job():
    """Forget call recording references older than the retention (at least 90 days)."""
    from .channels.calls import purge_recording_refs

    purged = purge_recording_refs()
    return {"purged": purged} if purged else None


def retention_job():
    """Anonymise the records whose retention period has passed (rule 6), batch by batch."""
    from .compliance.retention import run_retention
    from .extensions import db

    result = run_retention(on_batch=db.session.commit)
    return result if result["tickets"] or result["customers"] else None


def fetch_mail_job():
    """Poll every active IMAP mailbox once (see helpdesk/mail/fetch.py)."""
    from .mail.fetch import fetch_all

    result = fetch_all()
    return result if any(v for k, v in result.items() if k != "mailboxes") else None


def overdue_actions_job():
    """Tell the owner of each overdue corrective/preventive action, once per action."""
    from .investigations.capa import notify_overdue_actions

    return notify_overdue_actions() or None


def report_digest_job():
    """The weekly digest of the reports to supervisors and admins (once a week each)."""
    from .reports.digest import send_weekly_digests

    return send_weekly_digests() or None


def send_surveys_job():
    """Send the satisfaction surveys (and reminders) that came due (claimed rows: never twice)."""
    from .surveys.services import send_due_surveys

    return send_due_surveys() or None


JOBS = {
    "send_surveys": send_surveys_job,
    "deliver_outbox": deliver_outbox_job,
    "escalation_sweep": escalation_sweep_job,
    "deliver_webhooks": deliver_webhooks_job,
    "purge_recordings": purge_recordings_job,
    "fetch_mail": fetch_mail_job,
    "overdue_actions": overdue_actions_job,
    "retention": retention_job,
    "report_digest": report_digest_job,
}


def build_scheduler(app: Flask, *, cls=BlockingScheduler):
    """The scheduler with its jobs, kept in this process's memory (never in a shared store).

    Each job runs once as soon as the scheduler starts, then every interval: a restart (a deploy)
    never pushes a daily job back by a day, and whatever came due while no scheduler ran is done
    at once (the jobs read what is due from the data, so nothing is lost while they are down)."""
    global _app
    _app = app
    scheduler = cls(
        jobstores={"default": MemoryJobStore()},
        timezone="UTC",
        # one run of a job at a time in this process; runs missed while the process was busy or
        # suspended are merged into one (the next pass catches up from the data anyway)
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    intervals = {
        "send_surveys": app.config["SCHEDULER_SURVEY_SECONDS"],
        "deliver_outbox": app.config["SCHEDULER_OUTBOX_SECONDS"],
        "escalation_sweep": app.config["SCHEDULER_SWEEP_SECONDS"],
        "deliver_webhooks": app.config["SCHEDULER_WEBHOOK_SECONDS"],
        "purge_recordings": app.config["SCHEDULER_RECORDING_PURGE_HOURS"] * 3600,
        "fetch_mail": app.config["SCHEDULER_MAIL_SECONDS"],
        "overdue_actions": app.config["SCHEDULER_OVERDUE_ACTIONS_MINUTES"] * 60,
        "retention": app.config["SCHEDULER_RETENTION_HOURS"] * 3600,
        "report_digest": app.config["SCHEDULER_REPORT_DIGEST_MINUTES"] * 60,
    }
    first_run = datetime.now(UTC)
    for name, seconds in intervals.items():
        scheduler.add_job(
            run_job,
            "interval",
            args=[name],
            seconds=seconds,
            id=name,
            name=name,
            next_run_time=first_run,
            replace_existing=True,
        )
    return scheduler


def main() -> None:
    from . import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(message)s"
    )
    # APScheduler logs every run at INFO ("Running job …" every few seconds): keep its warnings and
    # errors; each job logs what it did when it did something
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    app = create_app()
    if os.environ.get("HELPDESK_SCHEDULER_JOBSTORE_URL"):
        log.warning(
            "HELPDESK_SCHEDULER_JOBSTORE_URL is ignored: jobs are kept in memory (docs/scheduler.md)"
        )
    scheduler = build_scheduler(app)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    log.info("scheduler started with jobs: %s", ", ".join(JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")


if __name__ == "__main__":
    # run the canonical module's main, so that one module (not this `__main__` copy as well) holds
    # the application and the jobs
    from helpdesk.scheduler import main as canonical_main

    canonical_main()
