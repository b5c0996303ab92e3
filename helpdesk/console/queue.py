"""The queue page: Mine / Unassigned / All open in my departments, with filters, sort and pages.

Every GET parameter is checked against an allow-list (unknown value → 400); the page is one keyset
query plus a fixed number of small lookups, whatever the number of tickets.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..core.clock import as_utc, now
from ..core.errors import ValidationError
from ..core.formatting import duration, number
from ..core.permissions import is_supervisor
from ..extensions import db
from ..tickets.models import CHANNELS, KINDS, OPEN_STATUSES, PRIORITIES, STATUSES, Category
from ..tickets.queries import bounded_queue_counts, queue_filter, ticket_page
from ..tickets.tags import tag_condition, tags_by_ticket
from .blueprint import arg_choice, arg_int_choice, bp, visible_departments
from .saved_views import sidebar_views

log = logging.getLogger(__name__)

QUEUE_LABELS = {
    "mine": _l("Mine"),
    "unassigned": _l("Unassigned in my departments"),
    "department": _l("All open in my departments"),
}
QUEUE_SORTS = {
    "due": _l("Due first"),
    "oldest": _l("Oldest first"),
    "newest": _l("Newest first"),
    "priority": _l("Priority"),
}
COUNT_CAP = 50  # counts stop here ("50+"): a bounded, indexed scan, never COUNT(*) over the table


def bulk_bar(user, flt=None) -> dict:
    """What the bulk bar offers: the macros the agent may apply, the departments to transfer to,
    the bound on "all matching" and, given the list's filter, how many demands it matches
    (counted up to the bound: "500+")."""
    from ..accounts.models import Department
    from ..bulk.services import MAX_TICKETS, count_matching
    from ..macros.services import macros_for

    extra = {}
    if flt is not None:
        matching = count_matching(flt)
        extra["bulk_matching"] = (
            f"{number(MAX_TICKETS)}+" if matching > MAX_TICKETS else number(matching)
        )
    return {
        **extra,
        "bulk_macros": macros_for(user),
        "bulk_departments": list(
            db.session.scalars(
                sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
            )
        ),
        "bulk_max": MAX_TICKETS,
    }


@bp.context_processor
def console_helpers():
    return {"age": age, "queue_labels": QUEUE_LABELS}


def age(value) -> str:
    """How long ago, short and localised, in its biggest unit ("56 d", "5 h", "12 min")."""
    if value is None:
        return ""
    return duration(max(now() - as_utc(value), timedelta(0)), max_units=1)


def _bounded_counts(user) -> dict[str, str]:
    """Every queue's bounded count (one statement), as shown: "50+" past the cap."""
    counts = bounded_queue_counts(user, list(QUEUE_LABELS), cap=COUNT_CAP)
    return {
        name: f"{number(COUNT_CAP)}+" if n > COUNT_CAP else number(n) for name, n in counts.items()
    }


def _registered_days():
    """`from`/`to` (YYYY-MM-DD, days in the user's time zone, both included; the reports'
    drill-down) as the UTC instants [since, until); absent: None; malformed: 400."""
    bounds = []
    for name, extra in (("from", 0), ("to", 1)):
        raw = request.args.get(name, "").strip()
        if not raw:
            bounds.append(None)
            continue
        try:
            day = date.fromisoformat(raw) + timedelta(days=extra)
            zone = ZoneInfo(str(get_timezone()))
            bounds.append(as_utc(datetime.combine(day, time(0), tzinfo=zone)))
        except (ValueError, OverflowError, KeyError):
            abort(400)
    return bounds[0], bounds[1]


def _queue_args():
    """The queue's query-string filters, checked against allow-lists (anything else: 400)."""
    user = current_user
    queue_name = arg_choice("queue", QUEUE_LABELS) or "mine"
    status = arg_choice("status", (*STATUSES, "any"))
    departments = visible_departments(user)
    categories = list(
        db.session.scalars(
            sa.select(Category)
            .where(Category.active.is_(True))
            .order_by(Category.position, Category.name)
        )
    )
    department_id = arg_int_choice("department", {d.id for d in departments})
    filters = {
        "statuses": OPEN_STATUSES if status is None else () if status == "any" else (status,),
        "kind": arg_choice("kind", KINDS),
        "channel": arg_choice("channel", CHANNELS),
        "priority": arg_int_choice("priority", PRIORITIES),
        "category_id": arg_int_choice("category", {c.id for c in categories}),
    }
    if department_id is not None:
        filters["department_ids"] = [department_id]
    since, until = _registered_days()
    if since is not None:
        filters["created_since"] = since
    if until is not None:
        filters["created_before"] = until
    flt = queue_filter(user, queue_name, **filters)
    tag = request.args.get("tag", "").strip()
    if tag:
        try:
            flt.extra.append(tag_condition(tag))
        except ValidationError:
            abort(400)
    return queue_name, status, departments, categories, department_id, filters, flt, tag


def queue_filter_from_args():
    """The filter of the queue whose query string this request carries (the bulk bar's "all
    matching this filter")."""
    return _queue_args()[-2]


@bp.get("/")
def queue():
    user = current_user
    sort = arg_choice("sort", QUEUE_SORTS) or "due"
    queue_name, status, departments, categories, department_id, filters, flt, tag = _queue_args()
    page = ticket_page(
        flt,
        sort=sort,
        cursor=request.args.get("cursor") or None,
        limit=current_app.config.get("QUEUE_PAGE_SIZE", 50),
    )
    counts = _bounded_counts(user)
    tags = tags_by_ticket(t.id for t in page.items)
    args = {k: v for k, v in request.args.items() if k != "cursor" and v}
    next_url = (
        url_for("console.queue", **args, cursor=page.next_cursor) if page.next_cursor else None
    )
    return render_template(
        "console/queue.html",
        page=page,
        # built once: url_for for every row of every column is the page's biggest cost
        ticket_prefix=url_for("console.ticket", protocol="0")[:-1],
        customer_prefix=url_for("console.customer", customer_id=0)[:-1],
        queue_name=queue_name,
        counts=counts,
        sorts=QUEUE_SORTS,
        sort=sort,
        args=args,
        departments=departments,
        categories=categories,
        selected={
            "status": status or "",
            "kind": filters["kind"] or "",
            "channel": filters["channel"] or "",
            "priority": filters["priority"] or "",
            "category": filters["category_id"] or "",
            "department": department_id or "",
            "tag": tag,
        },
        row_tags=tags,
        **bulk_bar(user, flt),
        next_url=next_url,
        is_first_page=not request.args.get("cursor"),
        saved_views=sidebar_views(user),
        current_view=arg_int_choice("view", range(1, 2**31)),
        can_share_views=is_supervisor(user),
    )
