"""Admin: IMAP mailboxes (create, edit) and email problems: outbound dead letters (retry) and
inbound messages that failed (reprocess), with the delivery log and the stored original."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ..accounts.models import Department
from ..core.forms import show_domain_error
from ..core.unit import attempt
from ..extensions import db
from ..mail.models import InboundMessage, Mailbox
from ..mail.queries import mail_problems as mail_problems_query
from ..mail.services import (
    create_mailbox,
    delete_mailbox,
    inbound_counts,
    release_held,
    reprocess,
    update_mailbox,
)
from ..notifications.models import OutboxAttempt, OutboxMessage
from ..notifications.services import retry_dead_letter
from .blueprint import bp, load_or_404
from .forms import ActionForm, MailboxForm

LIST_LIMIT = 100
log = logging.getLogger(__name__)


@bp.app_template_filter("readable_address")
def readable_address(value: str) -> str:
    """'=?utf-8?b?...?= <x@y>' (as queued for SMTP) shown as 'Lucía Gómez <x@y>'."""
    from email.header import decode_header, make_header
    from email.utils import parseaddr

    name, addr = parseaddr(value or "")
    if name:
        try:
            name = str(make_header(decode_header(name)))
        except Exception:  # undecodable: shown as it is
            log.debug("undecodable display name %r", name)
    return f"{name} <{addr}>" if name else addr


def _fill(form: MailboxForm) -> MailboxForm:
    departments = db.session.scalars(
        sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
    ).all()
    form.department_id.choices = [(0, _("Default (routing rules decide)"))] + [
        (d.id, d.name) for d in departments
    ]
    return form


def _values(form: MailboxForm) -> dict:
    return {
        "name": form.name.data,
        "host": form.host.data,
        "port": form.port.data,
        "tls_mode": form.tls_mode.data,
        "folder": form.folder.data,
        "username": form.username.data,
        "department_id": form.department_id.data or None,
        "active": form.active.data,
        "hold_unauthenticated": form.hold_unauthenticated.data,
    }


@bp.get("/mailboxes")
def mailboxes():
    rows = db.session.scalars(
        sa.select(Mailbox).options(selectinload(Mailbox.department)).order_by(Mailbox.name)
    ).all()
    return render_template("admin/mailboxes.html", mailboxes=rows, counts=inbound_counts())


@bp.route("/mailboxes/new", methods=["GET", "POST"])
def mailbox_new():
    form = _fill(MailboxForm())
    if form.validate_on_submit():
        with attempt() as done:
            mailbox = create_mailbox(**_values(form), password=form.password.data or "")
        if done.error:
            show_domain_error(form, done.error)
        else:
            flash(_("Mailbox “%(name)s” created.", name=mailbox.name), "success")
            return redirect(url_for("admin.mailboxes"))
    return render_template("admin/mailbox_form.html", form=form, mailbox=None)


@bp.route("/mailboxes/<int:mailbox_id>", methods=["GET", "POST"])
def mailbox_edit(mailbox_id: int):
    mailbox = load_or_404(Mailbox, mailbox_id)
    form = _fill(MailboxForm(obj=mailbox if request.method == "GET" else None))
    if request.method == "GET":
        form.password.data = ""
        form.department_id.data = mailbox.department_id or 0
    if form.validate_on_submit():
        with attempt() as done:
            update_mailbox(mailbox, **_values(form), password=form.password.data or None)
        if done.error:
            show_domain_error(form, done.error)
            mailbox = load_or_404(Mailbox, mailbox_id)
        else:
            flash(_("Mailbox “%(name)s” saved.", name=mailbox.name), "success")
            return redirect(url_for("admin.mailboxes"))
    return render_template(
        "admin/mailbox_form.html", form=form, mailbox=mailbox, action_form=ActionForm()
    )


@bp.post("/mailboxes/<int:mailbox_id>/delete")
def mailbox_delete(mailbox_id: int):
    mailbox = load_or_404(Mailbox, mailbox_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("admin.mailbox_edit", mailbox_id=mailbox_id))
    name = mailbox.name
    delete_mailbox(mailbox)
    flash(_("Mailbox “%(name)s” removed; the messages it received are kept.", name=name), "success")
    return redirect(url_for("admin.mailboxes"))


@bp.get("/mail")
def mail_problems():
    problems = mail_problems_query(LIST_LIMIT)
    return render_template(
        "admin/mail.html",
        dead=problems.dead,
        failed=problems.failed,
        held=problems.held,
        protocols=problems.protocols,
        counts=inbound_counts(),
        action_form=ActionForm(),
    )


@bp.get("/mail/outbox/<int:outbox_id>")
def outbox_detail(outbox_id: int):
    row = load_or_404(OutboxMessage, outbox_id)
    attempts = db.session.scalars(
        sa.select(OutboxAttempt).where(OutboxAttempt.outbox_id == row.id).order_by(OutboxAttempt.id)
    ).all()
    return render_template(
        "admin/outbox_detail.html", row=row, attempts=attempts, action_form=ActionForm()
    )


@bp.post("/mail/outbox/<int:outbox_id>/retry")
def outbox_retry(outbox_id: int):
    row = load_or_404(OutboxMessage, outbox_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("admin.mail_problems"))
    with attempt() as done:
        retry_dead_letter(row)
    if done.error:
        flash(str(done.error), "error")
    else:
        flash(
            _("The message to %(to)s will be sent again.", to=readable_address(row.to_addr)),
            "success",
        )
    return redirect(url_for("admin.mail_problems"))


@bp.get("/mail/inbound/<int:inbound_id>")
def inbound_detail(inbound_id: int):
    row = load_or_404(InboundMessage, inbound_id)
    preview = row.raw[:20000].decode("utf-8", errors="replace")
    return render_template(
        "admin/inbound_detail.html", row=row, preview=preview, action_form=ActionForm()
    )


def _process_again(inbound_id: int, action, success: str):
    """Reprocess or release one stored inbound message; flash how it went, back to the list."""
    row = load_or_404(InboundMessage, inbound_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("admin.mail_problems"))
    with attempt() as done:
        action(row)
    if done.error:
        flash(str(done.error), "error")
    else:
        if row.state == "failed":
            flash(_("The message failed again: %(error)s", error=row.error), "error")
        else:
            flash(success, "success")
    return redirect(url_for("admin.mail_problems"))


@bp.post("/mail/inbound/<int:inbound_id>/reprocess")
def inbound_reprocess(inbound_id: int):
    return _process_again(inbound_id, reprocess, _("The message was processed again."))


@bp.post("/mail/inbound/<int:inbound_id>/release")
def inbound_release(inbound_id: int):
    """An admin checked a held (unauthenticated) reply: it lands on its demand now."""
    return _process_again(inbound_id, release_held, _("The message was released."))
