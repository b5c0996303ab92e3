"""Console pages of root-cause investigations: list, new (from a ticket or a queue selection),
detail with its sections and one small POST form per action, the overdue-actions board, reports
and the CSV export. Supervisors and admins manage; agents see, link tickets and propose (see
helpdesk/investigations/operations.py)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..accounts.models import Department, User
from ..core.errors import DomainError
from ..core.forms import show_domain_error
from ..core.text import id_number
from ..core.unit import attempt
from ..extensions import db
from ..investigations import (
    capa,
    dates,
    notices,
    operations,
    permissions,
    queries,
    reports,
    suggestions,
    whys,
)
from ..investigations.models import (
    ACTION_KIND_LABELS,
    ACTION_STATUS_LABELS,
    ISHIKAWA_LABELS,
    LEVEL_LABELS,
    NOTICE_LANGUAGE_LABELS,
    STATUS_LABELS,
    VERDICT_LABELS,
    CapaAction,
    Investigation,
)
from ..tickets.models import Category, Ticket
from ..tickets.permissions import can_view_ticket, can_work_ticket
from ..tickets.services import get_ticket_by_protocol
from .blueprint import back_to_ticket, bp, load_workable_ticket
from .forms import opts
from .investigation_forms import (
    ActionAcceptForm,
    ActionDoneForm,
    ActionForm,
    ConfirmForm,
    EffectivenessForm,
    InvestigationForm,
    LinkForm,
    NoticeForm,
    ReasonForm,
    ReportForm,
    StatusForm,
    TicketLinkForm,
    WhyForm,
)
from .investigation_text import describe

PAGE_SIZE = 30
MAX_BULK = 200
LIST_FILTERS = ("active", "all", *STATUS_LABELS)


@bp.context_processor
def investigation_labels():
    return {
        "investigation_status_labels": STATUS_LABELS,
        "ishikawa_labels": ISHIKAWA_LABELS,
        "action_status_labels": ACTION_STATUS_LABELS,
        "action_kind_labels": ACTION_KIND_LABELS,
        # not "level_labels": that name is the escalation levels' (supervision's processor)
        "impact_labels": LEVEL_LABELS,
        "verdict_labels": VERDICT_LABELS,
        "can_manage_investigations": permissions.can_manage(current_user),
    }


# helpers --------------------------------------------------------------------------------------


def load_investigation(number: str) -> Investigation:
    """Load by number or 404; every member of staff may see it (the blueprint checks staff)."""
    try:
        found = queries.get_by_number(number)
    except DomainError:
        abort(404)
    if not permissions.can_see(current_user):
        abort(403)
    return found


def require_manage() -> None:
    if not permissions.can_manage(current_user):
        abort(403)


def _detail(found: Investigation, anchor: str | None = None):
    return redirect(url_for("console.investigation", number=found.number, _anchor=anchor))


def _flash_errors(form) -> None:
    for field in form:
        for error in field.errors:
            flash(_("%(field)s: %(error)s", field=field.label.text, error=error), "error")


def _act(found: Investigation, form, action, success: str, anchor: str | None = None):
    """Validate, call one service, commit once, flash; a DomainError rolls back and is flashed."""
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        _flash_errors(form)
        return _detail(found, anchor)
    with attempt() as done:
        action()
    if done.error:
        flash(str(done.error), "error")
        return _detail(found, anchor)
    flash(success, "success")
    return _detail(found, anchor)


def staff_choices(*, supervisors_only: bool = False, blank: bool = True):
    stmt = sa.select(User).where(User.active.is_(True)).order_by(User.name)
    roles = ("supervisor", "admin") if supervisors_only else ("agent", "supervisor", "admin")
    stmt = stmt.where(User.role.in_(roles))
    pairs = [(u.id, u.name) for u in db.session.scalars(stmt)]
    return opts(([("", "—")] if blank else []) + pairs)


def fill_record_form(form: InvestigationForm) -> InvestigationForm:
    locale = str(get_locale())
    form.owner.choices = staff_choices(supervisors_only=True)
    form.department.choices = opts(
        [("", "—")]
        + [
            (d.id, d.name)
            for d in db.session.scalars(
                sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
            )
        ]
    )
    form.category.choices = opts(
        [("", "—")]
        + [
            (c.id, c.label(locale))
            for c in db.session.scalars(
                sa.select(Category)
                .where(Category.active.is_(True))
                .order_by(Category.position, Category.name)
            )
        ]
    )
    form.subcategory.choices = opts(
        [("", "—")]
        + [
            (s.id, f"{ISHIKAWA_LABELS[s.category]} › {s.name}")
            for s in queries.subcategories(active_only=True)
        ]
    )
    return form


def record_values(form: InvestigationForm) -> dict:
    return {
        "title": form.title.data,
        "statement": form.statement.data or "",
        "location": form.location.data or "",
        "since": form.since.data,
        "customers_affected": form.customers_affected.data,
        "estimated_cost": form.estimated_cost.data,
        "impact": form.impact.data,
        "urgency": form.urgency.data,
        "owner": form.owner.data,
        "department": form.department.data,
        "category": form.category.data,
        "keywords": form.keywords.data or "",
        "containment": form.containment.data or "",
        "ishikawa": form.ishikawa.data or None,
        "subcategory": form.subcategory.data,
        "root_cause": form.root_cause.data or "",
        "evidence": form.evidence.data or "",
    }


def _ticket_ids(raw: str) -> list[int]:
    ids = []
    for part in (raw or "").split(","):
        part = part.strip()
        if part:
            if id_number(part) is None:
                abort(400)
            ids.append(int(part))
    if len(ids) > MAX_BULK:
        abort(400)
    return list(dict.fromkeys(ids))


def _workable_tickets(ids: list[int]) -> list[Ticket]:
    if not ids:
        return []
    rows = list(
        db.session.scalars(
            sa.select(Ticket)
            .where(Ticket.id.in_(ids))
            .options(joinedload(Ticket.customer), joinedload(Ticket.department))
            .order_by(Ticket.id)
        )
    )
    if len(rows) != len(ids):
        abort(404)
    if not all(can_work_ticket(current_user, t) for t in rows):
        abort(403)
    return rows


# list -----------------------------------------------------------------------------------------


@bp.get("/investigations")
def investigations():
    show = request.args.get("show", "active")
    if show not in LIST_FILTERS:
        abort(400)
    mine = request.args.get("mine") == "1"
    cursor = request.args.get("cursor", "")
    if cursor and id_number(cursor) is None:
        abort(400)
    rows, has_more = queries.investigation_page(
        show=show,
        owner_id=current_user.id if mine else None,
        before_id=int(cursor) if cursor else None,
        size=PAGE_SIZE,
    )
    stats = queries.page_counts([r.id for r in rows])
    args = {k: v for k, v in request.args.items() if k != "cursor" and v}
    next_url = url_for("console.investigations", **args, cursor=rows[-1].id) if has_more else None
    return render_template(
        "console/investigations/list.html",
        rows=rows,
        stats=stats,
        show=show,
        mine=mine,
        filters=LIST_FILTERS,
        next_url=next_url,
    )


# create ---------------------------------------------------------------------------------------


@bp.route("/investigations/new", methods=["GET", "POST"])
def investigation_new():
    require_manage()
    form = fill_record_form(InvestigationForm())
    if request.method == "GET":
        ids = _ticket_ids(request.args.get("tickets", ""))
        protocol = request.args.get("ticket")
        if protocol:
            ids.append(load_workable_ticket(protocol).id)
        form.tickets.data = ",".join(str(i) for i in dict.fromkeys(ids))
    selected = _workable_tickets(_ticket_ids(form.tickets.data or ""))
    if request.method == "GET" and selected:
        first = selected[0]
        form.title.data = first.subject
        form.category.data = first.category_id
        form.department.data = first.department_id
        form.owner.data = current_user.id
    elif request.method == "GET":
        form.owner.data = current_user.id
    if form.validate_on_submit():
        with attempt() as done:
            created = operations.open_investigation(
                by=current_user, tickets_to_link=selected, **record_values(form)
            )
        if done.error:
            show_domain_error(form, done.error)
        else:
            flash(_("Investigation %(number)s opened.", number=created.number), "success")
            return _detail(created)
    elif form.errors.get("csrf_token"):
        abort(400)
    return render_template(
        "console/investigations/form.html", form=form, investigation=None, selected=selected
    )


@bp.post("/investigation-bulk")
def investigations_bulk():
    """The queue's multi-select: open an investigation with the selection, or link it."""
    op = request.form.get("op", "")
    if op not in ("open", "link"):
        abort(400)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    raw = [v for v in request.form.getlist("ticket") if v]
    ids = _ticket_ids(",".join(raw))
    back = request.referrer if request.referrer and "/console/" in request.referrer else None
    if not ids:
        flash(_("Select at least one demand."), "error")
        return redirect(back or url_for("console.queue"))
    selected = _workable_tickets(ids)
    if op == "open":
        require_manage()
        return redirect(
            url_for("console.investigation_new", tickets=",".join(str(t.id) for t in selected))
        )
    number = (request.form.get("number") or "").strip()
    with attempt() as done:
        found = queries.get_by_number(number)
        for ticket in selected:
            operations.link_ticket(found, ticket, by=current_user)
    if done.error:
        flash(str(done.error), "error")
        return redirect(back or url_for("console.queue"))
    flash(
        _("%(n)s demand(s) linked to %(number)s.", n=len(selected), number=found.number),
        "success",
    )
    return _detail(found, "tickets")


