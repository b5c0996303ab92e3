"""The customer page: contact data and every demand, keyset paginated, limited to what the
staff member may work (an agent sees only demands of their departments)."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..customers.documents import format_document
from ..customers.models import Customer
from ..customers.services import format_phone
from ..extensions import db
from ..tickets.merge import merged_protocols
from ..tickets.permissions import staff_department_ids
from ..tickets.queries import TicketFilter, ticket_page
from .blueprint import bp
from .records import records_context

PAGE_SIZE = 25


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int):
    customer = db.session.get(
        Customer,
        customer_id,
        options=[selectinload(Customer.emails), selectinload(Customer.phones)],
    )
    if customer is None:
        abort(404)
    page = ticket_page(
        TicketFilter(
            statuses=(),
            customer_id=customer.id,
            department_ids=staff_department_ids(current_user),
        ),
        sort="newest",
        cursor=request.args.get("cursor") or None,
        limit=PAGE_SIZE,
    )
    next_url = (
        url_for("console.customer", customer_id=customer.id, cursor=page.next_cursor)
        if page.next_cursor
        else None
    )
    return render_template(
        "console/customer.html",
        customer=customer,
        phones=[format_phone(p.number) for p in customer.phones],
        document=format_document(customer.document) if customer.document else None,
        page=page,
        merged=merged_protocols(page.items),
        next_url=next_url,
        **records_context(customer),
    )
