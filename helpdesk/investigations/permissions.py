"""Who may do what with investigations (see `operations` for "propose"): supervisors and admins
manage, every member of staff sees, the owner of an action (or a supervisor) completes it.
"""

from __future__ import annotations

from ..core.errors import NotAllowed
from ..core.permissions import is_staff, is_supervisor
from .models import CapaAction


def can_see(user) -> bool:
    return is_staff(user)


def can_manage(user) -> bool:
    return is_supervisor(user)


def can_complete(user, action: CapaAction) -> bool:
    return can_manage(user) or (is_staff(user) and action.owner_id == user.id)


def require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed()


def require_manager(by) -> None:
    if by is not None:
        require(can_manage(by))


def require_viewer(by) -> None:
    if by is not None:
        require(can_see(by))
