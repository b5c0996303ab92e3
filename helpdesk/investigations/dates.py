"""The local calendar of investigations: today's date and where a local day starts (the
application's default time zone), for due dates and report periods.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from ..core.clock import now


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def today() -> date:
    return now().astimezone(local_zone()).date()


def day_start(value: date) -> datetime:
    """The UTC instant where this local day begins."""
    return datetime(value.year, value.month, value.day, tzinfo=local_zone()).astimezone(
        ZoneInfo("UTC")
    )
