"""The editable fields of an investigation: one cleaner per field, and applying a set of values
with one history event per changed field (long texts are recorded without their values).
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from ..accounts.models import Department, User
from ..core.errors import ValidationError
from ..core.text import MAX_ID, clean_text, id_number
from ..extensions import db
from ..tickets.models import Category
from .history import record
from .models import (
    ISHIKAWA,
    LEVELS,
    VERDICTS,
    Investigation,
    IshikawaSubcategory,
)

MAX_TITLE = 200
MAX_TEXT = 20000


def text_value(value, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    return clean_text(value, field, required=required, limit=limit)


def _number(value, field: str):
    if value in (None, ""):
        return None
    # INTEGER columns: PostgreSQL refuses more than 2**31 - 1
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise ValidationError(_l("Give a whole number, zero or more."), field=field)
    return value


def _level(value, field: str) -> int:
    if value not in LEVELS:
        raise ValidationError(_l("Choose low, medium or high."), field=field)
    return value


def date_value(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(_l("Give a date as YYYY-MM-DD."), field=field) from None


def staff_user(value, field: str) -> User | None:
    if value in (None, ""):
        return None
    user = value if isinstance(value, User) else db.session.get(User, id_number(value) or 0)
    if user is None or not user.active or not user.is_staff:
        raise ValidationError(_l("Choose an active member of staff."), field=field)
    return user


def _owner(value) -> User | None:
    user = staff_user(value, "owner")
    if user is not None and not user.is_supervisor:
        raise ValidationError(
            _l("Investigations are owned by a supervisor or an administrator."), field="owner"
        )
    return user


def _department(value) -> Department | None:
    if value in (None, ""):
        return None
    dept = (
        value
        if isinstance(value, Department)
        else db.session.get(Department, id_number(value) or 0)
    )
    if dept is None or not dept.active:
        raise ValidationError(_l("Choose an active department."), field="department")
    return dept


def _category(value) -> Category | None:
    if value in (None, ""):
        return None
    cat = value if isinstance(value, Category) else db.session.get(Category, id_number(value) or 0)
    if cat is None:
        raise ValidationError(_l("Unknown category."), field="category")
    return cat


def _ishikawa(value) -> str | None:
    if value in (None, ""):
        return None
    if value not in ISHIKAWA:
        raise ValidationError(_l("Choose one of the six Ishikawa categories."), field="ishikawa")
    return value


def _subcategory(value, ishikawa: str | None) -> IshikawaSubcategory | None:
    if value in (None, ""):
        return None
    sub = (
        value
        if isinstance(value, IshikawaSubcategory)
        else db.session.get(IshikawaSubcategory, id_number(value) or 0)
    )
    if sub is None or not sub.active:
        raise ValidationError(_l("Unknown sub-category."), field="subcategory")
    if sub.category != ishikawa:
        raise ValidationError(
            _l("This sub-category belongs to another Ishikawa category."), field="subcategory"
        )
    return sub


def _keywords(value) -> str:
    if isinstance(value, list | tuple):
        value = ",".join(value)
    words = [w.strip() for w in (value or "").replace(";", ",").split(",")]
    words = [w for w in dict.fromkeys(words) if w]
    text = ", ".join(words)
    if len(text) > 500:
        raise ValidationError(
            _l("This text is too long (at most %(n)s characters)."), field="keywords", n=500
        )
    return text


def _verdict(value) -> str | None:
    if value in (None, ""):
        return None
    if value not in VERDICTS:
        raise ValidationError(_l("Choose effective or not effective."), field="verdict")
    return value


# field name -> cleaner(value, values) ; long texts are recorded without their values
FIELDS = {
    "title": lambda v, _: text_value(v, "title", required=True, limit=MAX_TITLE),
    "statement": lambda v, _: text_value(v, "statement"),
    "location": lambda v, _: text_value(v, "location", limit=200),
    "since": lambda v, _: date_value(v, "since"),
    "customers_affected": lambda v, _: _number(v, "customers_affected"),
    "estimated_cost": lambda v, _: _number(v, "estimated_cost"),
    "impact": lambda v, _: _level(v, "impact"),
    "urgency": lambda v, _: _level(v, "urgency"),
    "owner": lambda v, _: _owner(v),
    "department": lambda v, _: _department(v),
    "category": lambda v, _: _category(v),
    "keywords": lambda v, _: _keywords(v),
    "containment": lambda v, _: text_value(v, "containment"),
    "ishikawa": lambda v, _: _ishikawa(v),
    "subcategory": lambda v, values: _subcategory(v, values.get("ishikawa")),
    "root_cause": lambda v, _: text_value(v, "root_cause"),
    "evidence": lambda v, _: text_value(v, "evidence"),
    "metric": lambda v, _: text_value(v, "metric", limit=300),
    "baseline": lambda v, _: text_value(v, "baseline", limit=100),
    "target": lambda v, _: text_value(v, "target", limit=100),
    "check_on": lambda v, _: date_value(v, "check_on"),
    "result": lambda v, _: text_value(v, "result"),
    "verdict": lambda v, _: _verdict(v),
    "notice_pt_br": lambda v, _: text_value(v, "notice_pt_br", limit=5000),
    "notice_es": lambda v, _: text_value(v, "notice_es", limit=5000),
    "notice_en": lambda v, _: text_value(v, "notice_en", limit=5000),
}
RELATIONS = {"owner", "department", "category", "subcategory"}
LONG_TEXTS = {
    "statement",
    "containment",
    "root_cause",
    "evidence",
    "result",
    "notice_pt_br",
    "notice_es",
    "notice_en",
}


def shown(name: str, value):
    if value is None:
        return None
    if name in RELATIONS:
        return getattr(value, "name", value)
    return value


def apply_values(inv: Investigation, by, values: dict, *, created: bool = False) -> None:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationError(_l("Unknown field."), field=sorted(unknown)[0])
    merged = {"ishikawa": inv.ishikawa, **values}
    cleaned = {name: FIELDS[name](value, merged) for name, value in values.items()}
    sub = inv.subcategory
    if "ishikawa" in cleaned and "subcategory" not in cleaned and sub is not None:
        cleaned["subcategory"] = sub if sub.category == cleaned["ishikawa"] else None
    for name, value in cleaned.items():
        old = getattr(inv, name)
        if name in RELATIONS:
            if (old.id if old else None) == (value.id if value else None):
                continue
            setattr(inv, f"{name}_id", value.id if value else None)
        elif old == value:
            continue
        setattr(inv, name, value)
        if not created:
            long = name in LONG_TEXTS
            record(
                inv,
                by,
                "updated",
                field=name,
                old=None if long else shown(name, old),
                new=None if long else shown(name, value),
            )
