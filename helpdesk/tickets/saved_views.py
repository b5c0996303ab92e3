"""Saved views: a named queue filter + sort, personal or shared with one department.

The filters are the console queue's query arguments, checked against an allow-list of keys and
value shapes when saved (`clean_filters`, ValidationError) and again when a view is opened
(`applicable_filters` drops what no longer applies, e.g. a deleted department or category, so
an old view never breaks the queue). Counts: `bounded_view_counts`, one statement for all the
views shown, each a scan bounded by `cap` + 1 rows on the queue's indexes.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..accounts.models import Department, User
from ..core.errors import NotAllowed, NotFound, ValidationError
from ..core.logs import who
from ..core.permissions import is_admin, is_supervisor
from ..core.text import ascii_digits, clean_text
from ..extensions import db
from .models import (
    CHANNELS,
    KINDS,
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    Category,
    SavedView,
    Ticket,
)
from .queries import SORTS, filter_conditions, queue_filter

log = logging.getLogger(__name__)

MAX_NAME = 80
MAX_VIEWS = 50  # per owner
SHOWN_VIEWS = 30  # in the sidebar (own first, then the departments')
QUEUE_NAMES = ("mine", "unassigned", "department")


def _choice(allowed):
    return lambda v: v in allowed


def _digits(v) -> bool:
    return isinstance(v, str) and ascii_digits(v) and len(v) <= 12


# key -> a check of the value's shape (ids are checked against the database when applied)
FILTER_KEYS = {
    "queue": _choice(QUEUE_NAMES),
    "status": _choice((*STATUSES, "any")),
    "priority": _choice({str(p) for p in PRIORITIES}),
    "kind": _choice(KINDS),
    "channel": _choice(CHANNELS),
    "category": _digits,
    "department": _digits,
}


def clean_filters(filters: dict, sort: str) -> tuple[dict, str]:
    """The filters and sort to store, or a ValidationError naming what is not a queue filter."""
    if not isinstance(filters, dict):
        raise ValidationError(_l("These filters cannot be saved."), field="filters")
    cleaned = {}
    for key, value in filters.items():
        if value in (None, ""):
            continue
        check = FILTER_KEYS.get(key)
        if check is None or not isinstance(value, str) or not check(value):
            raise ValidationError(
                _l("“%(key)s” is not a filter of the queue."), field="filters", key=str(key)[:40]
            )
        cleaned[key] = value
    if sort not in SORTS:
        raise ValidationError(_l("Unknown sort order."), field="sort")
    return cleaned, sort


def applicable_filters(view: SavedView, user: User) -> tuple[dict, bool]:
    """The view's filters that still apply for `user` (shapes, an active category, a department
    they may filter on) and whether some were dropped."""
    out, dropped = {}, False
    for key, value in (view.filters or {}).items():
        check = FILTER_KEYS.get(key)
        if check is None or not isinstance(value, str) or not check(value):
            dropped = True
            continue
        out[key] = value
    if "category" in out:
        category = db.session.get(Category, int(out["category"]))
        if category is None or not category.active:
            out.pop("category")
            dropped = True
    if "department" in out:
        department_id = int(out["department"])
        department = db.session.get(Department, department_id)
        allowed = department is not None and department.active
        if allowed and not is_admin(user):
            allowed = department_id in user.department_ids
        if not allowed:
            out.pop("department")
            dropped = True
    return out, dropped


def view_filter(user: User, filters: dict):
    """The TicketFilter a view's (applicable) filters select for `user`, as the queue builds it."""
    status = filters.get("status")
    values = {
        "statuses": OPEN_STATUSES if status is None else () if status == "any" else (status,),
        "kind": filters.get("kind"),
        "channel": filters.get("channel"),
        "priority": int(filters["priority"]) if filters.get("priority") else None,
        "category_id": int(filters["category"]) if filters.get("category") else None,
    }
    if filters.get("department"):
        values["department_ids"] = [int(filters["department"])]
    return queue_filter(user, filters.get("queue") or "mine", **values)


def _shared_department(owner: User, department_id: int | None) -> int | None:
    if department_id is None:
        return None
    if not is_supervisor(owner):
        raise NotAllowed(_l("Only supervisors and admins share views with a department."))
    department = db.session.get(Department, department_id)
    if department is None or not department.active:
        raise ValidationError(_l("Unknown department."), field="department")
    if not is_admin(owner) and department_id not in owner.department_ids:
        raise NotAllowed(_l("You can only share a view with one of your departments."))
    return department_id