# detail ---------------------------------------------------------------------------------------


@bp.get("/investigations/<number>")
def investigation(number: str):
    found = queries.load_full(load_investigation(number).id)
    today = dates.today()
    manage = permissions.can_manage(current_user)
    status_form = StatusForm()
    status_form.status.choices = opts(
        (s, STATUS_LABELS[s]) for s in STATUS_LABELS if s in operations.TRANSITIONS[found.status]
    )
    action_form = ActionForm()
    action_form.owner.choices = staff_choices()
    accept_form = ActionAcceptForm()
    accept_form.owner.choices = staff_choices()
    effectiveness = EffectivenessForm(obj=found)
    notice = NoticeForm(obj=found)
    languages: dict[str, int] = {}
    for link in found.links:
        lang = notices.customer_language(link.ticket)
        languages[lang] = languages.get(lang, 0) + 1
    return render_template(
        "console/investigations/detail.html",
        inv=found,
        today=today,
        manage=manage,
        recurrences=queries.recurrence_count(found),
        visible={
            link.ticket_id for link in found.links if can_view_ticket(current_user, link.ticket)
        },
        close_blockers=operations.blockers(found, "closed") if found.status == "verifying" else {},
        history=[(e, describe(e)) for e in found.events],
        status_form=status_form,
        link_form=LinkForm(),
        why_form=WhyForm(),
        action_form=action_form,
        accept_form=accept_form,
        done_form=ActionDoneForm(),
        reason_form=ReasonForm(),
        confirm_form=ConfirmForm(),
        effectiveness_form=effectiveness,
        notice_form=notice,
        languages=languages,
        language_labels=NOTICE_LANGUAGE_LABELS,
    )


