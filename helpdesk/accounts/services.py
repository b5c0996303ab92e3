"""Account operations: users, departments, passwords, API tokens, reset and guest links."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..core.clock import now
from ..core.errors import Conflict, NotFound, ValidationError
from ..core.tokens import hash_token, new_token
from ..extensions import db
from .models import ROLES, ApiToken, Department, OneTimeToken, User, memberships
from .passwords import is_common
from .sessions import revoke_user_sessions
from .tokens import issue_guest_link
from .tokens import issue_one_time as _issue_one_time

log = logging.getLogger(__name__)

MIN_PASSWORD = 8
_DUMMY_HASH = None


def _check_password_policy(password: str, *, field: str = "password") -> None:
    """Length, then the shipped list of breached passwords (PASSWORD_LIST_CHECK)."""
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(_l("The password must have at least 8 characters."), field=field)
    if len(password) > 200:
        raise ValidationError(_l("The password is too long."), field=field)
    if current_app.config.get("PASSWORD_LIST_CHECK", True) and is_common(password):
        raise ValidationError(
            _l(
                "This password is on the list of passwords known from data breaches and tried "
                "first by attackers. Please choose another one."
            ),
            field=field,
        )


def normalize_user_email(email: str) -> str:
    from ..customers.services import normalize_email

    return normalize_email(email)


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == (email or "").strip().lower()))


def create_user(
    *,
    email: str,
    name: str,
    role: str = "customer",
    password: str | None = None,
    departments: list[Department] | None = None,
    locale: str | None = None,
    verified: bool = True,
    known_password: bool = False,
) -> User:
    """A new user. `known_password`: the demo loader's published passwords skip the list of
    breached passwords (they are on it); everything else is checked."""
    email = normalize_user_email(email)
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise ValidationError(_l("Please give a name of at most 200 characters."), field="name")
    if role not in ROLES:
        raise ValidationError(_l("Unknown role."), field="role")
    if get_user_by_email(email):
        raise Conflict(_l("A user with this email already exists."), field="email")
    user = User(email=email, name=name, role=role, locale=locale)
    if password is not None:
        if known_password:
            if len(password) < MIN_PASSWORD:
                raise ValidationError(
                    _l("The password must have at least 8 characters."), field="password"
                )
        else:
            _check_password_policy(password)
        user.set_password(password)
    if verified:
        user.email_verified_at = now()
    if departments:
        user.departments = list(departments)
    db.session.add(user)
    db.session.flush()
    log.info("User %s created (role %s)", user.id, role)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user if the password matches an active, verified account; same cost either way."""
    global _DUMMY_HASH
    user = get_user_by_email(email)
    if user is None or not user.password_hash:
        from werkzeug.security import check_password_hash, generate_password_hash

        if _DUMMY_HASH is None:
            _DUMMY_HASH = generate_password_hash("not-a-password")
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.check_password(password or ""):
        return None
    return user


def record_login(user: User) -> None:
    user.last_login_at = now()
    log.info("User %s signed in", user.id)


def change_password(user: User, current: str, new: str, *, keep_session: str | None = None) -> None:
    """A new password; every other session of the user ends (`keep_session`: the current one)."""
    if not user.check_password(current or ""):
        raise ValidationError(_l("The current password is not correct."), field="current_password")
    _check_password_policy(new, field="new_password")
    user.set_password(new)
    revoke_user_sessions(user, keep=keep_session)
    db.session.flush()
    log.info("User %s changed their password (other sessions ended)", user.id)


def set_user_active(user: User, active: bool) -> None:
    """Deactivating ends every session at once (and API tokens stop working while inactive)."""
    user.active = active
    if not active:
        revoke_user_sessions(user)
    db.session.flush()
    log.info("User %s %s", user.id, "activated" if active else "deactivated")