def create_saved_view(
    owner: User, name: str, filters: dict, sort: str, *, department_id: int | None = None
) -> SavedView:
    name = clean_text(name, "name", required=True, limit=MAX_NAME)
    filters, sort = clean_filters(filters, sort)
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(SavedView).where(SavedView.owner_id == owner.id)
    )
    if count >= MAX_VIEWS:
        raise ValidationError(_l("You have too many saved views; delete some first."))
    position = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(SavedView.position), 0)).where(
            SavedView.owner_id == owner.id
        )
    )
    view = SavedView(
        name=name,
        owner_id=owner.id,
        department_id=_shared_department(owner, department_id),
        filters=filters,
        sort=sort,
        position=position + 1,
    )
    db.session.add(view)
    db.session.flush()
    log.info("Saved view %s created by %s", view.id, who(owner))
    return view


def can_see_view(user: User, view: SavedView) -> bool:
    return view.owner_id == user.id or (
        view.department_id is not None and view.department_id in user.department_ids
    )


def get_visible_view(user: User, view_id: int) -> SavedView:
    view = db.session.get(SavedView, view_id)
    if view is None or not can_see_view(user, view):
        raise NotFound(_l("This view does not exist or is not shared with you."))
    return view


def get_own_view(user: User, view_id: int) -> SavedView:
    view = get_visible_view(user, view_id)
    if view.owner_id != user.id:
        raise NotAllowed(_l("Only whoever saved a view can change it."))
    return view


def rename_saved_view(view: SavedView, actor: User, name: str) -> None:
    if view.owner_id != actor.id:
        raise NotAllowed(_l("Only whoever saved a view can change it."))
    view.name = clean_text(name, "name", required=True, limit=MAX_NAME)
    db.session.flush()


def delete_saved_view(view: SavedView, actor: User) -> None:
    if view.owner_id != actor.id:
        raise NotAllowed(_l("Only whoever saved a view can change it."))
    db.session.delete(view)
    db.session.flush()


def move_saved_view(view: SavedView, actor: User, direction: str) -> None:
    """Swap with the owner's previous ("up") or next ("down") view."""
    if view.owner_id != actor.id:
        raise NotAllowed(_l("Only whoever saved a view can change it."))
    if direction not in ("up", "down"):
        raise ValidationError(_l("Unknown direction."), field="direction")
    own = list(
        db.session.scalars(
            sa.select(SavedView)
            .where(SavedView.owner_id == actor.id)
            .order_by(SavedView.position, SavedView.id)
        )
    )
    for position, item in enumerate(own, start=1):  # renumber: positions may have gaps or ties
        item.position = position
    index = own.index(view)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(own):
        own[index].position, own[other].position = own[other].position, own[index].position
    db.session.flush()


def visible_views(user: User, *, limit: int = SHOWN_VIEWS) -> list[SavedView]:
    """The user's own views, then those shared with their departments (one query)."""
    departments = user.department_ids
    condition = SavedView.owner_id == user.id
    if departments:
        condition = sa.or_(condition, SavedView.department_id.in_(departments))
    own_first = sa.case((SavedView.owner_id == user.id, 0), else_=1)
    return list(
        db.session.scalars(
            sa.select(SavedView)
            .where(condition)
            .order_by(own_first, SavedView.position, SavedView.id)
            .limit(limit)
        )
    )


def _bounded_count(flt, cap: int):
    inner = sa.select(Ticket.id).where(*filter_conditions(flt)).limit(cap + 1)
    return sa.select(sa.func.count()).select_from(inner.subquery()).scalar_subquery()


def bounded_view_counts(user: User, views: list[SavedView], *, cap: int) -> dict[int, int]:
    """Each view's matching tickets for `user`, counted up to `cap` + 1: one statement for all
    the views, each a bounded scan (status, department, assignee lead the queue indexes)."""
    if not views:
        return {}
    columns = []
    for view in views:
        filters, _dropped = applicable_filters(view, user)
        columns.append(_bounded_count(view_filter(user, filters), cap).label(f"v{view.id}"))
    row = db.session.execute(sa.select(*columns)).one()
    return {view.id: n for view, n in zip(views, row, strict=True)}
