"""Business calendars as stored: time zone, holiday source, weekly intervals and company holidays.

`services.load_calendar` turns a row into the pure `calendars.WorkingCalendar` that the arithmetic
uses. Interval times are wall-clock local times of the calendar's time zone; the database cannot
hold 24:00, so an interval that runs to midnight is stored with end 23:59:59.999999 (`time.max`),
which `load_calendar` reads back as 24:00. Round-the-clock calendars use `is_24x7`.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import TimestampMixin
from ..extensions import db


class BusinessCalendar(TimestampMixin, db.Model):
    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="America/Sao_Paulo")
    country: Mapped[str] = mapped_column(sa.String(2), default="BR")
    subdivision: Mapped[str | None] = mapped_column(sa.String(10))
    is_24x7: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

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