def update_user(
    user: User,
    *,
    name: str | None = None,
    role: str | None = None,
    departments: list[Department] | None = None,
    locale: str | None = None,
    timezone: str | None = None,
) -> User:
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > 200:
            raise ValidationError(_l("Please give a name of at most 200 characters."), field="name")
        user.name = name
    if role is not None:
        if role not in ROLES:
            raise ValidationError(_l("Unknown role."), field="role")
        user.role = role
    if departments is not None:
        user.departments = list(departments)
    if locale is not None:
        user.locale = locale or None
    if timezone is not None:
        user.timezone = timezone or None
    db.session.flush()
    log.info("User %s updated (role %s)", user.id, user.role)
    return user


# departments -------------------------------------------------------------------------------


def default_department() -> Department:
    dept = db.session.scalar(
        sa.select(Department).where(Department.is_default.is_(True), Department.active.is_(True))
    )
    if dept is None:
        dept = db.session.scalar(
            sa.select(Department).where(Department.active.is_(True)).order_by(Department.id)
        )
    if dept is None:
        raise NotFound(_l("No department is configured yet."))
    return dept


def department_supervisors(department_id: int | None) -> list[User]:
    """The active supervisors of a department, oldest account first (none without a department)."""
    if department_id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(User)
            .join(memberships, memberships.c.user_id == User.id)
            .where(
                memberships.c.department_id == department_id,
                User.role == "supervisor",
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def create_department(
    *, name: str, description: str = "", is_default: bool = False, is_ombudsman: bool = False
) -> Department:
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise ValidationError(_l("Please give a name of at most 120 characters."), field="name")
    if db.session.scalar(sa.select(Department.id).where(Department.name == name)):
        raise Conflict(_l("A department with this name already exists."), field="name")
    dept = Department(
        name=name, description=description[:500], is_default=is_default, is_ombudsman=is_ombudsman
    )
    db.session.add(dept)
    db.session.flush()
    log.info("Department %s created", dept.id)
    if is_default:
        _make_only_default(dept)
    return dept


def update_department(
    dept: Department,
    *,
    name: str,
    description: str,
    is_default: bool,
    is_ombudsman: bool,
    active: bool,
    members: list[User] | None = None,
) -> Department:
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise ValidationError(_l("Please give a name of at most 120 characters."), field="name")
    clash = db.session.scalar(
        sa.select(Department.id).where(Department.name == name, Department.id != dept.id)
    )
    if clash:
        raise Conflict(_l("A department with this name already exists."), field="name")
    if dept.is_default and not (is_default and active):
        raise ValidationError(
            _l("Choose another default department first; this one is the default."),
            field="is_default",
        )
    dept.name, dept.description = name, description[:500]
    dept.is_default, dept.is_ombudsman, dept.active = is_default, is_ombudsman, active
    if members is not None:
        dept.members = [m for m in members if m.is_staff]
    db.session.flush()
    log.info("Department %s updated (%s)", dept.id, "active" if active else "inactive")
    if is_default:
        _make_only_default(dept)
    return dept


def _make_only_default(dept: Department) -> None:
    db.session.execute(
        sa.update(Department).where(Department.id != dept.id).values(is_default=False)
    )


# API tokens --------------------------------------------------------------------------------


def issue_api_token(user: User, name: str = "") -> str:
    raw = new_token("hd_")
    db.session.add(ApiToken(user_id=user.id, name=name[:120], token_hash=hash_token(raw)))
    db.session.flush()
    log.info("API token issued for user %s", user.id)
    return raw


def user_for_api_token(raw: str) -> User | None:
    if not raw or len(raw) > 200:
        return None
    # one statement: the owner joined to the token (every API request starts here)
    user = db.session.scalar(
        sa.select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None))
    )
    if user is None or not user.active:
        return None
    return user


# one-time tokens ---------------------------------------------------------------------------


