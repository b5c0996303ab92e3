"""The ticket list: scoped to what the token's owner may see, filtered, keyset-paginated."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..accounts.services import customer_record_for
from ..core.errors import ValidationError
from ..core.permissions import is_staff
from ..customers.models import Customer, CustomerEmail, CustomerPhone
from ..customers.services import normalize_email, normalize_phone
from ..extensions import db
from ..search import service as search
from ..tickets import queries
from ..tickets.models import CHANNELS, STATUSES, Ticket
from ..tickets.permissions import staff_can_view
from ..tickets.tags import tag_condition, tags_by_ticket
from .auth import api_user
from .blueprint import bp
from .documented import documented, ok, query
from .lookups import department_by_ref
from .parsing import query_datetime, query_int
from .schemas.tickets import TicketPage
from .serializers import ticket_json

MAX_PAGE = 100
DEFAULT_PAGE = 50


@bp.get("/tickets")
@documented(
    "listTickets",
    "tickets",
    _l("List tickets"),
    description=_l(
        "Tickets the token's owner may see (customers: their own; agents and "
        "supervisors: their departments and tickets assigned to them; admins: all), "
        "newest first, one page at a time. Follow `next` for the next page. With `q`, "
        "the tickets whose words match, best match first, then newest, each with a snippet."
    ),
    parameters=(
        query(
            "q",
            _l(
                "Words to search for (accents and case do not matter; the last word also "
                'matches as a prefix; "a phrase" in quotes), or a protocol, phone, email '
                "or CPF/CNPJ written any way. Combines with every other filter."
            ),
            {"type": "string", "maxLength": search.MAX_QUERY},
        ),
        query(
            "status",
            _l("Comma-separated statuses (default: every status)."),
            {"type": "string", "examples": ["new,open"]},
        ),
        query(
            "channel",
            _l("Only tickets that arrived through this channel."),
            {"enum": list(CHANNELS)},
        ),
        query("department", _l("Department id or name.")),
        query("tag", _l("Only tickets with this tag (staff).")),
        query("customer_email", _l("Tickets of the customer with this email.")),
        query("customer_phone", _l("Tickets of the customer with this phone.")),
        query(
            "updated_since",
            _l("Only tickets changed at or after this instant (ISO 8601)."),
            {"type": "string", "format": "date-time"},
        ),
        query("sort", _l("Order."), {"enum": list(queries.SORTS), "default": "newest"}),
        query(
            "limit",
            _l("Page size."),
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
        ),
        query("cursor", _l("The `next` value of the previous page.")),
    ),
    responses={200: ok(TicketPage)},
    errors=(400, 401),
)
def list_tickets():
    user = api_user()
    sort = request.args.get("sort", "newest")
    if sort not in queries.SORTS:
        raise ValidationError(
            _l("Unknown sort. Use one of: %(sorts)s."), field="sort", sorts=", ".join(queries.SORTS)
        )
    limit = query_int("limit", DEFAULT_PAGE, low=1, high=MAX_PAGE)
    flt = _scoped_filter(user)
    cursor = request.args.get("cursor") or None
    words = request.args.get("q", "").strip()
    if len(words) > search.MAX_QUERY:
        raise ValidationError(
            _l("Search for at most %(n)d characters."), field="q", n=search.MAX_QUERY
        )
    try:
        if words:
            page = search.search_tickets(
                words, flt, staff=is_staff(user), cursor=cursor, limit=limit
            )
            tickets = [hit.ticket for hit in page.items]
        else:
            page = queries.ticket_page(flt, sort=sort, cursor=cursor, limit=limit)
            tickets = page.items
    except ValidationError as exc:
        if exc.field == "cursor":
            raise ValidationError(_l("This cursor is not valid."), field="cursor") from None
        raise
    _load_contacts(tickets)
    tags = tags_by_ticket(t.id for t in tickets) if is_staff(user) else {}
    items = [ticket_json(t, user, tags=tags.get(t.id, [])) for t in tickets]
    if words:
        for item, hit in zip(items, page.items, strict=True):
            item["snippet"] = str(hit.snippet)
    response = jsonify({"items": items, "next": page.next_cursor})
    if page.next_cursor:
        args = request.args.to_dict()
        args["cursor"] = page.next_cursor
        response.headers["Link"] = f'<{url_for("api.list_tickets", **args)}>; rel="next"'
    return response


def _scoped_filter(user) -> queries.TicketFilter:
    flt = queries.TicketFilter(statuses=())
    statuses = [s.strip() for s in request.args.get("status", "").split(",") if s.strip()]
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        raise ValidationError(
            _l("Unknown status. Use one of: %(statuses)s."),
            field="status",
            statuses=", ".join(STATUSES),
        )
    flt.statuses = tuple(statuses)
    channel = request.args.get("channel", "").strip()
    if channel:
        if channel not in CHANNELS:
            raise ValidationError(
                _l("Unknown channel. Use one of: %(channels)s."),
                field="channel",
                channels=", ".join(CHANNELS),
            )
        flt.channel = channel
    department = request.args.get("department")
    if department:
        flt.department_ids = [department_by_ref(department).id]
    for name, normalize, column in (
        ("customer_email", normalize_email, CustomerEmail.email),
        ("customer_phone", normalize_phone, CustomerPhone.number),
    ):
        condition = _customer_contact(name, normalize, column)
        if condition is not None:
            flt.extra.append(condition)
    flt.updated_since = query_datetime("updated_since")
    tag = request.args.get("tag", "").strip()
    if tag:
        try:
            flt.extra.append(tag_condition(tag))
        except ValidationError as exc:
            exc.field = "tag"
            raise

    # scope: what this token's owner may see in the UI
    if not is_staff(user):
        record = customer_record_for(user)
        flt.customer_ids = [record.id] if record else []
    else:
        scope = staff_can_view(user)
        if scope is not None:
            flt.extra.append(scope)
    return flt


def _customer_contact(name: str, normalize, column):
    """Tickets of the customer with the email or phone given in the query string `name` (its
    error names that parameter); None when it is not given."""
    value = request.args.get(name)
    if not value:
        return None
    try:
        value = normalize(value)
    except ValidationError as exc:
        exc.field = name
        raise
    owners = sa.select(column.class_.customer_id).where(column == value)
    return Ticket.customer_id.in_(owners)


def _load_contacts(tickets: list[Ticket]) -> None:
    """Emails and phones of every customer on the page in two queries, whatever the page size."""
    ids = {t.customer_id for t in tickets}
    if ids:
        list(
            db.session.scalars(
                sa.select(Customer)
                .where(Customer.id.in_(ids))
                .options(selectinload(Customer.emails), selectinload(Customer.phones))
            )
        )
