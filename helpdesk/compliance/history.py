"""Rule 4: a customer's history on request within 5 calendar days.

The request is a ticket (kind "request", category "History request") whose SLA policy gives it
5 calendar days, so the SLA board and escalation follow it like any demand; a `data_requests` row
links it to the customer. Fulfilling renders the document (HTML and PDF, the customer's view:
public messages only), keeps it on the row, resolves the ticket and emails a signed link that
expires (`HISTORY_LINK_DAYS`, default 30).
"""

from __future__ import annotations

import io
import logging
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..core.clock import now
from ..core.errors import DomainError
from ..customers.models import Customer
from ..extensions import db
from ..notifications.services import queue_email
from ..sla.clocks import SLA_TARGET_LABELS
from ..sla.models import SlaPolicy
from ..sla.policies import create_policy
from ..tickets.categories import create_category
from ..tickets.models import CHANNEL_LABELS, KIND_LABELS, STATUS_LABELS, Category
from ..tickets.services import change_status, register_ticket
from .export import export_customer
from .models import DataRequest

log = logging.getLogger(__name__)

CATEGORY_NAME = "History request"
POLICY_NAME = "History request (5 calendar days)"
DEADLINE_DAYS = 5
_SALT = "history-document"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def ensure_history_setup() -> Category:
    """The category and its 5-calendar-day policy (legal: never paused), created when missing."""
    category = db.session.scalar(sa.select(Category).where(Category.name == CATEGORY_NAME))
    if category is None:
        category = create_category(
            name=CATEGORY_NAME,
            name_pt_br="Solicitação de histórico",
            name_es="Solicitud de historial",
            kinds=["request"],
            position=900,
        )
    if db.session.scalar(sa.select(SlaPolicy.id).where(SlaPolicy.name == POLICY_NAME)) is None:
        create_policy(
            name=POLICY_NAME,
            position=10,
            kind="request",
            category_id=category.id,
            resolution_minutes=DEADLINE_DAYS * 24 * 60,
            resolution_calendar_id=None,
            resolution_is_legal=True,
        )
    return category


def request_history(customer: Customer, *, actor=None, channel: str = "web") -> DataRequest:
    """Register the request (portal, email, phone, API): a tracked demand with its protocol."""
    category = ensure_history_setup()
    locale = customer.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        subject = str(_l("History of my demands"))
        description = str(
            _l("The customer asked for the full history of their demands (every message).")
        )
    ticket = register_ticket(
        actor=actor,
        customer=customer,
        channel=channel,
        kind="request",
        subject=subject,
        description=description,
        category_id=category.id,
    )
    row = DataRequest(
        customer_id=customer.id,
        ticket_id=ticket.id,
        kind="history",
        channel=channel,
        status="open",
        requested_by_id=actor.id if actor is not None else None,
        requested_at=ticket.created_at,
    )
    db.session.add(row)
    db.session.flush()
    log.info("History request %s registered as %s", row.id, ticket.protocol)
    return row


def _fmt(value: str | None) -> str:
    if not value:
        return "—"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC%z")


VERDICT_LABELS = {"resolved": _l("Resolved"), "not_resolved": _l("Not resolved")}


def labelled(data: dict, locale: str) -> dict:
    """A copy for reading: stored codes (kind, channel, status, deadline, verdict) as words in
    the customer's language."""
    import copy

    out = copy.deepcopy(data)
    with force_locale(locale):
        for demand in out["demands"]:
            demand["kind"] = str(KIND_LABELS.get(demand["kind"], demand["kind"]))
            demand["channel"] = str(CHANNEL_LABELS.get(demand["channel"], demand["channel"]))
            demand["status"] = str(STATUS_LABELS.get(demand["status"], demand["status"]))
            if demand["customer_verdict"]:
                code = demand["customer_verdict"]
                demand["customer_verdict"] = str(VERDICT_LABELS.get(code, code))
            for row in demand["deadlines"]:
                row["target"] = str(SLA_TARGET_LABELS.get(row["target"], row["target"]))
            for message in demand["messages"]:
                message["channel"] = str(CHANNEL_LABELS.get(message["channel"], message["channel"]))
    return out


def render_html(data: dict, locale: str) -> str:
    with force_locale(locale):
        return render_template("compliance/history.html", data=data, fmt=_fmt, at=now())


