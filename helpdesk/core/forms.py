"""Form helpers shared by every surface."""

from __future__ import annotations

from flask_wtf.form import _FlaskFormCSRF
from wtforms import Form
from wtforms.csrf.core import CSRFTokenField

from .errors import DomainError


class CSRFTokenFieldWithoutId(CSRFTokenField):
    """The hidden CSRF input without an `id`: a page holds many small forms, and a repeated
    id="csrf_token" breaks the rule that ids are unique (nothing needs to point at it)."""

    def __call__(self, **kwargs):
        kwargs.setdefault("id", False)
        return super().__call__(**kwargs)


def install_csrf_field() -> None:
    """Every FlaskForm's CSRF token field renders without an id (WTForms' CSRF.field_class)."""
    _FlaskFormCSRF.field_class = CSRFTokenFieldWithoutId


def show_domain_error(form: Form, exc: DomainError) -> None:
    """Put a service's error next to the field it names, or above the form when it names none."""
    name = getattr(exc, "field", None)
    if name and name in form._fields:
        form[name].errors = [*form[name].errors, str(exc)]
    else:
        form.form_errors.append(str(exc))
