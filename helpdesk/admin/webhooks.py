"""Admin pages for outbound webhooks: subscriptions, their secret, the delivery log, retries.

GET  /admin/webhooks                          subscriptions
GET|POST /admin/webhooks/new                  subscribe a URL (secret generated)
GET|POST /admin/webhooks/<id>                 edit; shows the secret and the delivery log
POST /admin/webhooks/<id>/secret              rotate the secret
POST /admin/webhooks/deliveries/<id>/retry    put a dead delivery back in the queue
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from ..core.forms import show_domain_error
from ..core.text import ascii_digits
from ..core.unit import attempt
from ..extensions import db
from ..webhooks.models import (
    DELIVERY_STATUS_LABELS,
    EVENT_LABELS,
    EVENTS,
    WebhookDelivery,
    WebhookSubscription,
)
from ..webhooks.services import (
    create_subscription,
    retry_delivery,
    rotate_secret,
    update_subscription,
)
from .blueprint import bp, load_or_404
from .forms import ActionForm, MultiCheckboxField

LOG_PAGE = 50


class WebhookForm(FlaskForm):
    url = StringField(
        _l("Address (URL)"), validators=[DataRequired(), Length(max=500)], default="https://"
    )
    description = StringField(_l("Description"), validators=[Length(max=200)])
    events = MultiCheckboxField(_l("Events"), choices=[])
    active = BooleanField(_l("Active"), default=True)


def _form(obj=None) -> WebhookForm:
    form = WebhookForm(obj=obj)
    form.events.choices = [(e, str(EVENT_LABELS[e])) for e in EVENTS]
    return form


def _values(form: WebhookForm) -> dict:
    return {
        "url": form.url.data,
        "events": form.events.data or [],
        "description": form.description.data or "",
        "active": bool(form.active.data),
    }


@bp.get("/webhooks")
def webhooks():
    subs = list(db.session.scalars(sa.select(WebhookSubscription).order_by(WebhookSubscription.id)))
    dead = dict(
        db.session.execute(
            sa.select(WebhookDelivery.subscription_id, sa.func.count(WebhookDelivery.id))
            .where(WebhookDelivery.status == "dead")
            .group_by(WebhookDelivery.subscription_id)
        ).all()
    )
    return render_template("admin/webhooks.html", subs=subs, dead=dead, event_labels=EVENT_LABELS)


@bp.route("/webhooks/new", methods=["GET", "POST"])
def webhook_new():
    form = _form()
    if request.method == "GET":
        form.events.data = list(EVENTS)
    if form.validate_on_submit():
        with attempt() as done:
            sub = create_subscription(current_user, **_values(form))
        if done.error:
            show_domain_error(form, done.error)
        else:
            flash(_("Webhook created. Give its secret to the receiver."), "success")
            return redirect(url_for("admin.webhook_edit", subscription_id=sub.id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/webhook_form.html", form=form, sub=None), status


@bp.route("/webhooks/<int:subscription_id>", methods=["GET", "POST"])
def webhook_edit(subscription_id: int):
    sub = load_or_404(WebhookSubscription, subscription_id)
    form = _form(obj=sub if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            with attempt() as done:
                update_subscription(sub, **_values(form))
            if done.error:
                show_domain_error(form, done.error)
                sub = load_or_404(WebhookSubscription, subscription_id)
            else:
                flash(_("Webhook saved."), "success")
                return redirect(url_for("admin.webhook_edit", subscription_id=sub.id))
        status = 400
    after = request.args.get("before", "")
    if after and (not ascii_digits(after) or len(after) > 12):
        abort(400)
    stmt = (
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == sub.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(LOG_PAGE + 1)
    )
    if after:
        stmt = stmt.where(WebhookDelivery.id < int(after))
    deliveries = list(db.session.scalars(stmt))
    next_url = None
    if len(deliveries) > LOG_PAGE:
        deliveries = deliveries[:LOG_PAGE]
        next_url = url_for("admin.webhook_edit", subscription_id=sub.id, before=deliveries[-1].id)
    return (
        render_template(
            "admin/webhook_form.html",
            form=form,
            sub=sub,
            deliveries=deliveries,
            next_url=next_url,
            status_labels_delivery=DELIVERY_STATUS_LABELS,
            event_labels=EVENT_LABELS,
            action_form=ActionForm(),
        ),
        status,
    )


@bp.post("/webhooks/<int:subscription_id>/secret")
def webhook_rotate(subscription_id: int):
    sub = load_or_404(WebhookSubscription, subscription_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    rotate_secret(sub)
    flash(_("A new secret was generated: give it to the receiver now."), "success")
    return redirect(url_for("admin.webhook_edit", subscription_id=sub.id))


@bp.post("/webhooks/deliveries/<int:delivery_id>/retry")
def webhook_retry(delivery_id: int):
    delivery = load_or_404(WebhookDelivery, delivery_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with attempt() as done:
        retry_delivery(delivery)
    if done.error:
        flash(str(done.error), "error")
    else:
        flash(_("The delivery is queued again."), "success")
    return redirect(url_for("admin.webhook_edit", subscription_id=delivery.subscription_id))
