"""The original of an inbound email, for agents: the full text (quotes and signature included),
the sanitised HTML with its inline images, the sender and the date; the thread shows the
stripped reply and links here."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, url_for
from markupsafe import Markup

from ..extensions import db
from ..mail.models import InboundMessage
from ..mail.parsing import parse
from ..tickets.attachments import clean_filename
from ..tickets.models import Attachment
from .blueprint import bp, load_workable_ticket


def _inline_images(row: InboundMessage, protocol: str) -> dict[str, str]:
    """cid: reference -> the download URL of the attachment kept for it."""
    try:
        parts = [a for a in parse(row.raw).attachments if a.content_id]
    except Exception:  # the original could not be parsed again: no images
        return {}
    if not parts:
        return {}
    kept = db.session.scalars(
        sa.select(Attachment).where(
            Attachment.ticket_id == row.ticket_id,
            Attachment.message_id.is_(row.ticket_message_id)
            if row.ticket_message_id is None
            else Attachment.message_id == row.ticket_message_id,
        )
    ).all()
    by_name = {a.filename: a for a in kept}
    urls = {}
    for part in parts:
        attachment = by_name.get(clean_filename(part.filename))
        if attachment is not None:
            urls[f"cid:{part.content_id}"] = url_for(
                "console.attachment", protocol=protocol, attachment_id=attachment.id
            )
    return urls


@bp.get("/tickets/<protocol>/emails/<int:inbound_id>")
def original_email(protocol: str, inbound_id: int):
    ticket = load_workable_ticket(protocol)
    row = db.session.get(InboundMessage, inbound_id)
    if row is None or row.ticket_id != ticket.id:
        abort(404)
    html = row.body_html  # sanitised by nh3 when it was received
    for cid, url in _inline_images(row, ticket.protocol).items():
        html = html.replace(f'src="{cid}"', f'src="{url}"')
    return render_template(
        "console/original_email.html",
        ticket=ticket,
        email=row,
        html=Markup(html),  # noqa: S704 - nh3-sanitised HTML (no scripts, handlers, styles)
    )
