"""Customer look-up for staff: by phone, e-mail or CPF/CNPJ (what a caller gives on the phone)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..core.errors import ValidationError
from ..customers.models import Customer
from ..customers.services import find_customers
from ..extensions import db
from .auth import api_user, require_staff
from .blueprint import bp
from .documented import documented, ok, query
from .schemas.tickets import CustomerList
from .serializers import customer_json

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
