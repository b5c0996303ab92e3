"""Admin: people (staff and customers): list with filters, create, edit, deactivate, reactivate."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.models import ROLE_LABELS, STAFF_ROLES, Department, User
from ..accounts.queries import user_page
from ..accounts.services import (
    create_user,
    link_customer_record,
    request_password_reset,
    set_user_active,
    update_user,
)
from ..core.forms import show_domain_error
from ..core.text import id_number
from ..core.unit import attempt
from ..extensions import db
from .blueprint import bp, load_or_404
from .forms import UserCreateForm, UserEditForm, UserFilterForm

PAGE_SIZE = 50


def _department_choices(form, current: list[Department] = ()) -> None:
    active = list(
        db.session.scalars(
            sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
        )
    )
    form.departments.choices = [
        (d.id, d.name) for d in active + [d for d in current if d not in active]
    ]


def _departments(form) -> list[Department]:
    """The chosen departments; customers belong to none."""
    if form.role.data not in STAFF_ROLES or not form.departments.data:
        return []
    return list(
        db.session.scalars(sa.select(Department).where(Department.id.in_(form.departments.data)))
    )


@bp.get("/users")
def users():
    form = UserFilterForm(request.args)
    if not form.validate():
        abort(400)
    q = (form.q.data or "").strip()
    after = request.args.get("after", "")
    if after and id_number(after) is None:  # an id: 1..MAX_ID (12 digits overflowed PostgreSQL)
        abort(400)
    rows = user_page(
        role=form.role.data or None,
        search=q,
        after_id=id_number(after) if after else None,
        size=PAGE_SIZE + 1,
    )
    next_url = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        next_url = url_for(
            "admin.users", role=form.role.data or None, q=q or None, after=rows[-1].id
        )
    return render_template(
        "admin/users.html",
        users=rows,
        form=form,
        next_url=next_url,
        role_labels=ROLE_LABELS,
        paged=bool(after),
    )


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserCreateForm()
    if request.method == "GET":
        form.role.data = (
            request.args.get("role") if request.args.get("role") in ROLE_LABELS else "agent"
        )
    _department_choices(form)
    if form.validate_on_submit():
        with attempt() as done:
            user = create_user(
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data or None,
                departments=_departments(form),
                locale=form.locale.data or None,
            )
            if user.role == "customer":
                link_customer_record(user)
            if form.send_link.data:
                request_password_reset(user.email)
        if done.error:
            show_domain_error(form, done.error)
        else:
            if form.send_link.data:
                flash(
                    _("%(email)s was created and a password link was emailed.", email=user.email),
                    "success",
                )
            else:
                flash(_("%(email)s was created.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = load_or_404(User, user_id)
    form = UserEditForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.departments.data = [d.id for d in user.departments]
        form.locale.data = user.locale or ""
    _department_choices(form, user.departments)
    if form.validate_on_submit():
        if user.id == current_user.id and form.role.data != "admin":
            form.role.errors.append(_l("You cannot remove your own administrator role."))
        else:
            with attempt() as done:
                update_user(
                    user,
                    name=form.name.data,
                    role=form.role.data,
                    departments=_departments(form),
                    locale=form.locale.data or "",
                )
            if done.error:
                show_domain_error(form, done.error)
                user = load_or_404(User, user_id)
            else:
                flash(_("%(email)s was saved.", email=user.email), "success")
                return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, role_labels=ROLE_LABELS)


@bp.post("/users/<int:user_id>/deactivate")
def user_deactivate(user_id: int):
    user = load_or_404(User, user_id)
    if user.id == current_user.id:
        flash(_("You cannot deactivate your own account."), "error")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    set_user_active(user, False)
    flash(_("%(email)s was deactivated and signed out everywhere.", email=user.email), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/reactivate")
def user_reactivate(user_id: int):
    user = load_or_404(User, user_id)
    set_user_active(user, True)
    flash(_("%(email)s can sign in again.", email=user.email), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))