@bp.route("/investigations/<number>/edit", methods=["GET", "POST"])
def investigation_edit(number: str):
    found = load_investigation(number)
    require_manage()
    form = fill_record_form(InvestigationForm(obj=found if request.method == "GET" else None))
    if request.method == "GET":
        form.owner.data = found.owner_id
        form.department.data = found.department_id
        form.category.data = found.category_id
        form.subcategory.data = found.subcategory_id
        form.ishikawa.data = found.ishikawa or ""
    if form.validate_on_submit():
        with attempt() as done:
            operations.update_investigation(found, current_user, **record_values(form))
        if done.error:
            found = load_investigation(number)
            show_domain_error(form, done.error)
        else:
            flash(_("Investigation saved."), "success")
            return _detail(found)
    elif form.errors.get("csrf_token"):
        abort(400)
    return render_template(
        "console/investigations/form.html", form=form, investigation=found, selected=[]
    )


@bp.post("/investigations/<number>/status")
def investigation_status(number: str):
    found = load_investigation(number)
    require_manage()
    form = StatusForm()
    form.status.choices = opts((s, s) for s in STATUS_LABELS)
    return _act(
        found,
        form,
        lambda: operations.change_status(
            found, current_user, form.status.data, reason=form.reason.data
        ),
        _("Status changed."),
    )


