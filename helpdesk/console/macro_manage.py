"""Console → Macros: the list of the macros the signed-in person may manage (admins: all;
supervisors: their departments' and their own; agents: their own), sorted by use or name and
filtered by scope and department; the form (three reply texts with a preview of the placeholders
against a demand, and the actions); activate / deactivate; delete after a confirmation page.

Every rule (which placeholders, which scope, a transfer's reason, who manages what) is the
macro services' (`macros/services.py`, `macros/permissions.py`); their errors are shown on the
field they name."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.models import Department, User
from ..core.errors import DomainError, ValidationError
from ..core.forms import show_domain_error
from ..core.permissions import is_admin, is_supervisor
from ..core.unit import attempt
from ..extensions import db
from ..macros import services as macros
from ..macros.models import SCOPE_LABELS, SCOPES, Macro
from ..macros.permissions import can_create_scope
from ..tickets.models import PRIORITIES, PRIORITY_LABELS, STATUS_LABELS
from ..tickets.permissions import can_work_ticket
from ..tickets.services import get_ticket_by_protocol
from .blueprint import arg_choice, arg_int_choice, bp, visible_departments
from .forms import opts
from .investigation_forms import ConfirmForm
from .macro_forms import SERVICE_FIELDS, MacroForm

log = logging.getLogger(__name__)

LANGUAGE_LABELS = {"pt_BR": "Português", "es": "Español", "en": "English"}
SORTS = {"use": "use", "name": "name"}


def _scopes(user) -> list[str]:
    """The scopes this person may create macros in."""
    if is_admin(user):
        return list(SCOPES)
    if is_supervisor(user) and user.department_ids:
        return ["department", "personal"]
    return ["personal"]


def _staff(user) -> list[User]:
    stmt = (
        sa.select(User)
        .where(User.active.is_(True), User.role.in_(("agent", "supervisor", "admin")))
        .order_by(User.name)
    )
    if not is_admin(user):  # the people of their departments (and themself)
        members = (
            sa.select(User.id)
            .join(User.departments)
            .where(Department.id.in_(user.department_ids or [-1]))
        )
        stmt = stmt.where(sa.or_(User.id.in_(members), User.id == user.id))
    return list(db.session.scalars(stmt))


def _fill(form: MacroForm) -> MacroForm:
    user = current_user
    keep = ("", _("— keep —"))
    form.scope.choices = opts((s, SCOPE_LABELS[s]) for s in _scopes(user))
    own = [d for d in visible_departments(user) if can_create_scope(user, "department", d.id)]
    form.department.choices = opts([("", "—")] + [(str(d.id), d.name) for d in own])
    form.status.choices = opts([keep, *STATUS_LABELS.items()])
    form.priority.choices = opts(
        [keep] + [(PRIORITIES[n], label) for n, label in PRIORITY_LABELS.items()]
    )
    form.assignee_id.choices = opts([keep] + [(str(u.id), u.name) for u in _staff(user)])
    active = db.session.scalars(
        sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
    )
    form.department_id.choices = opts([keep] + [(str(d.id), d.name) for d in active])
    return form


def _values(form: MacroForm) -> macros.MacroValues:
    department = form.department.data
    return macros.MacroValues(
        name=form.name.data or "",
        scope=form.scope.data or "personal",
        department_id=int(department) if department and department.isdigit() else None,
        body_pt_br=form.body_pt_br.data or "",
        body_es=form.body_es.data or "",
        body_en=form.body_en.data or "",
        actions=form.actions(),
        active=bool(form.active.data),
    )


def _show_error(form: MacroForm, error: DomainError) -> None:
    name = getattr(error, "field", None)
    error.field = SERVICE_FIELDS.get(name, name)
    if error.field == "actions":
        error.field = None
    show_domain_error(form, error)


def _preview_ticket(raw: str):
    """The demand to preview against (the protocol typed), if the person may work it."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        ticket = get_ticket_by_protocol(raw)
    except DomainError:
        ticket = None
    if ticket is None or not can_work_ticket(current_user, ticket):
        raise ValidationError(_("No demand of yours has this protocol."), field="protocol")
    return ticket


def _previews(form: MacroForm) -> tuple[list[dict], DomainError | None]:
    """Each non-empty reply text filled (for the demand asked for, else with example values)."""
    try:
        ticket = _preview_ticket(form.protocol.data)
        result = []
        for lang, attr in macros.BODY_FIELDS.items():
            text = getattr(form, attr).data or ""
            if text.strip():
                try:
                    filled = macros.preview_text(text, current_user, ticket, lang)
                except ValidationError as exc:
                    exc.field = attr
                    raise
                result.append({"lang": lang, "label": LANGUAGE_LABELS[lang], "text": filled})
        return result, None
    except ValidationError as exc:
        return [], exc


