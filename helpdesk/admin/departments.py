"""Admin: departments (list, create, edit with members, default and ombudsman flags)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..accounts.models import STAFF_ROLES, Department, User, memberships
from ..accounts.services import create_department, update_department
from ..core.forms import show_domain_error
from ..core.unit import attempt
from ..extensions import db
from .blueprint import bp, load_or_404
from .forms import DepartmentForm


def _staff_choices(form: DepartmentForm, current: list[User] = ()) -> None:
    staff = list(
        db.session.scalars(
            sa.select(User)
            .where(User.role.in_(STAFF_ROLES), User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )
    extra = [u for u in current if u not in staff]
    form.members.choices = [(u.id, f"{u.name} <{u.email}>") for u in staff + extra]


def _members(ids: list[int]) -> list[User]:
    if not ids:
        return []
    return list(db.session.scalars(sa.select(User).where(User.id.in_(ids))))


@bp.get("/departments")
def departments():
    member_count = (
        sa.select(sa.func.count())
        .select_from(memberships)
        .where(memberships.c.department_id == Department.id)
        .correlate(Department)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Department, member_count.label("members")).order_by(Department.name)
    ).all()
    return render_template("admin/departments.html", rows=rows)


@bp.route("/departments/new", methods=["GET", "POST"])
def department_new():
    form = DepartmentForm()
    _staff_choices(form)
    if form.validate_on_submit():
        with attempt() as done:
            dept = create_department(
                name=form.name.data,
                description=form.description.data or "",
                is_default=form.is_default.data,
                is_ombudsman=form.is_ombudsman.data,
            )
            if form.members.data or not form.active.data:
                update_department(
                    dept,
                    name=dept.name,
                    description=dept.description,
                    is_default=dept.is_default,
                    is_ombudsman=dept.is_ombudsman,
                    active=form.active.data,
                    members=_members(form.members.data),
                )
        if done.error:
            show_domain_error(form, done.error)
        else:
            flash(_("Department “%(name)s” created.", name=dept.name), "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/department_form.html", form=form, department=None)


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
def department_edit(department_id: int):
    dept = load_or_404(Department, department_id)
    form = DepartmentForm(obj=dept if request.method == "GET" else None)
    _staff_choices(form, dept.members)
    if request.method == "GET":
        form.members.data = [u.id for u in dept.members]
    if form.validate_on_submit():
        with attempt() as done:
            update_department(
                dept,
                name=form.name.data,
                description=form.description.data or "",
                is_default=form.is_default.data,
                is_ombudsman=form.is_ombudsman.data,
                active=form.active.data,
                members=_members(form.members.data),
            )
        if done.error:
            show_domain_error(form, done.error)
            dept = load_or_404(Department, department_id)
        else:
            flash(_("Department “%(name)s” saved.", name=dept.name), "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/department_form.html", form=form, department=dept)
