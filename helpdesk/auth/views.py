"""Sign-in surface: login/logout, sign-up and email confirmation, password reset, the account page
and guest links (open one demand by protocol + email, without an account)."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, refresh
from flask_login import current_user, login_required, login_user, logout_user

from ..accounts import second_factor, sessions
from ..accounts import services as accounts
from ..core.errors import Conflict, DomainError, ValidationError
from ..core.forms import show_domain_error
from ..core.unit import attempt, rollback
from ..core.web import is_safe_next
from ..extensions import db, limiter
from ..tickets.models import Ticket
from . import pending
from .forms import (
    EndOtherSessionsForm,
    GuestAccessForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    ResendVerificationForm,
    ResetPasswordForm,
    ResetRequestForm,
    RevokeSessionForm,
    SignupForm,
)
from .guest import remember_guest_grant
from .throttle import login_per_account, password_change_per_user, per_account

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

CHECK_EMAIL_REASONS = {
    "signup": _l(
        "We sent you a link to confirm your email address. Open it to start using your account. "
        "If you already have an account, sign in or reset your password."
    ),
    "verify": _l(
        "If your account still needs to be confirmed, we sent a new confirmation link to this "
        "address."
    ),
    "reset": _l(
        "If an account exists for this email, we sent it a link to choose a new password. "
        "The link works once and expires in %(hours)s hours."
    ),
    "guest": _l(
        "If this email is the one registered with this demand, we sent it a link to open the "
        "demand. The link works once and expires in %(hours)s hours."
    ),
}


def home_for(user) -> str:
    """Where a user lands after signing in: staff in the console, customers in their demands."""
    if user.is_staff:
        return url_for("console.queue")
    return url_for("portal.my_demands")


def reset_session() -> None:
    """Drop everything in the session (and this request's cached CSRF token); keep the language."""
    locale = session.get("locale")
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    if locale:
        session["locale"] = locale


def current_session_key() -> str | None:
    """The raw id of this browser's server-side session (what Flask-Login keeps in the cookie)."""
    return session.get("_user_id")


def start_session(user) -> None:
    """A fresh session for a fresh login (no fixation): a new server-side session row (committed
    by the caller) whose random id is all the cookie carries."""
    if current_user.is_authenticated:  # signing in again from a signed-in browser
        sessions.revoke_session(current_session_key())
    reset_session()
    sessions.open_session(
        user,
        user_agent=request.headers.get("User-Agent", ""),
        ip=request.remote_addr or "",
    )
    login_user(user)


def end_session() -> None:
    """Revoke this browser's server-side session, then forget the cookie's contents."""
    if current_user.is_authenticated:
        sessions.revoke_session(current_session_key())
    logout_user()
    reset_session()


def _status(form) -> int:
    return 400 if request.method == "POST" and form.errors else 200


# login / logout -----------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
@login_per_account
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_for(current_user))
    form = LoginForm(next=request.args.get("next", ""))
    resend_form = None
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None or not user.active:
            form.form_errors.append(_("The email or the password is not correct."))
        elif user.role == "customer" and user.email_verified_at is None:
            form.form_errors.append(
                _(
                    "Please confirm your email address first: open the link we sent when you "
                    "signed up. Did not get it? We can send it again."
                )
            )
            resend_form = ResendVerificationForm(formdata=None, email=user.email)
        else:
            target = form.next.data or request.args.get("next")
            if second_factor.is_enrolled(user):  # the password is right; now the code
                pending.remember(user, target if is_safe_next(target) else "")
                return redirect(url_for("auth.second_factor"))
            accounts.record_login(user)
            start_session(user)
            return redirect(target if is_safe_next(target) else home_for(user))
    return render_template("auth/login.html", form=form, resend_form=resend_form), _status(form)


@bp.post("/logout")
def logout():
    end_session()
    flash(_("You signed out."), "success")
    return redirect(url_for("portal.home"))


# sign-up and email confirmation ---------------------------------------------------------------


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("5/minute;30/hour", methods=["POST"])
@per_account("SIGNUP_ACCOUNT_LIMITS")
def signup():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    from flask_babel import get_locale

    form = SignupForm(language=str(get_locale()))
    if form.validate_on_submit():
        try:
            accounts.sign_up_customer(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                locale=form.language.data,
            )
        except Conflict as exc:
            rollback()
            if exc.field != "email":
                show_domain_error(form, exc)
                return render_template("auth/signup.html", form=form), 400
            # the same answer as for a new address; an unconfirmed account gets its link again
            accounts.resend_verification(form.email.data)
        except DomainError as exc:
            rollback()
            show_domain_error(form, exc)
            return render_template("auth/signup.html", form=form), 400
        session["locale"] = form.language.data
        return redirect(url_for("auth.check_email", reason="signup"))
    return render_template("auth/signup.html", form=form), _status(form)


@bp.get("/verify/<token>")
def verify(token: str):
    try:
        user = accounts.verify_email(token)
        if user.active and not second_factor.is_enrolled(user):  # otherwise: sign in, code
            start_session(user)
    except ValidationError:
        rollback()
        return _invalid_link("verify")
    if not user.active:
        flash(_("Your email is confirmed, but this account is deactivated."), "warning")
        return redirect(url_for("auth.login"))
    flash(_("Your email is confirmed. Welcome!"), "success")
    return redirect(url_for("portal.my_demands"))


