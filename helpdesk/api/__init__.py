"""JSON API v1: token auth, problem+json errors, the contract in ../../shared/ARCHITECTURE.md.

`bp` is registered by create_app under /api/v1 (CSRF-exempt: no cookie is accepted here, only a
bearer token). The route modules below attach their views and hooks to it when imported.
"""

from . import (  # noqa: F401 - attach routes
    admin,
    articles,
    auth,
    calls,
    compliance,
    conversations,
    customers,
    errors,
    escalations,
    investigations,
    macros,
    openapi,
    reports,
    ticket_list,
    tickets,
)
from .blueprint import bp

__all__ = ["bp"]
