"""Category administration: create and update the categories customers and agents pick from."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..core.errors import Conflict, ValidationError
from ..extensions import db
from .models import KINDS, Category

log = logging.getLogger(__name__)

NAME_LIMIT = 120


def _name(value: str | None, field: str, *, required: bool) -> str:
    name = " ".join((value or "").split())
    if required and not name:
        raise ValidationError(_l("Please give a name."), field=field)
    if len(name) > NAME_LIMIT:
        raise ValidationError(
            _l("Please use at most %(limit)s characters."), field=field, limit=NAME_LIMIT
        )
    return name


def _validate(
    category: Category | None,
    *,
    name: str,
    name_pt_br: str,
    name_es: str,
    kinds,
    position,
) -> dict:
    values = {
        "name": _name(name, "name", required=True),
        "name_pt_br": _name(name_pt_br, "name_pt_br", required=False),
        "name_es": _name(name_es, "name_es", required=False),
    }
    chosen = list(dict.fromkeys(kinds or []))
    if not chosen or any(k not in KINDS for k in chosen):
        raise ValidationError(
            _l("Choose at least one kind of demand for this category."), field="kinds"
        )
    values["kinds"] = [k for k in KINDS if k in chosen]  # canonical order
    try:
        values["position"] = int(position or 0)
    except (TypeError, ValueError):
        raise ValidationError(
            _l("The position must be a whole number."), field="position"
        ) from None
    if not -100000 <= values["position"] <= 100000:
        raise ValidationError(_l("The position must be a whole number."), field="position")
    stmt = sa.select(Category.id).where(sa.func.lower(Category.name) == values["name"].lower())
    if category is not None:
        stmt = stmt.where(Category.id != category.id)
    if db.session.scalar(stmt):
        raise Conflict(_l("A category with this name already exists."), field="name")
    return values


def create_category(
    *,
    name: str,
    name_pt_br: str = "",
    name_es: str = "",
    kinds=KINDS,
    active: bool = True,
    position: int = 0,
) -> Category:
    values = _validate(
        None, name=name, name_pt_br=name_pt_br, name_es=name_es, kinds=kinds, position=position
    )
    category = Category(active=bool(active), **values)
    db.session.add(category)
    db.session.flush()
    log.info("category %s created", category.id)
    return category


def update_category(
    category: Category,
    *,
    name: str,
    name_pt_br: str = "",
    name_es: str = "",
    kinds=KINDS,
    active: bool = True,
    position: int = 0,
) -> Category:
    values = _validate(
        category,
        name=name,
        name_pt_br=name_pt_br,
        name_es=name_es,
        kinds=kinds,
        position=position,
    )
    for key, value in values.items():
        setattr(category, key, value)
    category.active = bool(active)
    db.session.flush()
    return category
