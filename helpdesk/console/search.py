"""The console's search page: GET /console/search?q=… with the queue's filters, scoped to what the
agent may open (their departments' tickets and those assigned to them) and a tag; an exact
protocol, email, phone or CPF/CNPJ jumps straight to the ticket or the customer. Each result shows
its tags (one query for the page) and a checkbox for the bulk bar, whose "all matching" takes
every demand the search finds (up to the bulk bound)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from ..bulk.services import MAX_TICKETS
from ..core.clock import as_utc
from ..core.errors import ValidationError
from ..core.formatting import number
from ..search import service
from ..tickets.models import CHANNELS, KINDS, STATUSES
from ..tickets.permissions import can_work_ticket, staff_can_view
from ..tickets.queries import TicketFilter, queue_filter
from ..tickets.services import get_ticket_by_protocol
from ..tickets.tags import tag_condition, tags_by_ticket
from .blueprint import arg_choice, bp, visible_departments
from .queue import bulk_bar

log = logging.getLogger(__name__)

ASSIGNEES = ("me", "none")


def _arg_date(name: str) -> datetime | None:
    """A YYYY-MM-DD query-string date as the start of that day (UTC); absent: None; else 400."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return as_utc(datetime.combine(date.fromisoformat(value[:10]), time.min))
    except ValueError:
        abort(400)


def _jump(q: str):
    jump = service.exact_match(q)
    if jump is None:
        return None
    if jump.kind == "ticket":
        ticket = get_ticket_by_protocol(jump.protocol)
        if can_work_ticket(current_user, ticket):
            return redirect(url_for("console.ticket", protocol=ticket.protocol))
        return None  # not theirs: the (scoped) results say nothing about it
    return redirect(url_for("console.customer", customer_id=jump.customer_id))


@dataclass
class SearchArgs:
    """The search page's query string, checked: what was typed, the filter (scope included) and
    the values the form shows as selected."""

    q: str
    flt: TicketFilter
    selected: dict
    departments: list


def search_args() -> SearchArgs:
    """The search's query-string filters, checked against allow-lists (anything else: 400)."""
    q = request.args.get("q", "")[: service.MAX_QUERY]
    departments = visible_departments(current_user)
    department = request.args.get("department", "").strip()
    if department and (
        not department.isdigit() or int(department) not in {d.id for d in departments}
    ):
        abort(400)
    status = arg_choice("status", STATUSES)
    assignee = arg_choice("assignee", ASSIGNEES)
    since, until = _arg_date("from"), _arg_date("to")
    filters = {
        "statuses": (status,) if status else (),
        "kind": arg_choice("kind", KINDS),
        "channel": arg_choice("channel", CHANNELS),
        "created_since": since,
        "created_before": until + timedelta(days=1) if until else None,
    }
    category = request.args.get("category", "").strip()
    if category:  # the reports' drill-down (an id; an unknown one finds nothing)
        if not category.isdigit() or len(category) > 12:
            abort(400)
        filters["category_id"] = int(category)
    if department:
        filters["department_ids"] = [int(department)]
        flt = queue_filter(current_user, "department", **filters)
    else:  # everything the agent may open: their departments' and what is assigned to them
        flt = TicketFilter(**filters)
        scope = staff_can_view(current_user)
        if scope is not None:
            flt.extra.append(scope)
    if assignee == "me":
        flt.assignee_id = current_user.id
    elif assignee == "none":
        flt.unassigned = True
    tag = request.args.get("tag", "").strip()
    if tag:
        try:
            flt.extra.append(tag_condition(tag))
        except ValidationError:
            abort(400)
    selected = {
        "status": status or "",
        "kind": filters["kind"] or "",
        "channel": filters["channel"] or "",
        "department": department,
        "assignee": assignee or "",
        "from": request.args.get("from", "")[:10] if since else "",
        "to": request.args.get("to", "")[:10] if until else "",
        "tag": tag[:60],
        "category": category if category else "",
    }
    return SearchArgs(q=q, flt=flt, selected=selected, departments=departments)


def search_matching_ids(limit: int) -> list[int]:
    """The bulk bar's "all matching this search": the ids the search in this request's query
    string finds, at most `limit`."""
    found = search_args()
    return service.matching_ticket_ids(found.q, found.flt, staff=True, limit=limit)


@bp.get("/search")
def search():
    found = search_args()
    cursor = request.args.get("cursor") or None
    if not cursor and found.q.strip() and request.args.get("jump", "1") != "0":
        answer = _jump(found.q)
        if answer is not None:
            return answer
    page = service.search_tickets(
        found.q,
        found.flt,
        staff=True,
        cursor=cursor,
        limit=current_app.config.get("QUEUE_PAGE_SIZE", 50),
    )
    args = {k: v for k, v in request.args.items() if k not in ("cursor", "jump") and v}
    next_url = (
        url_for("console.search", **args, jump=0, cursor=page.next_cursor)
        if page.next_cursor
        else None
    )
    bulk = {}
    if page.items:  # the bulk bar: "all N matching" counts up to the bulk bound, then "500+"
        matching = len(
            service.matching_ticket_ids(found.q, found.flt, staff=True, limit=MAX_TICKETS + 1)
        )
        bulk = {
            **bulk_bar(current_user),
            "bulk_matching": f"{number(MAX_TICKETS)}+"
            if matching > MAX_TICKETS
            else number(matching),
            "args": {**args, "source": "search"},
        }
    return render_template(
        "console/search.html",
        q=found.q,
        page=page,
        searched=bool(found.q.strip()),
        ticket_prefix=url_for("console.ticket", protocol="0")[:-1],
        departments=found.departments,
        assignees=ASSIGNEES,
        selected=found.selected,
        row_tags=tags_by_ticket(hit.ticket.id for hit in page.items),
        next_url=next_url,
        is_first_page=not cursor,
        **bulk,
    )
