"""The admin surface: overview page; the sections' routes live in their own modules.

departments.py, users.py, categories.py, rules.py, calendars.py, policies.py and
escalation_rules.py add their routes to the same blueprint.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template

from ..accounts.models import Department, User
from ..escalations.models import EscalationRule
from ..extensions import db
from ..routing.models import RoutingRule
from ..sla.models import BusinessCalendar, SlaPolicy
from ..tickets.models import Category
from . import (  # noqa: F401 - their routes join bp
    audit_log,
    calendars,
    categories,
    departments,
    escalation_rules,
    ishikawa,
    mail,
    policies,
    rules,
    tags,
    users,
    webhooks,
)
from .blueprint import bp

__all__ = ["bp"]


@bp.get("/")
def index():
    def count(model, *where):
        return db.session.scalar(sa.select(sa.func.count(model.id)).where(*where))

    counts = {
        "departments": count(Department, Department.active.is_(True)),
        "users": count(User, User.active.is_(True)),
        "staff": count(User, User.active.is_(True), User.role != "customer"),
        "categories": count(Category, Category.active.is_(True)),
        "rules": count(RoutingRule, RoutingRule.active.is_(True)),
        "calendars": count(BusinessCalendar, BusinessCalendar.active.is_(True)),
        "policies": count(SlaPolicy, SlaPolicy.active.is_(True)),
        "escalation_rules": count(EscalationRule, EscalationRule.active.is_(True)),
    }
    return render_template("admin/index.html", counts=counts)
