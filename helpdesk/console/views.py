"""The console surface's views: queues, the ticket workspace, phone registration, customers.

Each page group lives in its own module; importing them here registers their routes on `bp`.
"""

from . import (  # noqa: F401 - registers the routes
    calls,
    customers,
    emails,
    escalations,
    follow_ups,
    guest_access,
    investigations,
    kb,
    macro_manage,
    macros,
    merge,
    phone,
    presence,
    queue,
    records,
    reports,
    saved_views,
    search,
    supervision,
    workspace,
)
from .blueprint import bp

__all__ = ["bp"]
