"""The survey pages a customer reaches from the email, without signing in.

A GET never records anything: mail scanners (Safe Links and the like) fetch every link of a
message, so a vote on GET would be cast by a robot. The page opens with the clicked rating already
chosen and a comment box; the customer's click on "Send" (a POST) records it, once.
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from ..core.clock import now
from ..core.unit import attempt
from ..extensions import limiter
from ..surveys.services import answer_survey, survey_for_token, usable
from .forms import optional_int
from .views import bp


class SurveyForm(FlaskForm):
    rating = RadioField(
        "",
        choices=[SelectChoice(n, str(n)) for n in range(5, 0, -1)],
        coerce=optional_int,
        validate_choice=False,
        validators=[
            InputRequired(message="rating"),
            AnyOf([1, 2, 3, 4, 5], message="rating"),
        ],
    )
    nps = RadioField(
        "",
        choices=[SelectChoice(n, str(n)) for n in range(11)],
        coerce=optional_int,
        validate_choice=False,
        validators=[Optional(), AnyOf(list(range(11)), message="nps")],
    )
    comment = TextAreaField("", validators=[Optional(), Length(max=4000, message="comment")])


def _unusable_page(reason: str, status: int):
    return render_template("portal/survey.html", survey=None, reason=reason), status


@bp.route("/survey/<token>", methods=["GET", "POST"])
@limiter.limit("30/minute")
def survey(token: str):
    found = survey_for_token(token)
    reason = usable(found)
    if reason:
        return _unusable_page(reason, 404 if reason == "invalid" else 410)
    form = SurveyForm()
    if request.method == "GET":
        picked = request.args.get("rating", type=int)
        form.rating.data = picked if picked in (1, 2, 3, 4, 5) else None
        return render_template("portal/survey.html", survey=found, form=form, reason=None)
    if not form.validate():
        return render_template(
            "portal/survey.html",
            survey=found,
            form=form,
            reason=None,
            error=_("Choose a rating from 1 to 5."),
        ), 422
    with attempt() as done:
        answer_survey(found, form.rating.data, nps=form.nps.data, comment=form.comment.data or "")
    if done.error:
        return _unusable_page("answered", 409)
    return render_template("portal/survey.html", survey=found, reason="thanks"), 200


@bp.route("/survey/<token>/opt-out", methods=["GET", "POST"])
@limiter.limit("30/minute")
def survey_opt_out(token: str):
    found = survey_for_token(token)
    if found is None:
        return _unusable_page("invalid", 404)
    form = FlaskForm()
    if request.method == "POST" and form.validate():
        customer = found.ticket.customer
        customer.surveys_opted_out_at = customer.surveys_opted_out_at or now()
        return render_template("portal/survey.html", survey=None, reason="opted_out")
    return render_template("portal/survey_opt_out.html", survey=found, form=form)
