"""Reading accounts for lists: the admin's user list (role filter, name or email prefix, keyset
pagination by id)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from .models import User


def _prefix(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def user_page(
    *, role: str | None = None, search: str = "", after_id: int | None = None, size: int = 50
) -> list[User]:
    """Up to `size` users by id after `after_id`, with their departments; `search` matches the
    start of the email or the name, case-insensitively (LIKE wildcards in it are literal)."""
    stmt = sa.select(User).options(selectinload(User.departments)).order_by(User.id).limit(size)
    if role:
        stmt = stmt.where(User.role == role)
    if search:
        like = _prefix(search)
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(User.email).like(like, escape="\\"),
                sa.func.lower(User.name).like(like, escape="\\"),
            )
        )
    if after_id is not None:
        stmt = stmt.where(User.id > after_id)
    return list(db.session.scalars(stmt))
