"""Who reads reports, and over which departments: supervisors (their departments) and admins
(every department). The same rule for the console, the API and the digest."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..accounts.models import Department, User
from ..core.permissions import is_admin, is_supervisor
from ..extensions import db
from ..tickets.permissions import staff_department_ids
from .params import Params, parse_params


def can_read_reports(user) -> bool:
    return is_supervisor(user)


def reader_departments(user: User) -> list[Department]:
    """The departments a reader may filter on: every active one for an admin, else their own."""
    if is_admin(user):
        return list(
            db.session.scalars(
                sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
            )
        )
    return sorted(user.departments, key=lambda d: d.name)


def params_for(
    user: User,
    args: Mapping[str, str],
    *,
    zone: ZoneInfo,
    at: datetime,
    locale: str | None = None,
    departments: list[Department] | None = None,
) -> Params:
    """The period and filters in `args`, limited to what `user` may see (a ValidationError for a
    bad date or a department they may not filter on)."""
    if departments is None:
        departments = reader_departments(user)
    return parse_params(
        args,
        zone=zone,
        at=at,
        scope=staff_department_ids(user),
        departments=[d.id for d in departments],
        locale=locale,
    )