@bp.post("/investigations/<number>/tickets")
def investigation_link(number: str):
    found = load_investigation(number)
    form = LinkForm()

    def act():
        ticket = get_ticket_by_protocol(form.protocol.data)
        if not can_work_ticket(current_user, ticket):
            abort(403)
        operations.link_ticket(found, ticket, by=current_user)

    return _act(found, form, act, _("Demand linked."), "tickets")


@bp.post("/investigations/<number>/tickets/<protocol>/unlink")
def investigation_unlink(number: str, protocol: str):
    found = load_investigation(number)
    ticket = load_workable_ticket(protocol)
    return _act(
        found,
        ConfirmForm(),
        lambda: operations.unlink_ticket(found, ticket, by=current_user),
        _("Demand unlinked."),
        "tickets",
    )


@bp.post("/investigations/<number>/whys")
def investigation_why(number: str):
    found = load_investigation(number)
    form = WhyForm()
    success = _("Why added.") if permissions.can_manage(current_user) else _("Why proposed.")
    return _act(
        found,
        form,
        lambda: whys.add_why(found, current_user, form.text.data),
        success,
        "analysis",
    )


@bp.post("/investigations/<number>/whys/<int:why_id>/<verb>")
def investigation_why_decide(number: str, why_id: int, verb: str):
    found = load_investigation(number)
    if verb not in ("accept", "remove"):
        abort(404)
    require_manage()
    service = whys.accept_why if verb == "accept" else whys.remove_why
    return _act(
        found,
        ConfirmForm(),
        lambda: service(found, current_user, why_id),
        _("Saved."),
        "analysis",
    )


@bp.post("/investigations/<number>/actions")
def investigation_action(number: str):
    found = load_investigation(number)
    form = ActionForm()
    form.owner.choices = staff_choices()
    success = (
        _("Action planned.") if permissions.can_manage(current_user) else _("Action proposed.")
    )
    return _act(
        found,
        form,
        lambda: capa.add_action(
            found,
            current_user,
            description=form.description.data,
            kind=form.kind.data,
            owner=form.owner.data,
            due_on=form.due_on.data,
        ),
        success,
        "actions",
    )


def _load_action(found: Investigation, action_id: int) -> CapaAction:
    action = db.session.get(CapaAction, action_id)
    if action is None or action.investigation_id != found.id:
        abort(404)
    return action


@bp.post("/investigations/<number>/actions/<int:action_id>/accept")
def investigation_action_accept(number: str, action_id: int):
    found = load_investigation(number)
    action = _load_action(found, action_id)
    require_manage()
    form = ActionAcceptForm()
    form.owner.choices = staff_choices()
    return _act(
        found,
        form,
        lambda: capa.accept_action(
            action, current_user, owner=form.owner.data, due_on=form.due_on.data
        ),
        _("Action accepted."),
        "actions",
    )


@bp.post("/investigations/<number>/actions/<int:action_id>/done")
def investigation_action_done(number: str, action_id: int):
    found = load_investigation(number)
    action = _load_action(found, action_id)
    if not permissions.can_complete(current_user, action):
        abort(403)
    form = ActionDoneForm()
    return _act(
        found,
        form,
        lambda: capa.complete_action(action, current_user, form.evidence.data),
        _("Action marked done."),
        "actions",
    )


