"""Departments, categories (read: staff; create: admin) and routing rules (admin only)."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from flask import jsonify, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ..accounts.models import Department
from ..accounts.services import create_department
from ..core.errors import DomainError, NotFound
from ..core.unit import commit
from ..customers.models import SEGMENTS
from ..extensions import db
from ..routing.models import RoutingRule
from ..routing.services import create_rule, update_rule
from ..tickets.categories import create_category
from ..tickets.models import KINDS, PRIORITY_VALUES, Category
from .auth import api_user, require_admin, require_staff
from .blueprint import bp
from .lookups import category_by_ref, department_by_ref, user_by_ref
from .parsing import Fields, json_object
from .serializers import category_json, department_json, rule_json

# departments ---------------------------------------------------------------------------------


@bp.get("/departments")
def list_departments():
    require_staff(api_user())
    depts = db.session.scalars(sa.select(Department).order_by(Department.name))
    return jsonify({"items": [department_json(d) for d in depts]})


@bp.post("/departments")
def create_department_view():
    require_admin(api_user())
    f = Fields(json_object())
    values = {
        "name": f.text("name", ""),
        "description": f.text("description", ""),
        "is_default": f.boolean("is_default", False),
        "is_ombudsman": f.boolean("is_ombudsman", False),
    }
    f.check()
    dept = create_department(**values)
    commit()
    return jsonify(department_json(dept)), 201


# categories ----------------------------------------------------------------------------------


@bp.get("/categories")
def list_categories():
    require_staff(api_user())
    categories = db.session.scalars(sa.select(Category).order_by(Category.position, Category.name))
    return jsonify({"items": [category_json(c) for c in categories]})


@bp.post("/categories")
def create_category_view():
    require_admin(api_user())
    f = Fields(json_object())
    values = {
        "name": f.text("name", ""),
        "name_pt_br": f.text("name_pt_br", ""),
        "name_es": f.text("name_es", ""),
        "kinds": f.string_list("kinds") if f.has("kinds") else list(KINDS),
        "active": f.boolean("active", True),
        "position": f.integer("position") or 0,
    }
    f.check()
    category = create_category(**values)
    commit()
    return jsonify(category_json(category)), 201


# routing rules -------------------------------------------------------------------------------

RULE_FIELDS = (
    "name",
    "active",
    "kind",
    "category",
    "channel",
    "keywords",
    "segment",
    "key_account",
    "department",
    "priority",
    "agent",
    "position",
)


@bp.get("/routing-rules")
def list_rules():
    require_admin(api_user())
    rules = db.session.scalars(
        sa.select(RoutingRule)
        .order_by(RoutingRule.position, RoutingRule.id)
        .options(joinedload(RoutingRule.department), joinedload(RoutingRule.agent))
    )
    return jsonify({"items": [rule_json(r) for r in rules]})


@bp.post("/routing-rules")
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
    f = Fields(body)
    data = dict(current)
    if f.has("name"):
        data["name"] = f.text("name", "")
    if f.has("active"):
        data["active"] = f.boolean("active", True)
    for name in ("kind", "channel", "segment"):
        if f.has(name):
            data[name] = f.text(name) or None
    if f.has("keywords"):
        value = body.get("keywords")
        if isinstance(value, list):
            words = f.string_list("keywords")
            data["keywords"] = ",".join(words or [])
        else:
            data["keywords"] = f.text("keywords", "")
    if f.has("key_account"):
        data["key_account"] = f.boolean("key_account")
    if f.has("priority"):
        priority = f.text("priority")
        if priority is not None and priority not in PRIORITY_VALUES:
            f.errors["priority"] = _(
                "Unknown priority. Use one of: %(values)s.", values=", ".join(PRIORITY_VALUES)
            )
        data["priority"] = PRIORITY_VALUES.get(priority) if priority else None
    if f.has("position"):
        data["position"] = f.integer("position")
    refs = {name: f.ref(name) for name in ("category", "department", "agent") if f.has(name)}
    if data.get("segment") and data["segment"] not in SEGMENTS:
        f.errors["segment"] = _(
            "Unknown segment. Use one of: %(values)s.", values=", ".join(SEGMENTS)
        )
    f.check()
    if "category" in refs:
        ref = refs["category"]
        data["category_id"] = category_by_ref(ref).id if ref is not None else None
    if "department" in refs:
        ref = refs["department"]
        data["department_id"] = department_by_ref(ref).id if ref is not None else None
    if "agent" in refs:
        ref = refs["agent"]
        data["agent_id"] = user_by_ref(ref, "agent").id if ref is not None else None
    return data