def _fonts() -> tuple[str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    return "DejaVuSans", "DejaVuSans-Bold"


def render_pdf(data: dict, locale: str) -> bytes:
    """The same document as a PDF (reportlab, DejaVu fonts: accents and ñ render)."""
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    regular, bold = _fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=13)
    head = ParagraphStyle("head", fontName=bold, fontSize=15, leading=20, spaceAfter=6)
    sub = ParagraphStyle("sub", fontName=bold, fontSize=11.5, leading=16, spaceBefore=10)
    quote = ParagraphStyle("quote", parent=body, leftIndent=14)
    mono = ParagraphStyle("mono", fontName="Courier", fontSize=8.5, leading=11, leftIndent=14)

    def p(text, style=body):
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)

    customer = data["customer"]
    story = []
    with force_locale(locale):
        story.append(p(_l("History of the demands of %(name)s", name=customer["name"]), head))
        story.append(p(_l("Issued at %(at)s", at=now().strftime("%Y-%m-%d %H:%M UTC"))))
        story.append(p(_l("Emails: %(emails)s", emails=", ".join(customer["emails"]) or "—")))
        for demand in data["demands"]:
            story.append(p(f"{demand['protocol']} · {demand['subject']}", sub))
            story.append(
                p(
                    _l(
                        "Kind: %(kind)s · channel: %(channel)s · status: %(status)s",
                        kind=demand["kind"],
                        channel=demand["channel"],
                        status=demand["status"],
                    )
                )
            )
            story.append(
                p(
                    _l(
                        "Opened %(opened)s · first answer %(first)s · resolved %(resolved)s",
                        opened=_fmt(demand["created_at"]),
                        first=_fmt(demand["first_response_at"]),
                        resolved=_fmt(demand["resolved_at"]),
                    )
                )
            )
            for row in demand["deadlines"]:
                story.append(
                    p(
                        _l(
                            "%(target)s: %(due)s (met: %(met)s)",
                            target=row["target"],
                            due=_fmt(row["due_at"]),
                            met=_fmt(row["met_at"]),
                        )
                    )
                )
            if demand["customer_verdict"]:
                story.append(
                    p(
                        _l(
                            "Your verdict: %(verdict)s (rating %(rating)s)",
                            verdict=demand["customer_verdict"],
                            rating=demand["rating"] or "—",
                        )
                    )
                )
            if demand.get("chain_hash"):
                story.append(p(_l("Trail hash (the last link of this demand's record of events):")))
                story.append(p(demand["chain_hash"], mono))
            if demand["description"]:
                story.append(p(demand["description"], quote))
            for message in demand["messages"]:
                story.append(Spacer(1, 4))
                story.append(
                    p(
                        f"{_fmt(message['at'])} · {message['author_name'] or message['author']}"
                        f" · {message['channel']}"
                    )
                )
                story.append(p(message["body"], quote))
        story.append(Spacer(1, 10))
        story.append(
            p(
                _l(
                    "Each trail hash seals the record of its demand as it was when this document "
                    "was issued. To check this document later, give the help desk the protocol "
                    "and the hash: it verifies that the record is intact and still contains that "
                    "link."
                )
            )
        )
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title="History").build(story)
    return buffer.getvalue()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def link_token(row: DataRequest) -> str:
    return _serializer().dumps({"r": row.id, "c": row.customer_id})


def link_days() -> int:
    return int(current_app.config.get("HISTORY_LINK_DAYS", 30))


class LinkInvalid(DomainError):
    status = 404
    code = "link_invalid"
    default_message = _l("This link is not valid or has expired. Ask for a new one in the portal.")


def request_for_token(token: str) -> DataRequest:
    try:
        data = _serializer().loads(token, max_age=link_days() * 86400)
    except (SignatureExpired, BadSignature):
        raise LinkInvalid() from None
    row = db.session.get(DataRequest, int(data.get("r", 0)))
    if row is None or row.customer_id != data.get("c") or row.document_pdf is None:
        raise LinkInvalid()
    return row


def fulfil_history(row: DataRequest, *, actor=None) -> DataRequest:
    """Render the document, keep it, resolve the request's ticket and email the signed link."""
    if row.status == "fulfilled":
        return row
    customer = row.customer
    locale = customer.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    data = export_customer(customer, include_internal=False)
    data["demands"] = [
        d for d in data["demands"] if row.ticket is None or d["protocol"] != row.ticket.protocol
    ]
    data = labelled(data, locale)
    row.document_html = render_html(data, locale)
    row.document_pdf = render_pdf(data, locale)
    row.status = "fulfilled"
    row.fulfilled_at = now()
    db.session.flush()
    if row.ticket is not None and row.ticket.status not in ("resolved", "closed"):
        with force_locale(locale):
            outcome = str(_l("History sent by email and available in the portal."))
        change_status(row.ticket, actor, "resolved", notify_customer=False, outcome=outcome)
    queue_email(
        kind="history_ready",
        to=customer.primary_email or "",
        to_name=customer.name,
        template="history_ready",
        locale=locale,
        ticket=row.ticket,
        token=link_token(row),
        link_days=link_days(),
    )
    log.info("History request %s fulfilled", row.id)
    return row
