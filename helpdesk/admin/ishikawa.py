"""Admin: sub-categories under the six fixed Ishikawa categories (the 6 M's) of investigations."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..console.forms import opts
from ..core.forms import show_domain_error
from ..core.unit import attempt
from ..investigations.ishikawa import create_subcategory, set_subcategory_active
from ..investigations.models import ISHIKAWA, ISHIKAWA_LABELS, IshikawaSubcategory
from ..investigations.queries import subcategories
from .blueprint import bp, load_or_404


class SubcategoryForm(FlaskForm):
    category = SelectField(_l("Ishikawa category"), choices=opts(ISHIKAWA_LABELS.items()))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])


class ToggleForm(FlaskForm):
    pass


@bp.route("/ishikawa", methods=["GET", "POST"])
def ishikawa():
    form = SubcategoryForm()
    if form.validate_on_submit():
        with attempt() as done:
            sub = create_subcategory(form.category.data, form.name.data)
        if done.error:
            show_domain_error(form, done.error)
        else:
            flash(_("Sub-category “%(name)s” added.", name=sub.name), "success")
            return redirect(url_for("admin.ishikawa"))
    rows = subcategories(active_only=False)
    grouped = {key: [s for s in rows if s.category == key] for key in ISHIKAWA}
    return render_template(
        "admin/ishikawa.html",
        form=form,
        grouped=grouped,
        labels=ISHIKAWA_LABELS,
        toggle_form=ToggleForm(),
    )


@bp.post("/ishikawa/<int:sub_id>/toggle")
def ishikawa_toggle(sub_id: int):
    sub = load_or_404(IshikawaSubcategory, sub_id)
    if ToggleForm().validate_on_submit():
        set_subcategory_active(sub, not sub.active)
        flash(_("Sub-category “%(name)s” saved.", name=sub.name), "success")
    return redirect(url_for("admin.ishikawa"))
