"""Data-subject requests: a customer's history, export, correction or anonymisation request.

A history request is also a ticket (kind "request", category "History request") so its 5-day
deadline lives on the SLA board and in escalation like any demand; the row here links it to the
customer and records when and how it was fulfilled.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import now
from ..customers.models import Customer
from ..extensions import db
from ..tickets.models import Ticket

REQUEST_KINDS = ("history", "export", "correction", "anonymise")
REQUEST_KIND_LABELS = {
    "history": _l("History of my demands"),
    "export": _l("Export of my personal data"),
    "correction": _l("Correction of my data"),
    "anonymise": _l("Anonymisation of my data"),
}
REQUEST_STATUSES = ("open", "fulfilled", "refused")
REQUEST_STATUS_LABELS = {
    "open": _l("In progress"),
    "fulfilled": _l("Ready"),
    "refused": _l("Refused"),
}


class DataRequest(db.Model):
    __tablename__ = "data_requests"
    __table_args__ = (sa.Index("ix_data_requests_customer", "customer_id", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20))
    channel: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    fulfilled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # why it was refused, or what a correction changed (field names, never the old values)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # the fulfilled document, rendered once and kept (the customer downloads what was sent)
    document_pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    document_html: Mapped[str | None] = mapped_column(sa.Text)

    customer: Mapped[Customer] = relationship()
    ticket: Mapped[Ticket | None] = relationship()
