"""Users, roles, departments, memberships, sign-in sessions, API tokens and one-time tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.clock import now
from ..core.models import TimestampMixin
from ..extensions import db

# integration: an API-only account for a phone system or a chat connector (never staff)
ROLES = ("customer", "agent", "supervisor", "admin", "integration")
STAFF_ROLES = ("agent", "supervisor", "admin")
ROLE_LABELS = {
    "customer": _l("Customer"),
    "agent": _l("Agent"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
    "integration": _l("Integration (API only)"),
}

memberships = sa.Table(
    "memberships",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "department_id", sa.ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Index("ix_memberships_department_id", "department_id"),
)


class Department(TimestampMixin, db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    is_default: Mapped[bool] = mapped_column(default=False)
    is_ombudsman: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    members: Mapped[list[User]] = relationship(
        secondary=memberships, back_populates="departments", order_by="User.name"
    )

    def __repr__(self) -> str:
        return f"<Department {self.name}>"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(20), default="customer", index=True)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    email_verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # two-factor sign-in (accounts/second_factor.py): the TOTP secret (base32), when enrolment was
    # confirmed (None: no second factor yet) and the last time step used (a code works once)
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    departments: Mapped[list[Department]] = relationship(
        secondary=memberships, back_populates="members", order_by="Department.name"
    )

    # the raw id of the sign-in session this object was loaded through (never stored), and when
    # that session passed the second factor (None: password only)
    session_key = None
    session_second_factor_at = None

    # Flask-Login keeps get_id() in the signed cookie: the random id of a UserSession row, so
    # revoking the row (logout, deactivation, a new password) makes the cookie worthless
    def get_id(self) -> str | None:
        return self.session_key

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_supervisor(self) -> bool:
        return self.role in ("supervisor", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def department_ids(self) -> list[int]:
        return [d.id for d in self.departments]

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(db.Model):
    """A signed-in browser. The cookie carries a random id (256 bits); the table keeps only its
    SHA-256, as the primary key, so one indexed lookup per request finds it. Logout, deactivation
    and a new password set revoked_at; a revoked or missing row signs the cookie's holder out."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # sha256 of the raw id
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    last_seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    # when this browser passed the second factor (None: password only)
    second_factor_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class RecoveryCode(db.Model):
    """A one-use code that stands in for the authenticator app; only its SHA-256 is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ApiToken(TimestampMixin, db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship()


class OneTimeToken(TimestampMixin, db.Model):
    """Password-reset and guest-access links: hashed, single use, expiring, revocable."""

    __tablename__ = "one_time_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))  # reset | guest | verify
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(sa.String(254))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def is_usable(self) -> bool:
        from ..core.clock import as_utc

        return self.used_at is None and self.revoked_at is None and as_utc(self.expires_at) > now()
