"""Departments, categories (read: staff; create: admin) and routing rules (admin only)."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from flask import jsonify, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..accounts.models import Department
from ..accounts.services import create_department
from ..core.errors import DomainError, NotFound
from ..core.unit import commit
from ..extensions import db
from ..routing.models import RoutingRule
from ..routing.services import create_rule, update_rule
from ..tickets.categories import create_category
from ..tickets.models import KINDS, PRIORITY_VALUES, Category
from .auth import api_user, require_admin, require_staff
from .blueprint import bp
from .documented import LOCATION, documented, ok, path_parameter
from .lookups import category_by_ref, department_by_ref, user_by_ref
from .parsing import json_object
from .schemas.admin import Category as CategorySchema
from .schemas.admin import (
    CategoryInput,
    CategoryList,
    DepartmentInput,
    DepartmentList,
    RoutingRuleInput,
    RoutingRuleList,
)
from .schemas.admin import Department as DepartmentSchema
from .schemas.admin import RoutingRule as RoutingRuleSchema
from .serializers import category_json, department_json, rule_json
from .validation import parse_body

# departments ---------------------------------------------------------------------------------


@bp.get("/departments")
@documented(
    "listDepartments",
    "administration",
    _l("List departments"),
    description=_l("Staff tokens."),
    responses={200: ok(DepartmentList)},
    errors=(401, 403),
)
def list_departments():
    require_staff(api_user())
    depts = db.session.scalars(sa.select(Department).order_by(Department.name))
    return jsonify({"items": [department_json(d) for d in depts]})


@bp.post("/departments")
@documented(
    "createDepartment",
    "administration",
    _l("Create a department"),
    description=_l("Admin tokens."),
    body=DepartmentInput,
    example={"name": "Financeiro"},
    responses={201: ok(DepartmentSchema)},
    errors=(400, 401, 403, 409, 415, 422),
)
def create_department_view():
    require_admin(api_user())
    given = parse_body(DepartmentInput, json_object())
    dept = create_department(
        name=given.name or "",
        description=given.description or "",
        is_default=bool(given.is_default),
        is_ombudsman=bool(given.is_ombudsman),
    )
    commit()
    return jsonify(department_json(dept)), 201


# categories ----------------------------------------------------------------------------------


@bp.get("/categories")
@documented(
    "listCategories",
    "administration",
    _l("List categories"),
    description=_l("Staff tokens."),
    responses={200: ok(CategoryList)},
    errors=(401, 403),
)
def list_categories():
    require_staff(api_user())
    categories = db.session.scalars(sa.select(Category).order_by(Category.position, Category.name))
    return jsonify({"items": [category_json(c) for c in categories]})


@bp.post("/categories")
@documented(
    "createCategory",
    "administration",
    _l("Create a category"),
    description=_l("Admin tokens."),
    body=CategoryInput,
    example={"name": "Billing", "name_pt_br": "Cobrança", "name_es": "Facturación"},
    responses={201: ok(CategorySchema)},
    errors=(400, 401, 403, 409, 415, 422),
)
def create_category_view():
    require_admin(api_user())
    given = parse_body(CategoryInput, json_object())
    category = create_category(
        name=given.name or "",
        name_pt_br=given.name_pt_br or "",
        name_es=given.name_es or "",
        kinds=given.kinds if "kinds" in given.model_fields_set else list(KINDS),
        active=given.active if given.active is not None else True,
        position=given.position or 0,
    )
    commit()
    return jsonify(category_json(category)), 201


# routing rules -------------------------------------------------------------------------------

RULE_ID = path_parameter("rule_id", schema={"type": "integer"})


@bp.get("/routing-rules")
@documented(
    "listRoutingRules",
    "administration",
    _l("List routing rules"),
    description=_l("Admin tokens. In the order they are tried."),
    responses={200: ok(RoutingRuleList)},
    errors=(401, 403),
)
def list_rules():
    require_admin(api_user())
    rules = db.session.scalars(
        sa.select(RoutingRule)
        .order_by(RoutingRule.position, RoutingRule.id)
        .options(joinedload(RoutingRule.department), joinedload(RoutingRule.agent))
    )
    return jsonify({"items": [rule_json(r) for r in rules]})


@bp.post("/routing-rules")
@documented(
    "createRoutingRule",
    "administration",
    _l("Create a routing rule"),
    description=_l("Admin tokens."),
    body=RoutingRuleInput,
    example={
        "name": "Cobrança",
        "keywords": ["fatura", "cobrança"],
        "department": "Financeiro",
        "priority": "high",
    },
    responses={201: ok(RoutingRuleSchema, headers=LOCATION)},
    errors=(400, 401, 403, 415, 422),
)
def create_rule_view():
    require_admin(api_user())
    data = _rule_values(json_object(), {})
    with _public_field_names():
        rule = create_rule(**data)
    commit()
    response = jsonify(rule_json(rule))
    response.status_code = 201
    response.headers["Location"] = url_for("api.update_rule_view", rule_id=rule.id)
    return response


@bp.patch("/routing-rules/<int:rule_id>")
@documented(
    "updateRoutingRule",
    "administration",
    _l("Change a routing rule"),
    description=_l("Admin tokens. Fields left out keep their value."),
    parameters=(RULE_ID,),
    body=RoutingRuleInput,
    example={"active": False},
    responses={200: ok(RoutingRuleSchema)},
    errors=(400, 401, 403, 404, 415, 422),
)
def update_rule_view(rule_id: int):
    require_admin(api_user())
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound()
    current = {
        "name": rule.name,
        "active": rule.active,
        "kind": rule.kind,
        "category_id": rule.category_id,
        "channel": rule.channel,
        "keywords": rule.keywords,
        "segment": rule.segment,
        "key_account": rule.key_account,
        "relationship_type": rule.relationship_type,
        "lifecycle_stage": rule.lifecycle_stage,
        "value_tier": rule.value_tier,
        "department_id": rule.department_id,
        "priority": rule.priority,
        "agent_id": rule.agent_id,
    }
    data = _rule_values(json_object(), current)
    with _public_field_names():
        update_rule(rule, **data)
    commit()
    return jsonify(rule_json(rule))


@contextmanager
def _public_field_names():
    """The routing service names fields by column (department_id); the API by public name."""
    try:
        yield
    except DomainError as exc:
        if exc.field in ("department_id", "agent_id", "category_id"):
            exc.field = exc.field.removesuffix("_id")
        raise


def _rule_values(body: dict, current: dict) -> dict:
    """Body fields (by public name) over the current values, checked for type and existence."""
    given = parse_body(RoutingRuleInput, body)
    sent = given.model_fields_set
    data = dict(current)
    if "name" in sent:
        data["name"] = given.name or ""
    if "active" in sent:
        data["active"] = given.active if given.active is not None else True
    for name in (
        "kind",
        "channel",
        "segment",
        "relationship_type",
        "lifecycle_stage",
        "value_tier",
    ):
        if name in sent:
            data[name] = getattr(given, name) or None
    if "keywords" in sent:
        keywords = given.keywords or ""
        data["keywords"] = keywords if isinstance(keywords, str) else ",".join(keywords)
    if "key_account" in sent:
        data["key_account"] = given.key_account
    if "priority" in sent:
        data["priority"] = PRIORITY_VALUES.get(given.priority) if given.priority else None
    if "position" in sent:
        data["position"] = given.position
    if "category" in sent:
        ref = given.category
        data["category_id"] = category_by_ref(ref).id if ref is not None else None
    if "department" in sent:
        ref = given.department
        data["department_id"] = department_by_ref(ref).id if ref is not None else None
    if "agent" in sent:
        ref = given.agent
        data["agent_id"] = user_by_ref(ref, "agent").id if ref is not None else None
    return data
