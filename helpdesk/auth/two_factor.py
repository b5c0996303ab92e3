"""Two-step sign-in pages: the code after the password, enrolment (QR code or typed secret, then
a code), recovery codes, and the gate that keeps the roles of HELPDESK_2FA_REQUIRED_ROLES out of
every page until their browser session passed the second factor.

The API is not behind this gate: it authenticates each request with a bearer token and ignores
the session cookie (api/auth.py). Its routes join the auth blueprint (loaded by the app factory).
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from ..accounts import second_factor
from ..accounts import services as accounts
from ..accounts.models import User
from ..core.forms import show_domain_error
from ..core.unit import attempt
from ..core.web import is_safe_next, wants_json
from ..extensions import db, limiter
from . import pending
from .forms import EnableTwoFactorForm, ManageTwoFactorForm, SecondFactorForm
from .throttle import _config, _failed
from .views import bp, current_session_key, home_for, start_session

_SETUP_KEY = "totp_setup"


def _code_key() -> str:
    """Code attempts count per account: the one signing in, or the signed-in one."""
    uid = pending.user_id() or getattr(current_user, "id", None)
    return f"2fa:{uid}"


def _code_locked() -> str:
    return _("Too many wrong codes. For your security, please wait a while before trying again.")


code_per_account = limiter.limit(
    _config("LOGIN_ACCOUNT_LIMITS"),
    key_func=_code_key,
    methods=["POST"],
    deduct_when=_failed,
    error_message=_code_locked,
)


def _next_target(default: str) -> str:
    target = request.args.get("next")
    return target if is_safe_next(target) else default


# the gate ---------------------------------------------------------------------------------------


@bp.before_app_request
def require_second_factor():
    """A signed-in browser of a role that needs the second factor goes no further than the sign-in
    pages until its session passed it (enrolment first, if the account has none yet)."""
    endpoint = request.endpoint or ""
    if endpoint in ("static", "set_language") or endpoint.startswith(("auth.", "api.")):
        return None
    if not current_user.is_authenticated or not second_factor.required_for(current_user):
        return None
    if current_user.session_second_factor_at is not None:
        return None
    if wants_json():
        abort(403)
    target = request.full_path.rstrip("?")
    if second_factor.is_enrolled(current_user):
        return redirect(url_for("auth.second_factor", next=target))
    told = _("Your role signs in in two steps. Set up your authenticator app to go on.")
    if ("warning", told) not in session.get("_flashes", []):  # once, however many requests
        flash(told, "warning")  # (the page's background polls are turned back here too)
    return redirect(url_for("auth.two_factor", next=target))


# the code after the password (or for a session that has not passed it yet) ---------------------


def _who() -> tuple[User | None, bool]:
    """(the account asking, whether it is already signed in with its password only)."""
    uid = pending.user_id()
    if uid is not None:
        user = db.session.get(User, uid)
        if user is not None and user.active and second_factor.is_enrolled(user):
            return user, False
        pending.forget()
    if (
        current_user.is_authenticated
        and current_user.session_second_factor_at is None
        and second_factor.is_enrolled(current_user)
    ):
        return current_user._get_current_object(), True
    return None, False


@bp.route("/login/second-factor", endpoint="second_factor", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
@code_per_account
def second_factor_step():
    user, signed_in = _who()
    if user is None:
        if current_user.is_authenticated:
            return redirect(home_for(current_user))
        flash(_("Please sign in again: the time to type the code ran out."), "warning")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        kind = second_factor.check_code(user, form.code.data)
        if kind is None:
            form.code.errors = [_("This code is not correct or was already used.")]
        else:
            if signed_in:
                target = _next_target(home_for(user))
            else:
                target = pending.target() or home_for(user)
                pending.forget()
                accounts.record_login(user)
                start_session(user)
            second_factor.mark_session(current_session_key())
            if kind == "recovery":
                left = second_factor.recovery_codes_left(user)
                flash(
                    ngettext(
                        "You used a recovery code; %(num)d is left. Make new ones on your "
                        "two-step sign-in page.",
                        "You used a recovery code; %(num)d are left. Make new ones on your "
                        "two-step sign-in page when they run low.",
                        left,
                    ),
                    "warning",
                )
            return redirect(target)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/second_factor.html", form=form, user=user), status


# enrolment and management ----------------------------------------------------------------------


def _show_codes(codes: list[str]):
    response = make_response(
        render_template("auth/recovery_codes.html", codes=codes, next=_next_target(""))
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/two-factor", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
@code_per_account
@login_required
def two_factor():
    user = current_user._get_current_object()
    if not user.is_staff:
        abort(404)
    action = request.form.get("action") if request.method == "POST" else None
    if action not in (None, "enable", "codes", "disable"):
        abort(400)
    required = second_factor.required_for(user)
    if not second_factor.is_enrolled(user):
        if action not in (None, "enable"):
            abort(400)
        secret = session.get(_SETUP_KEY) or second_factor.new_secret()
        session[_SETUP_KEY] = secret
        form = EnableTwoFactorForm(formdata=request.form if action else None)
        if action and form.validate_on_submit():
            with attempt() as done:
                codes = second_factor.enable(user, secret, form.code.data)
                second_factor.mark_session(current_session_key())
            if done.error:
                show_domain_error(form, done.error)
            else:
                session.pop(_SETUP_KEY, None)
                return _show_codes(codes)
        uri = second_factor.provisioning_uri(user, secret)
        # segno escapes the title; the rest of the SVG is numbers and path data it made itself
        qr = Markup(second_factor.qr_svg(uri, _("QR code to add this account to your app")))  # noqa: S704
        return render_template(
            "auth/two_factor.html",
            enrolled=False,
            form=form,
            secret=secret,
            grouped=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            qr=qr,
            required=required,
        ), 400 if action else 200
    codes_form = ManageTwoFactorForm(
        prefix="codes", formdata=request.form if action == "codes" else None
    )
    off_form = ManageTwoFactorForm(
        prefix="off", formdata=request.form if action == "disable" else None
    )
    form = codes_form if action == "codes" else off_form
    if action in ("codes", "disable") and form.validate_on_submit():
        if action == "disable" and required:
            form.form_errors.append(_("Your role signs in in two steps: it cannot be turned off."))
        elif second_factor.check_code(user, form.code.data) is None:
            form.code.errors = [_("This code is not correct or was already used.")]
        elif action == "codes":
            return _show_codes(second_factor.new_recovery_codes(user))
        else:
            second_factor.disable(user)
            flash(_("Two-step sign-in is off."), "success")
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/two_factor.html",
        enrolled=True,
        codes_form=codes_form,
        off_form=off_form,
        left=second_factor.recovery_codes_left(user),
        required=required,
    ), 400 if action else 200