def _redeem(purpose: str, raw: str) -> OneTimeToken:
    if (
        not raw
        or len(raw) < 32
        or len(raw) > 200
        or not raw.replace("-", "").replace("_", "").isalnum()
    ):
        raise ValidationError(_l("This link is not valid or has expired."))
    token = db.session.scalar(
        sa.select(OneTimeToken).where(
            OneTimeToken.token_hash == hash_token(raw), OneTimeToken.purpose == purpose
        )
    )
    if token is None or not token.is_usable():
        raise ValidationError(_l("This link is not valid or has expired."))
    return token


def request_password_reset(email: str) -> None:
    """Queue a reset email when the account exists; the caller answers the same either way."""
    from ..notifications.services import notify_password_reset

    user = get_user_by_email(email)
    if user is None or not user.active:
        log.info("password reset asked for unknown or inactive account")
        return
    raw = _issue_one_time("reset", current_app.config["RESET_TOKEN_HOURS"], user_id=user.id)
    notify_password_reset(user, raw)
    log.info("Password reset link sent to user %s", user.id)


def check_reset_token(raw: str) -> User:
    token = _redeem("reset", raw)
    return db.session.get(User, token.user_id)


def reset_password(raw: str, new_password: str) -> User:
    token = _redeem("reset", raw)
    _check_password_policy(new_password)
    user = db.session.get(User, token.user_id)
    user.set_password(new_password)
    revoke_user_sessions(user)  # whoever knew the old password is signed out everywhere
    user.email_verified_at = user.email_verified_at or now()  # they proved they read the mailbox
    token.used_at = now()
    db.session.execute(
        sa.update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == "reset",
            OneTimeToken.used_at.is_(None),
        )
        .values(revoked_at=now())
    )
    db.session.flush()
    log.info("User %s reset their password", user.id)
    return user


def sign_up_customer(*, name: str, email: str, password: str, locale: str | None = None) -> User:
    """Create a customer login; it works once the emailed link confirms the address."""
    from ..notifications.services import notify_verify_email

    _check_password_policy(password)
    user = create_user(
        email=email, name=name, role="customer", password=password, locale=locale, verified=False
    )
    raw = _issue_one_time("verify", 72, user_id=user.id)
    notify_verify_email(user, raw)
    log.info("Customer login %s signed up (unverified)", user.id)
    return user


def resend_verification(email: str) -> None:
    """Queue a new confirmation link for an active, unconfirmed account; silent otherwise."""
    from ..notifications.services import notify_verify_email

    user = get_user_by_email(email)
    if user is None or not user.active or user.email_verified_at is not None:
        return
    raw = _issue_one_time("verify", 72, user_id=user.id)
    notify_verify_email(user, raw)
    log.info("Verification link sent again to user %s", user.id)


def verify_email(raw: str) -> User:
    """Confirm the address and link (or create) the customer record that owns it."""
    token = _redeem("verify", raw)
    user = db.session.get(User, token.user_id)
    token.used_at = now()
    user.email_verified_at = now()
    link_customer_record(user)
    log.info("User %s verified their email", user.id)
    return user


def link_customer_record(user: User):
    """A customer login sees the demands of the customer record with its (verified) email:
    link that record, or create one when the email is new."""
    from ..customers.services import create_customer, find_customer_by_email

    customer = find_customer_by_email(user.email)
    if customer is None:
        customer = create_customer(
            name=user.name, email=user.email, user_id=user.id, locale=user.locale
        )
    elif customer.user_id is None:
        customer.user_id = user.id
    elif customer.user_id != user.id:
        raise Conflict(_l("This email already belongs to another account."))
    db.session.flush()
    log.info("User %s linked to customer %s", user.id, customer.id)
    return customer


def customer_record_for(user: User):
    from ..customers.models import Customer

    return db.session.scalar(sa.select(Customer).where(Customer.user_id == user.id))


