"""Every report, loaded: the modules that define them register themselves in registry.REPORTS."""

from __future__ import annotations

from . import quality, times, volume  # noqa: F401 - each registers its reports
from .registry import GROUPS, REPORTS, Report


def all_reports() -> list[Report]:
    """Every report: volume, then times, then quality (registration order within a group)."""
    return sorted(REPORTS.values(), key=lambda r: GROUPS.index(r.group))


def get_report(name: str) -> Report | None:
    return REPORTS.get(name)
