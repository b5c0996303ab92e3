"""The console surface's views: queues, the ticket workspace, phone registration, customers.

Each page group lives in its own module; importing them here registers their routes on `bp`.
"""

from . import customers, investigations, phone, queue, workspace  # noqa: F401 - registers the routes
from .blueprint import bp

__all__ = ["bp"]
