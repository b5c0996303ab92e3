"""Bearer-token authentication for /api/v1 and the role checks every view starts with.

A token acts with its owner's role. Session cookies are ignored here (there is no CSRF protection
on the API), except on the public OpenAPI document and docs page.
"""

from __future__ import annotations

import flask_babel
from flask import g, request

from ..accounts.models import User
from ..accounts.services import user_for_api_token
from ..audit.services import acting
from ..core.errors import NotAllowed, ProtocolNotFound
from ..core.permissions import is_admin, is_staff
from ..extensions import db, login_manager
from ..tickets.merge import final_survivor
from ..tickets.models import Ticket
from ..tickets.permissions import can_view_ticket
from ..tickets.services import get_ticket_by_protocol
from .blueprint import bp
from .errors import Unauthenticated

PUBLIC_ENDPOINTS = frozenset({"api.openapi", "api.docs"})
# readable without a token (as anonymous); a token given is checked and shows its owner more
OPTIONAL_TOKEN_ENDPOINTS = frozenset({"api.list_articles", "api.get_article"})


@bp.before_request
def authenticate() -> None:
    g.pop("api_user", None)
    if request.endpoint in PUBLIC_ENDPOINTS:
        g.pop("_login_user", None)  # the docs page shows the signed-in browser user, if any
        return
    # never fall back to a session cookie: current_user is the token's owner or anonymous
    g._login_user = login_manager.anonymous_user()
    flask_babel.refresh()
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip()
    if not request.headers.get("Authorization") and request.endpoint in OPTIONAL_TOKEN_ENDPOINTS:
        return
    if scheme.lower() != "bearer" or not raw:
        raise Unauthenticated()
    user = user_for_api_token(raw)
    if user is None:
        raise Unauthenticated(invalid_token=True)
    g.api_user = user
    g._login_user = user
    flask_babel.refresh()  # the owner's language preference, then Accept-Language


@bp.teardown_request
def forget_user(_exc=None) -> None:
    g.pop("api_user", None)
    g.pop("_login_user", None)
    g.pop("_flask_babel", None)


def api_user() -> User:
    user = g.get("api_user")
    if user is None:  # a view reached without authentication would be a programming error
        raise Unauthenticated()
    return user


def require_staff(user: User) -> None:
    if not is_staff(user):
        raise NotAllowed()


def require_admin(user: User) -> None:
    """Admins only; what the request then changes in the setup goes to the admin audit log."""
    if not is_admin(user):
        raise NotAllowed()
    acting(db.session(), user, "api")


def load_ticket(
    protocol: str, user: User, *, follow: bool = True, field: str = "protocol"
) -> Ticket:
    """Load by protocol (400 wrong check digit, 404 unknown) and hide what the user may not see.

    A merged protocol keeps answering: with `follow` it stands for its surviving ticket (which
    the caller must be able to see too)."""
    ticket = get_ticket_by_protocol(protocol, field=field)
    if not can_view_ticket(user, ticket):
        raise ProtocolNotFound(field=field)
    if follow and ticket.merged_into_id is not None:
        ticket = final_survivor(ticket)
        if not can_view_ticket(user, ticket):
            raise ProtocolNotFound(field=field)
    return ticket
