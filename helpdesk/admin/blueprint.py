"""The admin blueprint, its guard (admins only) and the helpers every admin view shares."""

from __future__ import annotations

import logging

from flask import Blueprint, abort
from flask_login import current_user

from ..audit.services import acting
from ..core.permissions import can_admin
from ..extensions import db, login_manager

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__)


@bp.before_request
def require_admin():
    """Anonymous visitors go to the login page; signed-in non-admins get 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not can_admin(current_user):
        abort(403)
    # what this request changes in the setup goes to the admin audit log, as this admin's
    acting(db.session(), current_user._get_current_object(), "console")
    return None


def load_or_404(model, object_id: int):
    """The row with this id, or 404; then the admin permission, or 403."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    if not can_admin(current_user):
        abort(403)
    return obj
