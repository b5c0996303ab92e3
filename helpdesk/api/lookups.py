"""Resolve references given by id or by name (departments, categories, staff) into records."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..accounts.models import Department, User
from ..core.errors import ValidationError
from ..core.text import ascii_digits, id_number
from ..extensions import db
from ..tickets.models import Category


def department_by_ref(ref: int | str, field: str = "department") -> Department:
    if isinstance(ref, str) and ascii_digits(ref):
        ref = id_number(ref) or 0  # 0: no such department
    if isinstance(ref, int):
        dept = db.session.get(Department, ref)
    else:
        dept = db.session.scalar(
            sa.select(Department).where(sa.func.lower(Department.name) == ref.strip().lower())
        )
    if dept is None:
        raise ValidationError(_l("Unknown department."), field=field)
    return dept


def category_by_ref(ref: int | str, field: str = "category") -> Category:
    if isinstance(ref, int):
        category = db.session.get(Category, ref)
    else:
        name = ref.strip().lower()
        category = db.session.scalar(
            sa.select(Category)
            .where(
                sa.or_(
                    sa.func.lower(Category.name) == name,
                    sa.func.lower(Category.name_pt_br) == name,
                    sa.func.lower(Category.name_es) == name,
                )
            )
            .order_by(Category.active.desc(), Category.id)
            .limit(1)
        )
    if category is None:
        raise ValidationError(_l("Unknown category."), field=field)
    return category


def user_by_ref(ref: int | str, field: str) -> User:
    """A user by id or e-mail address."""
    if isinstance(ref, int):
        user = db.session.get(User, ref)
    else:
        user = db.session.scalar(sa.select(User).where(User.email == ref.strip().lower()))
    if user is None:
        raise ValidationError(_l("Unknown user."), field=field)
    return user
