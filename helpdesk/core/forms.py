"""Form helpers shared by every surface."""

from __future__ import annotations

from wtforms import Form

from .errors import DomainError


def show_domain_error(form: Form, exc: DomainError) -> None:
    """Put a service's error next to the field it names, or above the form when it names none."""
    name = getattr(exc, "field", None)
    if name and name in form._fields:
        form[name].errors = [*form[name].errors, str(exc)]
    else:
        form.form_errors.append(str(exc))
