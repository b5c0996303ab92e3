"""Ishikawa sub-categories (admin): create, switch on and off."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..core.clock import now
from ..core.errors import ValidationError
from ..extensions import db
from .fields import text_value
from .models import (
    ISHIKAWA,
    IshikawaSubcategory,
)

log = logging.getLogger(__name__)


def create_subcategory(category: str, name: str) -> IshikawaSubcategory:
    if category not in ISHIKAWA:
        raise ValidationError(_l("Choose one of the six Ishikawa categories."), field="category")
    name = text_value(name, "name", required=True, limit=120)
    exists = db.session.scalar(
        sa.select(IshikawaSubcategory.id).where(
            IshikawaSubcategory.category == category,
            sa.func.lower(IshikawaSubcategory.name) == name.lower(),
        )
    )
    if exists:
        raise ValidationError(_l("This sub-category already exists."), field="name")
    sub = IshikawaSubcategory(category=category, name=name, active=True, created_at=now())
    db.session.add(sub)
    db.session.flush()
    log.info("Ishikawa sub-category %s created (%s)", sub.id, category)
    return sub


def set_subcategory_active(sub: IshikawaSubcategory, active: bool) -> None:
    sub.active = active
    db.session.flush()
    log.info("Ishikawa sub-category %s %s", sub.id, "switched on" if active else "switched off")
