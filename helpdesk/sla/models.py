"""Business calendars as stored: time zone, holiday source, weekly intervals and company holidays.

`services.load_calendar` turns a row into the pure `calendars.WorkingCalendar` that the arithmetic
uses. Interval times are wall-clock local times of the calendar's time zone; the database cannot
hold 24:00, so an interval that runs to midnight is stored with end 23:59:59.999999 (`time.max`),
which `load_calendar` reads back as 24:00. Round-the-clock calendars use `is_24x7`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TimestampMixin
from ..extensions import db

if TYPE_CHECKING:
    from ..tickets.models import Ticket


class BusinessCalendar(TimestampMixin, db.Model):
    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="America/Sao_Paulo")
    country: Mapped[str] = mapped_column(sa.String(2), default="BR")
    subdivision: Mapped[str | None] = mapped_column(sa.String(10))
    is_24x7: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    # bumped by every change of intervals or holidays: loaded calendars are cached per revision
    revision: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))

    intervals: Mapped[list[CalendarInterval]] = relationship(
        back_populates="calendar",
        cascade="all, delete-orphan",
        order_by="[CalendarInterval.weekday, CalendarInterval.start_time]",
    )
    holidays: Mapped[list[CalendarHoliday]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="CalendarHoliday.date"
    )


class CalendarInterval(db.Model):
    """One working interval [start_time, end_time) of a weekday (0 = Monday ... 6 = Sunday)."""

    __tablename__ = "calendar_intervals"
    __table_args__ = (
        sa.CheckConstraint("start_time < end_time", name="start_before_end"),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        sa.Index("ix_calendar_intervals_calendar", "calendar_id", "weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        sa.ForeignKey("business_calendars.id", ondelete="CASCADE")
    )
    weekday: Mapped[int] = mapped_column(sa.SmallInteger)
    start_time: Mapped[dt.time] = mapped_column(sa.Time)
    end_time: Mapped[dt.time] = mapped_column(sa.Time)

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="intervals")


class CalendarHoliday(db.Model):
    """A company date off (in addition to the country's and state's public holidays)."""

    __tablename__ = "calendar_holidays"
    __table_args__ = (
        sa.UniqueConstraint("calendar_id", "date", name="uq_calendar_holidays_calendar_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        sa.ForeignKey("business_calendars.id", ondelete="CASCADE")
    )
    date: Mapped[dt.date] = mapped_column(sa.Date)
    name: Mapped[str] = mapped_column(sa.String(120), default="")

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="holidays")


# SLA policies and the due instants they give each ticket ---------------------------------------

SLA_TARGETS = ("first_response", "next_response", "resolution")


class SlaPolicy(TimestampMixin, db.Model):
    """Which tickets get which targets: the first active policy (by `position`) whose conditions
    all match wins; a condition left empty matches everything. A target without minutes is not
    tracked; a target without a calendar counts calendar time (24x7)."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # conditions (None = any)
    kind: Mapped[str | None] = mapped_column(sa.String(20))
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE")
    )
    priority: Mapped[int | None] = mapped_column()
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE")
    )
    channel: Mapped[str | None] = mapped_column(sa.String(20))
    segment: Mapped[str | None] = mapped_column(sa.String(30))
    # the customer record's relationship (customer 360), as routing rules match it
    relationship_type: Mapped[str | None] = mapped_column(sa.String(30))
    lifecycle_stage: Mapped[str | None] = mapped_column(sa.String(20))
    value_tier: Mapped[str | None] = mapped_column(sa.String(10))
    # targets
    first_response_minutes: Mapped[int | None] = mapped_column()
    first_response_calendar_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("business_calendars.id")
    )
    next_response_minutes: Mapped[int | None] = mapped_column()
    next_response_calendar_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("business_calendars.id")
    )
    resolution_minutes: Mapped[int | None] = mapped_column()
    resolution_calendar_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("business_calendars.id")
    )
    pause_statuses: Mapped[list[str]] = mapped_column(sa.JSON, default=lambda: ["pending_customer"])
    resolution_is_legal: Mapped[bool] = mapped_column(default=False)

    first_response_calendar: Mapped[BusinessCalendar | None] = relationship(
        foreign_keys=[first_response_calendar_id]
    )
    next_response_calendar: Mapped[BusinessCalendar | None] = relationship(
        foreign_keys=[next_response_calendar_id]
    )
    resolution_calendar: Mapped[BusinessCalendar | None] = relationship(
        foreign_keys=[resolution_calendar_id]
    )


class TicketSla(db.Model):
    """One target of one ticket: when its clock started, when it is due, when it was met.

    The row carries what the sweep needs without the policy: the target's length in working
    seconds (`total_seconds`) and its calendar (None = 24x7). A paused row keeps `paused_at` and
    its old `due_at`; resuming moves `due_at` by the working time that was left. `next_check_at` is
    the next instant the escalation sweep must look at this row (an escalation level or the
    breach); None when there is nothing left to do (met, paused, or no level pending)."""

    __tablename__ = "ticket_slas"
    __table_args__ = (
        sa.UniqueConstraint("ticket_id", "target", name="uq_ticket_slas_ticket_target"),
        sa.Index("ix_ticket_slas_due_at", "due_at"),
        # "open targets due soonest" (the about-to-breach board, compliance): only unmet rows
        sa.Index(
            "ix_ticket_slas_open_due",
            "due_at",
            "ticket_id",
            sqlite_where=sa.text("met_at IS NULL"),
            postgresql_where=sa.text("met_at IS NULL"),
        ),
        # the sweep: rows whose next check has come, and only those (partial: most rows are done)
        sa.Index(
            "ix_ticket_slas_next_check",
            "next_check_at",
            sqlite_where=sa.text("next_check_at IS NOT NULL"),
            postgresql_where=sa.text("next_check_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    policy_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sla_policies.id", ondelete="SET NULL")
    )
    target: Mapped[str] = mapped_column(
        sa.String(20)
    )  # first_response | next_response | resolution
    started_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    due_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    met_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    breached_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    calendar_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("business_calendars.id", ondelete="SET NULL")
    )
    total_seconds: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    pausable: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    paused_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # working seconds spent paused so far: due = start + total_seconds + paused_seconds (working)
    paused_seconds: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    next_check_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))

    policy: Mapped[SlaPolicy | None] = relationship()
    ticket: Mapped[Ticket] = relationship()
