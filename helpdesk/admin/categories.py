"""Admin: categories of demand (names in three languages, kinds they apply to, order)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..core.forms import show_domain_error
from ..core.unit import attempt
from ..extensions import db
from ..tickets.categories import create_category, update_category
from ..tickets.models import Category
from .blueprint import bp, load_or_404
from .forms import CategoryForm


def _values(form: CategoryForm) -> dict:
    return {
        "name": form.name.data,
        "name_pt_br": form.name_pt_br.data or "",
        "name_es": form.name_es.data or "",
        "kinds": form.kinds.data,
        "active": form.active.data,
        "position": form.position.data or 0,
    }


@bp.get("/categories")
def categories():
    rows = db.session.scalars(
        sa.select(Category).order_by(Category.position, Category.name, Category.id)
    ).all()
    return render_template("admin/categories.html", categories=rows)


@bp.route("/categories/new", methods=["GET", "POST"])
def category_new():
    form = CategoryForm()
    if request.method == "GET":
        form.kinds.data = [value for value, _label in form.kinds.choices]
    if form.validate_on_submit():
        with attempt() as done:
            category = create_category(**_values(form))
        if done.error:
            show_domain_error(form, done.error)
        else:
            flash(_("Category “%(name)s” created.", name=category.name), "success")
            return redirect(url_for("admin.categories"))
    return render_template("admin/category_form.html", form=form, category=None)


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def category_edit(category_id: int):
    category = load_or_404(Category, category_id)
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if form.validate_on_submit():
        with attempt() as done:
            update_category(category, **_values(form))
        if done.error:
            show_domain_error(form, done.error)
            category = load_or_404(Category, category_id)
        else:
            flash(_("Category “%(name)s” saved.", name=category.name), "success")
            return redirect(url_for("admin.categories"))
    return render_template("admin/category_form.html", form=form, category=category)
