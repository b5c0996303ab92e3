"""The customer page: contact data and every demand, keyset paginated, limited to what the
staff member may work (an agent sees only demands of their departments)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from ..accounts.models import STAFF_ROLES, User
from ..core.unit import attempt
from ..customers.documents import format_document
from ..customers.models import (
    RECORD_FIELD_LABELS,
    RISK_REASON_LABELS,
    Customer,
    CustomerEvent,
)
from ..customers.profile import update_profile
from ..customers.risk import clear_at_risk
from ..customers.services import format_phone
from ..customers.timeline import KIND_LABELS as TIMELINE_LABELS
from ..customers.timeline import timeline_page
from ..extensions import db
from ..tickets.merge import merged_protocols
from ..tickets.models import CHANNEL_LABELS
from ..tickets.permissions import staff_department_ids
from ..tickets.queries import TicketFilter, ticket_page
from .blueprint import bp
from .customer_forms import CustomerProfileForm
from .records import records_context
from .supervision import require_supervisor

PAGE_SIZE = 25
TIMELINE_SIZE = 30


def _profile_form(customer: Customer, formdata=None) -> CustomerProfileForm:
    staff = db.session.scalars(
        sa.select(User).where(User.role.in_(STAFF_ROLES), User.active.is_(True)).order_by(User.name)
    ).all()
    form = CustomerProfileForm(formdata=formdata, obj=None if formdata else customer)
    form.fill_choices(staff, CHANNEL_LABELS)
    if formdata is None:
        form.key_account_agent.data = (
            str(customer.key_account_agent_id) if customer.key_account_agent_id else ""
        )
        for name in ("relationship_type", "lifecycle_stage", "value_tier", "preferred_channel"):
            getattr(form, name).data = getattr(customer, name) or ""
        form.locale.data = customer.locale or ""
    return form


@bp.post("/customers/<int:customer_id>/profile")
def customer_profile(customer_id: int):
    record = db.session.get(Customer, customer_id)
    if record is None:
        abort(404)
    form = _profile_form(record, request.form)
    if not form.validate():
        return customer(customer_id, form=form, status=422)
    with attempt() as done:
        changed = update_profile(record, current_user, form.changes())
    if done.error:
        flash(str(done.error), "error")
        return customer(customer_id, form=form, status=422)
    flash(_("Customer record saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("console.customer", customer_id=customer_id))


@bp.post("/customers/<int:customer_id>/at-risk/clear")
def clear_customer_at_risk(customer_id: int):
    """A supervisor clears the at-risk flag (audited as a CustomerEvent)."""
    require_supervisor()
    record = db.session.get(Customer, customer_id)
    if record is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    with attempt() as done:
        clear_at_risk(record, current_user)
    if done.error:
        flash(str(done.error), "error")
        return customer(customer_id, status=409)
    flash(_("The at-risk flag was cleared."), "success")
    return redirect(url_for("console.customer", customer_id=customer_id))


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int, form: CustomerProfileForm | None = None, status: int = 200):
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
    timeline = timeline_page(
        customer.id,
        staff_department_ids(current_user),
        cursor=request.args.get("tcursor") or None,
        limit=TIMELINE_SIZE,
    )
    timeline_next = (
        url_for("console.customer", customer_id=customer.id, tcursor=timeline.next_cursor)
        + "#timeline"
        if timeline.next_cursor
        else None
    )
    history = db.session.scalars(
        sa.select(CustomerEvent)
        .where(CustomerEvent.customer_id == customer.id)
        .order_by(CustomerEvent.id.desc())
        .limit(100)
        .options(selectinload(CustomerEvent.actor))
    ).all()
    return render_template(
        "console/customer.html",
        form=form or _profile_form(customer),
        history=history,
        risk_reason_labels=RISK_REASON_LABELS,
        field_labels=RECORD_FIELD_LABELS,
        timeline=timeline,
        timeline_next=timeline_next,
        timeline_labels=TIMELINE_LABELS,
        customer=customer,
        phones=[format_phone(p.number) for p in customer.phones],
        document=format_document(customer.document) if customer.document else None,
        page=page,
        merged=merged_protocols(page.items),
        next_url=next_url,
        **records_context(customer),
    ), status
