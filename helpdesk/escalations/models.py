"""Escalation rules (when a level fires and what it does) and escalation records (what a supervisor
must acknowledge and decide).

Levels are fixed and only go up on a ticket: 1 supervision, 2 management, 3 ombudsman
(`Ticket.escalation_level`, 0 = not escalated). A rule's level fires once per ticket (the partial
unique index on SLA-triggered records makes that hold even when two sweeps run at once); agents and
customers can escalate by hand, and a supervisor's "de-escalate" decision lowers the level again.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import now
from ..core.models import TimestampMixin
from ..extensions import db

if TYPE_CHECKING:
    from ..accounts.models import Department, User
    from ..tickets.models import Ticket

LEVELS = (1, 2, 3)
OMBUDSMAN_LEVEL = 3
LEVEL_LABELS = {
    0: _l("Not escalated"),
    1: _l("Supervision"),
    2: _l("Management"),
    3: _l("Ombudsman"),
}

RULE_TRIGGERS = ("elapsed", "after_breach")
RULE_TRIGGER_LABELS = {
    "elapsed": _l("Share of the target elapsed"),
    "after_breach": _l("After the breach"),
}

TRIGGERS = ("sla", "agent", "customer")
TRIGGER_LABELS = {"sla": _l("Deadline"), "agent": _l("Agent"), "customer": _l("Customer")}

# why an agent escalates by hand
AGENT_REASONS = (
    "legal_threat",
    "repeated_contact",
    "key_account",
    "complex_case",
    "needs_authority",
    "other",
)
# every reason code an escalation can carry (agent reasons, customer reasons, SLA targets)
REASON_LABELS = {
    "legal_threat": _l("Legal threat (Procon, court, regulator)"),
    "repeated_contact": _l("Repeated contact about the same problem"),
    "key_account": _l("Key account"),
    "complex_case": _l("Complex case"),
    "needs_authority": _l("Needs a decision above the agent"),
    "other": _l("Other"),
    "not_resolved": _l("The customer says it was not resolved"),
    "deadline_passed": _l("The customer escalated after the deadline"),
    "first_response": _l("First response deadline"),
    "next_response": _l("Next response deadline"),
    "resolution": _l("Resolution deadline"),
}

DECISIONS = ("instruct", "reassign", "change_priority", "de_escalate", "investigate")
DECISION_LABELS = {
    "instruct": _l("Instruct the agent"),
    "reassign": _l("Reassign"),
    "change_priority": _l("Change priority"),
    "de_escalate": _l("De-escalate"),
    "investigate": _l("Open an investigation"),
}

ESCALATION_STATES = ("open", "acknowledged", "closed")
STATE_LABELS = {
    "open": _l("Waiting for acknowledgement"),
    "acknowledged": _l("Acknowledged"),
    "closed": _l("Decided"),
}


class EscalationRule(TimestampMixin, db.Model):
    """A level that fires for tickets matching the conditions (None = any) when `percent` of a
    target has elapsed (trigger "elapsed") or `offset_minutes` after its breach ("after_breach")."""

    __tablename__ = "escalation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # conditions
    kind: Mapped[str | None] = mapped_column(sa.String(20))
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE")
    )
    priority: Mapped[int | None] = mapped_column()
    target: Mapped[str] = mapped_column(sa.String(20))
    # when
    trigger: Mapped[str] = mapped_column(sa.String(20))
    percent: Mapped[int | None] = mapped_column()
    offset_minutes: Mapped[int | None] = mapped_column()
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    # actions
    notify_assignee: Mapped[bool] = mapped_column(default=True)
    notify_supervisors: Mapped[bool] = mapped_column(default=True)
    notify_user_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    set_priority: Mapped[int | None] = mapped_column()
    reassign_department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="SET NULL")
    )
    reassign_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    to_ombudsman: Mapped[bool] = mapped_column(default=False)
    ack_minutes: Mapped[int] = mapped_column(default=240)

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    reassign_department: Mapped[Department | None] = relationship(
        foreign_keys=[reassign_department_id]
    )
    reassign_user: Mapped[User | None] = relationship()


class Escalation(db.Model):
    """One escalation of one ticket: raised, acknowledged, decided (closed)."""

    __tablename__ = "escalations"
    __table_args__ = (
        # a rule's level fires once per ticket, even with two sweeps at once
        sa.Index(
            "uq_escalations_sla_level",
            "ticket_id",
            "level",
            unique=True,
            sqlite_where=sa.text("trigger = 'sla'"),
            postgresql_where=sa.text("trigger = 'sla'"),
        ),
        sa.Index("ix_escalations_ticket", "ticket_id", "id"),
        # the supervisors' queue: undecided ones by acknowledgement deadline
        sa.Index("ix_escalations_queue", "closed_at", "acknowledged_at", "ack_due_at", "id"),
        sa.Index("ix_escalations_department", "department_id", "closed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    previous_level: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    trigger: Mapped[str] = mapped_column(sa.String(20))  # sla | agent | customer
    target: Mapped[str | None] = mapped_column(sa.String(20))  # the SLA target, for "sla"
    rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("escalation_rules.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # the department the ticket was in when it was escalated (whose supervisors must answer)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"))
    raised_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    raised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    ack_due_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    decision: Mapped[str | None] = mapped_column(sa.String(20))
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    ticket: Mapped[Ticket] = relationship()
    department: Mapped[Department] = relationship()
    rule: Mapped[EscalationRule | None] = relationship()
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def state(self) -> str:
        if self.closed_at is not None:
            return "closed"
        return "acknowledged" if self.acknowledged_at is not None else "open"


class Notification(db.Model):
    """An in-app notification for a staff member (the bell in the console)."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    escalation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("escalations.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(sa.String(30))  # escalated
    level: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    ticket: Mapped[Ticket | None] = relationship()
    escalation: Mapped[Escalation | None] = relationship()