@bp.post("/resend-confirmation")
@limiter.limit("3/minute;10/hour")
@per_account("VERIFY_RESEND_ACCOUNT_LIMITS")
def resend_verification():
    form = ResendVerificationForm()
    if form.validate_on_submit():
        accounts.resend_verification(form.email.data)
    return redirect(url_for("auth.check_email", reason="verify"))


@bp.get("/check-email")
def check_email():
    reason = request.args.get("reason", "signup")
    if reason not in CHECK_EMAIL_REASONS:
        abort(404)
    hours = current_app.config["GUEST_LINK_HOURS" if reason == "guest" else "RESET_TOKEN_HOURS"]
    message = str(CHECK_EMAIL_REASONS[reason]) % {"hours": hours}
    return render_template("auth/check_email.html", reason=reason, message=message)


def _invalid_link(kind: str):
    form = GuestAccessForm(formdata=None) if kind == "guest" else None
    return render_template("auth/invalid_link.html", kind=kind, guest_form=form), 400


# password reset -------------------------------------------------------------------------------


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("5/minute;20/hour", methods=["POST"])
@per_account("RESET_ACCOUNT_LIMITS")
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        return redirect(url_for("auth.check_email", reason="reset"))
    return render_template("auth/reset_request.html", form=form), _status(form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def reset_password(token: str):
    try:
        user = accounts.check_reset_token(token)
    except ValidationError:
        rollback()
        return _invalid_link("reset")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
            if current_user.is_authenticated:
                end_session()
        except ValidationError as exc:
            rollback()
            if not exc.field:
                return _invalid_link("reset")
            show_domain_error(form, exc)
        else:
            flash(_("Your password was changed. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, user=user), _status(form)


# the account page -----------------------------------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@password_change_per_user
@login_required
def account():
    user = current_user._get_current_object()
    action = request.form.get("action") if request.method == "POST" else None
    if action not in (None, "profile", "password", "sessions", "revoke"):
        abort(400)
    profile = ProfileForm(
        formdata=None if action != "profile" else request.form,
        name=user.name,
        language=user.locale or session.get("locale") or "",
        timezone=user.timezone or "",
    )
    password = PasswordChangeForm(formdata=None if action != "password" else request.form)
    end_others = EndOtherSessionsForm(formdata=None if action != "sessions" else request.form)
    revoke = RevokeSessionForm(formdata=None if action != "revoke" else request.form)
    if action == "profile" and profile.validate_on_submit():
        with attempt() as done:
            accounts.update_user(
                user,
                name=profile.name.data,
                locale=profile.language.data,
                timezone=profile.timezone.data or "",
            )
        if done.error:
            show_domain_error(profile, done.error)
        else:
            session["locale"] = profile.language.data
            refresh()  # the next strings of this context in the new language
            flash(_("Your details were saved."), "success")
            return redirect(url_for("auth.account"))
    elif action == "password" and password.validate_on_submit():
        with attempt() as done:
            accounts.change_password(
                user,
                password.current_password.data,
                password.new_password.data,
                keep_session=current_session_key(),  # this session goes on, the others end
            )
        if done.error:
            show_domain_error(password, done.error)
        else:
            flash(
                _("Your password was changed. Other devices signed in with it were signed out."),
                "success",
            )
            return redirect(url_for("auth.account"))
    elif action == "sessions" and end_others.validate_on_submit():
        ended = sessions.revoke_user_sessions(user, keep=current_session_key())
        flash(
            ngettext(
                "%(num)d other session was signed out.",
                "%(num)d other sessions were signed out.",
                ended,
            ),
            "success",
        )
        return redirect(url_for("auth.account"))
    elif action == "revoke" and revoke.validate_on_submit():
        if revoke.session_id.data == sessions.session_id_of(current_session_key()):
            end_session()  # signing this browser out is the sign-out button
            flash(_("You signed out."), "success")
            return redirect(url_for("auth.login"))
        if not sessions.revoke_user_session(user, revoke.session_id.data or ""):
            abort(404)
        flash(_("That browser or device was signed out."), "success")
        return redirect(url_for("auth.account"))
    session_list = sessions.live_sessions(user)
    failed = action is not None and (
        profile.errors or password.errors or end_others.errors or revoke.errors
    )
    return render_template(
        "auth/account.html",
        profile=profile,
        password=password,
        end_others=end_others,
        revoke=revoke,
        session_list=session_list,
        live_sessions=len(session_list),
        this_session=sessions.session_id_of(current_session_key()),
        two_factor_on=second_factor.is_enrolled(user),
        two_factor_required=second_factor.required_for(user),
    ), 400 if failed else 200


# guest access to one demand -------------------------------------------------------------------


@bp.route("/guest", methods=["GET", "POST"])
@limiter.limit("5/minute;30/hour", methods=["POST"])
@per_account("GUEST_ACCOUNT_LIMITS")
def guest():
    form = GuestAccessForm(protocol=request.args.get("protocol", "")[:40])
    if form.validate_on_submit():
        accounts.request_guest_link(form.protocol.data, form.email.data)
        return redirect(url_for("auth.check_email", reason="guest"))
    return render_template("auth/guest.html", form=form), _status(form)


@bp.get("/guest/<token>")
def guest_redeem(token: str):
    try:
        grant = accounts.redeem_guest_link(token)
        protocol = db.session.get(Ticket, grant.ticket_id).protocol
    except ValidationError:
        rollback()
        return _invalid_link("guest")
    remember_guest_grant(grant)
    return redirect(url_for("portal.demand", protocol=protocol))
