"""Staff two-factor sign-in: TOTP (RFC 6238, pyotp) and one-use recovery codes.

The secret is stored on the user (base32) once enrolment is confirmed with a code; a code is
accepted for the current 30-second step and one step either side, and only if its step is later
than the last one used (`users.totp_last_step`, moved by one conditional UPDATE, so a code works
once even for two requests at the same instant). Ten recovery codes are made at enrolment and on
demand; only their SHA-256 is stored, and each works once. A browser session that passed the second
factor carries `user_sessions.second_factor_at`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..core.clock import now
from ..core.errors import ValidationError
from ..core.tokens import hash_token
from ..extensions import db
from .models import RecoveryCode, User, UserSession

log = logging.getLogger(__name__)

ISSUER = "SAC"
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_DIGITS = re.compile(r"\d{6}")


def required_for(user: User) -> bool:
    """Whether this user's role must pass the second factor (HELPDESK_2FA_REQUIRED_ROLES)."""
    return user.is_staff and user.role in current_app.config.get("TWO_FACTOR_REQUIRED_ROLES", [])


def is_enrolled(user: User) -> bool:
    return user.totp_enabled_at is not None and bool(user.totp_secret)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str, title: str) -> str:
    """The otpauth URI as an inline SVG QR code (made here: no outside service sees the secret)."""
    return segno.make(uri, error="m").svg_inline(
        scale=5, title=title, svgclass="qr", omitsize=False
    )


def _clean_code(code: str) -> str:
    return re.sub(r"[\s-]", "", (code or "")).lower()


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step (now ± 1) whose code is `code` and which is later than `after`."""
    code = _clean_code(code)
    if not _DIGITS.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(time.time()) // totp.interval
    for step in (current - 1, current, current + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(user: User, step: int) -> bool:
    """Record `step` as used, if no request used it (or a later one) first."""
    result = db.session.execute(
        sa.update(User)
        .where(
            User.id == user.id,
            sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        user.totp_last_step = step
        return True
    return False


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_clean_code(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh recovery codes (the old ones stop working); shown once, stored as SHA-256."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(c)) for c in codes)
    db.session.flush()
    log.info("New recovery codes for user %s", user.id)
    return codes


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def enable(user: User, secret: str, code: str) -> list[str]:
    """Confirm enrolment with a code of the new secret; returns the recovery codes."""
    step = _matching_step(secret, code, None)
    if step is None:
        raise ValidationError(
            _l("This code does not match. Check the time on your phone and type the newest code."),
            field="code",
        )
    user.totp_secret = secret
    user.totp_enabled_at = now()
    user.totp_last_step = step
    db.session.flush()
    log.info("User %s turned on two-factor sign-in", user.id)
    return new_recovery_codes(user)


def disable(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
    log.info("User %s turned off two-factor sign-in", user.id)


def check_code(user: User, code: str) -> str | None:
    """ "totp" or "recovery" when `code` is a valid, unused code of this user (and uses it up);
    None otherwise."""
    if not is_enrolled(user):
        return None
    step = _matching_step(user.totp_secret, code, user.totp_last_step)
    if step is not None and _use_step(user, step):
        return "totp"
    cleaned = _clean_code(code)
    if len(cleaned) == 10 and not cleaned.isdigit():
        result = db.session.execute(
            sa.update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash_recovery(cleaned),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            log.info("User %s signed in with a recovery code", user.id)
            return "recovery"
    return None


def mark_session(raw_session_key: str | None) -> None:
    """This browser session passed the second factor."""
    if not raw_session_key:
        return
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.id == hash_token(raw_session_key))
        .values(second_factor_at=now())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