@bp.post("/investigations/<number>/actions/<int:action_id>/cancel")
def investigation_action_cancel(number: str, action_id: int):
    found = load_investigation(number)
    action = _load_action(found, action_id)
    require_manage()
    form = ReasonForm()
    return _act(
        found,
        form,
        lambda: capa.cancel_action(action, current_user, form.reason.data),
        _("Action cancelled."),
        "actions",
    )


@bp.post("/investigations/<number>/effectiveness")
def investigation_effectiveness(number: str):
    found = load_investigation(number)
    require_manage()
    form = EffectivenessForm()
    return _act(
        found,
        form,
        lambda: operations.update_investigation(
            found,
            current_user,
            metric=form.metric.data or "",
            baseline=form.baseline.data or "",
            target=form.target.data or "",
            check_on=form.check_on.data,
            result=form.result.data or "",
            verdict=form.verdict.data or None,
        ),
        _("Effectiveness check saved."),
        "effectiveness",
    )


@bp.post("/investigations/<number>/notify")
def investigation_notify(number: str):
    found = load_investigation(number)
    require_manage()
    form = NoticeForm()
    result = {}

    def act():
        result.update(
            notices.notify_customers(
                found,
                current_user,
                resolve=form.resolve.data,
                templates={
                    "pt_BR": form.notice_pt_br.data or "",
                    "es": form.notice_es.data or "",
                    "en": form.notice_en.data or "",
                },
            )
        )

    response = _act(found, form, act, _("Message sent."), "notice")
    if result:
        flash(
            _(
                "%(sent)s customer(s) told now, %(already)s already told, %(skipped)s closed "
                "demand(s) skipped.",
                **result,
            ),
            "success",
        )
    return response


# from a ticket --------------------------------------------------------------------------------


@bp.post("/tickets/<protocol>/investigation")
def ticket_link_investigation(protocol: str):
    ticket = load_workable_ticket(protocol)
    form = TicketLinkForm()
    back = redirect(url_for("console.ticket", protocol=ticket.protocol, _anchor="investigation"))
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        _flash_errors(form)
        return back
    with attempt() as done:
        found = queries.get_by_number(form.number.data)
        operations.link_ticket(found, ticket, by=current_user)
    if done.error:
        flash(str(done.error), "error")
        return back
    flash(_("Demand linked to %(number)s.", number=found.number), "success")
    return back_to_ticket(ticket, "investigation")


def ticket_panel(ticket: Ticket) -> dict:
    """What the ticket workspace shows: its investigation with the containment, or suggestions."""
    link = queries.link_of(ticket)
    return {
        "investigation_link": link,
        "investigation_suggestions": [] if link else suggestions.suggestions_for(ticket),
        "investigation_link_form": TicketLinkForm(),
    }


# boards and reports ---------------------------------------------------------------------------


@bp.get("/investigations/actions")
def investigation_actions():
    """The owner's open actions, and for supervisors every overdue action."""
    mine = queries.open_actions_of(current_user)
    overdue = (
        list(db.session.scalars(queries.overdue_actions_query()))
        if permissions.can_manage(current_user)
        else []
    )
    return render_template(
        "console/investigations/actions.html",
        mine=mine,
        overdue=overdue,
        today=dates.today(),
        done_form=ActionDoneForm(),
    )


def _period():
    form = ReportForm(request.args)
    if not form.validate():
        abort(400)
    start, end = reports.default_period()
    return form, form.start.data or start, form.end.data or end


@bp.get("/investigations/reports")
def investigation_reports():
    form, start, end = _period()
    report = reports.build_report(start, end)
    return render_template(
        "console/investigations/reports.html",
        form=form,
        report=report,
        chart=reports.pareto_svg(report),
        unclassified=_("Unclassified"),
    )


@bp.get("/investigations/reports.csv")
def investigation_reports_csv():
    _form, start, end = _period()
    report = reports.build_report(start, end)
    return Response(
        reports.report_csv(report),
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="investigations-{start.isoformat()}-{end.isoformat()}.csv"'
            )
        },
    )
