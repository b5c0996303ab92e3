"""Customer look-up for staff: by phone, e-mail or CPF/CNPJ (what a caller gives on the phone)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..core.errors import NotFound, ValidationError
from ..core.unit import commit
from ..customers.models import Customer
from ..customers.profile import update_profile
from ..customers.services import find_customers
from ..extensions import db
from .auth import api_user, require_staff
from .blueprint import bp
from .documented import documented, ok, path_parameter, query
from .errors import InvalidInput
from .parsing import json_object
from .schemas.customers import CustomerChange, CustomerRecord
from .schemas.tickets import CustomerList
from .serializers import customer_json
from .validation import parse_body

LOOKUP_FIELDS = ("phone", "email", "document")


@bp.get("/customers")
@documented(
    "findCustomers",
    "customers",
    _l("Find a customer"),
    description=_l("Staff only. Give exactly one of phone, email, document."),
    parameters=(
        query("phone", _l("Phone number, any common format.")),
        query("email", _l("Email address.")),
        query("document", _l("CPF or CNPJ, with or without punctuation.")),
    ),
    responses={200: ok(CustomerList)},
    errors=(400, 401, 403),
)
def find_customer():
    user = api_user()
    require_staff(user)
    given = {name: request.args.get(name, "").strip() for name in LOOKUP_FIELDS}
    given = {name: value for name, value in given.items() if value}
    if len(given) != 1:
        raise ValidationError(_l("Give exactly one of: phone, email, document."), field="phone")
    found = find_customers(**given)
    ids = [c.id for c in found]
    customers = (
        db.session.scalars(
            sa.select(Customer)
            .where(Customer.id.in_(ids))
            .order_by(Customer.id)
            .options(selectinload(Customer.emails), selectinload(Customer.phones))
        ).all()
        if ids
        else []
    )
    return jsonify({"items": [customer_json(c, user) for c in customers]})


CUSTOMER_ID = path_parameter("customer_id", _l("The customer's id."), {"type": "integer"})
NOT_NULL = ("segment", "is_key_account")


def _customer_or_404(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(_l("Customer not found."), field="customer_id")
    return customer


def customer_record_json(customer: Customer) -> dict:
    return {
        "id": customer.id,
        "name": customer.name,
        "emails": [e.email for e in customer.emails],
        "phones": [p.number for p in customer.phones],
        "document": customer.document,
        "segment": customer.segment,
        "is_key_account": customer.is_key_account,
        "key_account_agent_id": customer.key_account_agent_id,
        "relationship_type": customer.relationship_type,
        "lifecycle_stage": customer.lifecycle_stage,
        "value_tier": customer.value_tier,
        "preferred_channel": customer.preferred_channel,
        "locale": customer.locale,
        "customer_notes": customer.customer_notes or "",
        "customer_important_dates": customer.customer_important_dates or "",
        "at_risk_since": customer.at_risk_since.isoformat() if customer.at_risk_since else None,
    }


@bp.get("/customers/<int:customer_id>")
@documented(
    "getCustomer",
    "customers",
    _l("Read a customer record"),
    description=_l("Staff only. The relationship fields that drive service."),
    parameters=(CUSTOMER_ID,),
    responses={200: ok(CustomerRecord)},
    errors=(401, 403, 404),
)
def get_customer(customer_id: int):
    user = api_user()
    require_staff(user)
    return jsonify(customer_record_json(_customer_or_404(customer_id)))


@bp.patch("/customers/<int:customer_id>")
@documented(
    "updateCustomer",
    "customers",
    _l("Change a customer record"),
    description=_l("Staff only. Every change is audited in the customer's timeline."),
    parameters=(CUSTOMER_ID,),
    body=CustomerChange,
    example={"relationship_type": "long_term", "lifecycle_stage": "commitment"},
    responses={200: ok(CustomerRecord)},
    errors=(400, 401, 403, 404, 415, 422),
)
def update_customer_record(customer_id: int):
    user = api_user()
    require_staff(user)
    customer = _customer_or_404(customer_id)
    given = parse_body(CustomerChange, json_object())
    changes = {name: getattr(given, name) for name in given.model_fields_set}
    for name in NOT_NULL:
        if name in changes and changes[name] is None:
            raise InvalidInput({name: str(_l("This field cannot be empty."))})
    try:
        update_profile(customer, user, changes)
    except ValidationError as exc:  # a value of the right type the record refuses: 422 too
        raise InvalidInput({exc.field or "body": str(exc)}) from None
    body = customer_record_json(customer)
    commit()
    return jsonify(body)
