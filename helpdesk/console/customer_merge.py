"""Merging two customer records found to be the same person (supervisors): find the duplicate
by email or CPF/CNPJ, confirm, and everything of it moves to the record whose page this is
(`customers.merge.merge_customers`, one transaction, audited)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from ..core.errors import DomainError
from ..core.text import id_number
from ..core.unit import attempt, refuse
from ..customers.documents import format_document
from ..customers.merge import merge_candidates, merge_customers
from ..customers.models import Customer
from ..extensions import db
from .blueprint import bp
from .supervision import require_supervisor


class MergeForm(FlaskForm):
    duplicate_id = HiddenField(validators=[DataRequired()])
    confirm = BooleanField(
        _l("I checked: this is the same person. Move everything to this record."),
        validators=[DataRequired(_l("Please confirm first."))],
    )


def _kept(customer_id: int) -> Customer:
    require_supervisor()
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    return customer


def _page(kept: Customer, *, query: str = "", candidates=(), error=None, status: int = 200):
    return render_template(
        "console/customer_merge.html",
        customer=kept,
        query=query,
        candidates=[
            (c, format_document(c.document) if c.document else None, MergeForm(formdata=None))
            for c in candidates
        ],
        error=error,
    ), status


@bp.get("/customers/<int:customer_id>/merge")
def customer_merge(customer_id: int):
    kept = _kept(customer_id)
    query = (request.args.get("q") or "").strip()[:254]
    if not query:
        return _page(kept)
    try:
        candidates = merge_candidates(kept, query)
    except DomainError as exc:
        return _page(kept, query=query, error=str(exc), status=422)
    return _page(kept, query=query, candidates=candidates)


@bp.post("/customers/<int:customer_id>/merge")
def customer_merge_post(customer_id: int):
    kept = _kept(customer_id)
    form = MergeForm()
    if not form.validate_on_submit():
        refuse()
        message = form.confirm.errors[0] if form.confirm.errors else _("Choose a record to merge.")
        return _page(kept, error=str(message), status=422)
    duplicate_id = id_number(form.duplicate_id.data)
    duplicate = db.session.get(Customer, duplicate_id) if duplicate_id else None
    if duplicate is None:
        abort(404)
    name = duplicate.name
    with attempt() as done:
        merge_customers(kept, duplicate, current_user)
    if done.error:
        status = getattr(done.error, "status", 409)
        return _page(db.session.get(Customer, customer_id), error=str(done.error), status=status)
    flash(_("Record “%(name)s” merged into this one.", name=name), "success")
    return redirect(url_for("console.customer", customer_id=customer_id))
