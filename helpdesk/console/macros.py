"""The console's tags, macros and bulk changes: tag chips on a ticket, the workspace's macro
picker (preview as JSON for the script, or a server round-trip without it; apply and send in one
click) and the queue's bulk bar. Each POST checks its CSRF token, calls one service, commits once
(the unit) and flashes."""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..accounts.models import Department
from ..bulk.services import MAX_TICKETS, BulkChanges, bulk_update, matching_ticket_ids
from ..core.unit import attempt
from ..extensions import db
from ..macros.services import (
    apply_macro,
    get_usable_macro,
    macros_for,
    planned_actions,
    render_macro,
)
from ..tickets.models import PRIORITY_LABELS, PRIORITY_VALUES, STATUS_LABELS
from ..tickets.tags import add_tags, remove_tags
from .blueprint import back_to_ticket, bp, load_workable_ticket
from .investigation_forms import ConfirmForm

log = logging.getLogger(__name__)


def _csrf() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


# tags on one ticket ------------------------------------------------------------------------------


@bp.post("/tickets/<protocol>/tags")
def ticket_tags(protocol: str):
    ticket = load_workable_ticket(protocol)
    _csrf()
    remove = request.form.get("remove", "").strip()
    with attempt() as done:
        if remove:
            remove_tags(ticket, current_user, [remove])
        else:
            names = [n for n in request.form.get("tags", "").split(",") if n.strip()]
            if not names:
                from ..core.errors import ValidationError

                raise ValidationError(_("Give the tag a name."), field="tags")
            add_tags(ticket, current_user, names)
    if done.error:
        flash(str(done.error), "error")
    else:
        flash(_("Tag removed.") if remove else _("Tags saved."), "success")
    return back_to_ticket(ticket, "tags")


# macros in the workspace -------------------------------------------------------------------------


def describe_actions(macro) -> list[str]:
    """The macro's actions as sentences for the preview."""
    actions = planned_actions(macro)
    lines = []
    if actions.get("department"):
        lines.append(_("Transfer to %(name)s", name=actions["department"].name))
    if actions.get("assignee"):
        lines.append(_("Assign to %(name)s", name=actions["assignee"].name))
    if actions.get("priority"):
        lines.append(_("Priority: %(p)s", p=PRIORITY_LABELS[PRIORITY_VALUES[actions["priority"]]]))
    if actions.get("tags"):
        lines.append(_("Tags: %(tags)s", tags=", ".join(actions["tags"])))
    if actions.get("note"):
        lines.append(_("Internal note: %(note)s", note=actions["note"][:120]))
    if actions.get("status"):
        lines.append(_("Status: %(s)s", s=STATUS_LABELS[actions["status"]]))
    return lines


def macro_picker(ticket) -> dict:
    """What the workspace's picker shows: the macros, and the preview asked for (?macro=)."""
    if ticket.status == "closed":
        return {"macros": [], "macro_preview": None}
    macros = macros_for(current_user)
    preview = None
    chosen = request.args.get("macro", "").strip()
    if chosen:
        macro = next((m for m in macros if str(m.id) == chosen), None)
        if macro is None:
            abort(404)
        preview = {
            "macro": macro,
            "body": render_macro(macro, ticket, current_user),
            "actions": describe_actions(macro),
        }
    return {"macros": macros, "macro_preview": preview}


@bp.get("/tickets/<protocol>/macros/<int:macro_id>/preview")
def macro_preview(protocol: str, macro_id: int):
    ticket = load_workable_ticket(protocol)
    with attempt() as done:
        macro = get_usable_macro(macro_id, current_user)
    if done.error:
        abort(404)
    return jsonify(
        {
            "id": macro.id,
            "name": macro.name,
            "body": render_macro(macro, ticket, current_user),
            "actions": describe_actions(macro),
            "apply_url": url_for(
                "console.macro_apply", protocol=ticket.protocol, macro_id=macro.id
            ),
        }
    )


@bp.post("/tickets/<protocol>/macros/<int:macro_id>")
def macro_apply(protocol: str, macro_id: int):
    ticket = load_workable_ticket(protocol)
    _csrf()
    body = request.form.get("body")
    with attempt() as done:
        macro = get_usable_macro(macro_id, current_user)
        apply_macro(ticket, macro, current_user, body_override=body)
    if done.error:
        flash(str(done.error), "error")
        return back_to_ticket(ticket, "macro")
    flash(_("Macro “%(name)s” applied.", name=macro.name), "success")
    return back_to_ticket(ticket, "thread-end")