def request_guest_link(protocol: str, email: str) -> None:
    """Email a one-time link to the ticket when the email is the customer's; silent otherwise."""
    from ..customers.models import CustomerEmail
    from ..notifications.services import notify_guest_link
    from ..tickets.models import Ticket
    from ..tickets.protocol import normalize

    email = (email or "").strip().lower()
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.protocol == normalize(protocol)))
    if ticket is None:
        return
    owns = db.session.scalar(
        sa.select(CustomerEmail.id).where(
            CustomerEmail.customer_id == ticket.customer_id, CustomerEmail.email == email
        )
    )
    if not owns:
        return
    notify_guest_link(ticket, email, issue_guest_link(ticket, email))
    log.info("Guest link to ticket %s sent", ticket.protocol)


def guest_grant_email(grant_id: int | None) -> str | None:
    grant = db.session.get(OneTimeToken, grant_id) if grant_id else None
    return grant.email if grant is not None and grant.purpose == "guest" else None


def redeem_guest_link(raw: str):
    """Use a guest link once: it becomes this browser's grant to the ticket, valid for
    GUEST_ACCESS_HOURS from now unless revoked. Returns the grant (its id goes in the session,
    and every request checks it again with `valid_guest_grants`)."""
    token = _redeem("guest", raw)
    at = now()
    token.used_at = at
    token.expires_at = at + timedelta(hours=current_app.config["GUEST_ACCESS_HOURS"])
    db.session.flush()
    log.info("Guest link %s redeemed for ticket %s", token.id, token.ticket_id)
    return token


def grant_guest_access(ticket, email: str) -> OneTimeToken:
    """A grant for the browser that just registered `ticket` (no link to click: it is already
    used). Same row, same checks and same revocation as a redeemed guest link."""
    at = now()
    grant = OneTimeToken(
        purpose="guest",
        token_hash=hash_token(new_token()),  # never shown: nothing can redeem it
        ticket_id=ticket.id,
        email=email,
        used_at=at,
        expires_at=at + timedelta(hours=current_app.config["GUEST_ACCESS_HOURS"]),
    )
    db.session.add(grant)
    db.session.flush()
    log.info("Guest access %s granted to ticket %s", grant.id, ticket.protocol)
    return grant


def valid_guest_grants(grant_ids) -> dict[int, int]:
    """{grant id: ticket id} for the grants that still hold: redeemed, not revoked, not expired.

    A session only carries grant ids; the database decides on every request, so revoking or
    expiring a grant ends the access of a cookie that still names it."""
    ids = [i for i in grant_ids if isinstance(i, int) and not isinstance(i, bool)]
    ids = [i for i in ids if 1 <= i <= 2**31 - 1]
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(OneTimeToken.id, OneTimeToken.ticket_id).where(
            OneTimeToken.id.in_(ids),
            OneTimeToken.purpose == "guest",
            OneTimeToken.used_at.is_not(None),
            OneTimeToken.revoked_at.is_(None),
            OneTimeToken.expires_at > now(),
            OneTimeToken.ticket_id.is_not(None),
        )
    )
    return {grant_id: ticket_id for grant_id, ticket_id in rows}


def revoke_guest_links(ticket_id: int) -> int:
    """End every guest access to the ticket: links not yet opened and browsers that opened one."""
    result = db.session.execute(
        sa.update(OneTimeToken)
        .where(
            OneTimeToken.ticket_id == ticket_id,
            OneTimeToken.purpose == "guest",
            OneTimeToken.revoked_at.is_(None),
        )
        .values(revoked_at=now())
    )
    log.info("Guest access to ticket %s revoked: %s grant(s)", ticket_id, result.rowcount)
    return result.rowcount


def revoke_guest_grant(grant_id: int) -> None:
    """End one browser's guest access (the guest closing it on a shared computer)."""
    db.session.execute(
        sa.update(OneTimeToken)
        .where(
            OneTimeToken.id == grant_id,
            OneTimeToken.purpose == "guest",
            OneTimeToken.revoked_at.is_(None),
        )
        .values(revoked_at=now())
    )
    log.info("Guest access %s revoked", grant_id)
