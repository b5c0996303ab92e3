"""Who sees, uses and manages which macro.

Global macros are every agent's and only admins manage them; department macros are their
department's members' and that department's supervisors (and admins) manage them; a personal macro
is its owner's alone (admins may manage it too, e.g. when the owner leaves)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from ..core.permissions import is_admin, is_staff, is_supervisor

if TYPE_CHECKING:
    from ..accounts.models import User
    from .models import Macro


def can_use_macro(user: User, macro: Macro) -> bool:
    if not is_staff(user) or not macro.active:
        return False
    if macro.scope == "global":
        return True
    if macro.scope == "department":
        return user.role == "admin" or macro.department_id in user.department_ids
    return macro.owner_id == user.id


def can_manage_macro(user: User, macro: Macro) -> bool:
    if is_admin(user):
        return True
    if macro.scope == "department":
        return is_supervisor(user) and macro.department_id in user.department_ids
    if macro.scope == "personal":
        return is_staff(user) and macro.owner_id == user.id
    return False


def can_create_scope(user: User, scope: str, department_id: int | None = None) -> bool:
    if is_admin(user):
        return True
    if scope == "department":
        return is_supervisor(user) and department_id in user.department_ids
    if scope == "personal":
        return is_staff(user)
    return False


def visible_condition(user: User):
    """WHERE condition on macros: those `user` may use (active or not: the caller filters)."""
    from .models import Macro

    if user.role == "admin":
        personal = sa.and_(Macro.scope == "personal", Macro.owner_id == user.id)
        return sa.or_(Macro.scope.in_(("global", "department")), personal)
    return sa.or_(
        Macro.scope == "global",
        sa.and_(Macro.scope == "department", Macro.department_id.in_(user.department_ids or [-1])),
        sa.and_(Macro.scope == "personal", Macro.owner_id == user.id),
    )


def manageable_condition(user: User):
    """WHERE condition on macros: those `user` may edit (the management list)."""
    from .models import Macro

    if user.role == "admin":
        return sa.true()
    own = sa.and_(Macro.scope == "personal", Macro.owner_id == user.id)
    if user.role == "supervisor":
        dept = sa.and_(
            Macro.scope == "department", Macro.department_id.in_(user.department_ids or [-1])
        )
        return sa.or_(own, dept)
    return own