@bp.post("/tickets/<protocol>/macros")
def macro_apply_chosen(protocol: str):
    """The picker without script: the macro chosen in the select, applied as it is."""
    value = request.form.get("macro", "").strip()
    if not value.isdigit():
        abort(400)
    return macro_apply(protocol, int(value))


# bulk ----------------------------------------------------------------------------------------------


def _bulk_changes() -> BulkChanges:
    form = request.form
    changes = BulkChanges(
        status=form.get("status") or None,
        priority=form.get("priority") or None,
        reason=form.get("reason", ""),
        add_tags=[n for n in form.get("add_tags", "").split(",") if n.strip()],
        remove_tags=[n for n in form.get("remove_tags", "").split(",") if n.strip()],
        investigation=(form.get("number") or "").strip() or None,
    )
    if changes.status and changes.status not in STATUS_LABELS:
        abort(400)
    if changes.priority and changes.priority not in PRIORITY_VALUES:
        abort(400)
    assignee = form.get("assignee", "")
    if assignee == "me":
        changes.assignee = current_user
    elif assignee == "none":
        changes.unassign = True
    elif assignee:
        abort(400)
    department = form.get("department", "")
    if department:
        if not department.isdigit():
            abort(400)
        changes.department = db.session.get(Department, int(department))
        if changes.department is None:
            abort(400)
    macro = form.get("macro", "")
    if macro:
        if not macro.isdigit():
            abort(400)
        changes.macro_id = int(macro)
    return changes


def _selected_ids() -> list[int]:
    if request.form.get("all_matching"):
        if _from_search():
            from .search import search_matching_ids

            ids = search_matching_ids(MAX_TICKETS + 1)
        else:
            from .queue import queue_filter_from_args

            ids = matching_ticket_ids(queue_filter_from_args())
        if len(ids) > MAX_TICKETS:
            flash(
                _(
                    "At most %(n)s demands can be changed at once; narrow the selection.",
                    n=MAX_TICKETS,
                ),
                "error",
            )
            return []
        return ids
    raw = request.form.getlist("ticket")
    if any(not v.isdigit() for v in raw):
        abort(400)
    if len(raw) > MAX_TICKETS:
        abort(400)
    return [int(v) for v in raw]


def _from_search() -> bool:
    """The bulk bar of the search page (`source=search` beside the search's query string)."""
    return request.args.get("source") == "search"


@bp.post("/tickets/bulk")
def tickets_bulk():
    """The queue's and the search page's bulk bar; their filter (or search) comes in the query
    string (for "all matching"), and the answer goes back to the same list."""
    _csrf()
    args = {k: v for k, v in request.args.items() if v and k != "source"}
    if _from_search():
        back = url_for("console.search", **args, jump=0)
    else:
        back = url_for("console.queue", **args)
    ids = _selected_ids()
    if not ids:
        if not request.form.get("all_matching"):
            flash(_("Select at least one demand."), "error")
        return redirect(back)
    with attempt() as done:
        result = bulk_update(ids, _bulk_changes(), current_user)
    if done.error:
        flash(str(done.error), "error")
        return redirect(back)
    summary = ngettext("%(num)d changed", "%(num)d changed", len(result.changed))
    if result.unchanged:
        summary += ", " + ngettext(
            "%(num)d already so", "%(num)d already so", len(result.unchanged)
        )
    if result.refused:
        summary += ", " + ngettext("%(num)d refused", "%(num)d refused", len(result.refused))
        reasons = "; ".join(f"{r['protocol']}: {r['reason']}" for r in result.refused[:10])
        flash(f"{summary}: {reasons}", "error" if not result.changed else "success")
    else:
        flash(summary + ".", "success")
    return redirect(back)


@bp.get("/tags.css")
def tags_css():
    """Each tag's colour as a class (the CSP allows no inline style): `.tag-c<id>`."""
    from ..tickets.tags import all_tags

    lines = []
    for tag in all_tags():
        r, g, b = (int(tag.color[i : i + 2], 16) for i in (1, 3, 5))
        ink = "#111827" if (r * 299 + g * 587 + b * 114) / 1000 > 150 else "#ffffff"
        lines.append(f".tag-c{tag.id}{{background:{tag.color};color:{ink}}}")
    response = current_app.response_class("\n".join(lines), mimetype="text/css")
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