def _page(form: MacroForm, macro: Macro | None, previews=None, status: int = 200):
    return (
        render_template(
            "console/macro_form.html",
            form=form,
            macro=macro,
            previews=previews,
            placeholders=macros.PLACEHOLDER_NAMES,
            sample_ticket=macros.SAMPLE_VALUES["ticket"]["protocol"],
        ),
        status,
    )


@bp.get("/macros")
def macro_list():
    user = current_user
    sort = arg_choice("sort", SORTS) or "use"
    scope = arg_choice("scope", SCOPES)
    departments = visible_departments(user)
    department = arg_int_choice("department", {d.id for d in departments})
    rows = macros.manageable_macros(user, sort=sort, scope=scope, department_id=department)
    return render_template(
        "console/macros.html",
        macros=rows,
        sort=sort,
        scopes={s: SCOPE_LABELS[s] for s in SCOPES},
        departments=departments,
        selected={"scope": scope or "", "department": department or "", "sort": sort},
        action_form=ConfirmForm(),
        filtered=bool(scope or department),
    )


@bp.route("/macros/new", methods=["GET", "POST"])
def macro_new():
    form = _fill(MacroForm())
    if request.method == "GET":
        form.scope.data = "personal"
        form.active.data = True
    elif form.validate_on_submit():
        if request.form.get("op") == "preview":
            previews, error = _previews(form)
            if error:
                _show_error(form, error)
            return _page(form, None, previews)
        with attempt() as done:
            macro = macros.create_macro(current_user, _values(form))
        if not done.error:
            flash(_("Macro “%(name)s” created.", name=macro.name), "success")
            return redirect(url_for("console.macro_list"))
        _show_error(form, done.error)
        return _page(form, None, status=400)
    elif request.method == "POST":
        return _page(form, None, status=400)
    return _page(form, None)


def _managed(macro_id: int) -> Macro:
    with attempt() as done:
        macro = macros.get_managed_macro(macro_id, current_user)
    if done.error:
        abort(404)
    return macro


@bp.route("/macros/<int:macro_id>", methods=["GET", "POST"])
def macro_edit(macro_id: int):
    macro = _managed(macro_id)
    form = _fill(MacroForm())
    if request.method == "GET":
        form.load(macro)
    elif form.validate_on_submit():
        if request.form.get("op") == "preview":
            previews, error = _previews(form)
            if error:
                _show_error(form, error)
            return _page(form, macro, previews)
        with attempt() as done:
            macros.update_macro(macro, current_user, _values(form))
        if not done.error:
            flash(_("Macro “%(name)s” saved.", name=form.name.data), "success")
            return redirect(url_for("console.macro_list"))
        _show_error(form, done.error)
        return _page(form, _managed(macro_id), status=400)
    else:
        return _page(form, macro, status=400)
    return _page(form, macro)


@bp.post("/macros/preview")
def macro_preview_text():
    """The live preview of the form (JSON for the script): the filled texts, or the error."""
    form = _fill(MacroForm())
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    previews, error = _previews(form)
    if error:
        name = getattr(error, "field", None)
        return jsonify({"previews": [], "error": {"field": name, "message": str(error)}})
    return jsonify({"previews": previews, "error": None})


@bp.post("/macros/<int:macro_id>/active")
def macro_active(macro_id: int):
    macro = _managed(macro_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    with attempt() as done:
        macros.set_macro_active(macro, current_user, active)
    if done.error:
        flash(str(done.error), "error")
    elif active:
        flash(_("Macro “%(name)s” activated.", name=macro.name), "success")
    else:
        flash(
            _("Macro “%(name)s” deactivated: agents no longer see it.", name=macro.name),
            "success",
        )
    if request.form.get("back") == "edit":
        return redirect(url_for("console.macro_edit", macro_id=macro.id))
    return redirect(url_for("console.macro_list"))


@bp.route("/macros/<int:macro_id>/delete", methods=["GET", "POST"])
def macro_delete(macro_id: int):
    macro = _managed(macro_id)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        name = macro.name
        with attempt() as done:
            macros.delete_macro(macro, current_user)
        if done.error:
            flash(str(done.error), "error")
        else:
            flash(_("Macro “%(name)s” deleted.", name=name), "success")
        return redirect(url_for("console.macro_list"))
    return render_template("console/macro_delete.html", macro=macro, action_form=form)
