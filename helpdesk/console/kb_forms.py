"""Forms of the console's knowledge-base pages: the article editor, status moves, images, the
known-problem notice of an investigation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..kb.models import LANGUAGE_LABELS, STATUS_LABELS, VISIBILITY_LABELS
from .forms import opts


def _category(value):
    if value in (None, ""):
        return None
    return int(value)


class ArticleForm(FlaskForm):
    language = SelectField(_l("Language"), choices=opts(LANGUAGE_LABELS.items()))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = StringField(
        _l("Summary (one line shown in lists)"), validators=[Optional(), Length(max=300)]
    )
    body = TextAreaField(_l("Article"), validators=[DataRequired(), Length(max=200_000)])
    category = SelectField(_l("Topic"), coerce=_category, validators=[Optional()])
    tags = StringField(_l("Tags (comma separated)"), validators=[Optional(), Length(max=500)])
    visibility = SelectField(_l("Who may read it"), choices=opts(VISIBILITY_LABELS.items()))
    status = SelectField(
        _l("Status"),
        choices=opts((s, STATUS_LABELS[s]) for s in ("draft", "review")),
        default="draft",
    )
    note = StringField(
        _l("What changed (kept in the history)"), validators=[Optional(), Length(max=300)]
    )


class ArticleStatusForm(FlaskForm):
    status = SelectField(_l("Move to"), choices=opts(STATUS_LABELS.items()))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])


class ImageForm(FlaskForm):
    image = FileField(_l("Image (PNG, JPEG, GIF, WebP)"))


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""


class KnownProblemForm(FlaskForm):
    expected_fix_on = DateField(_l("Fix expected on"), validators=[Optional()])


FIELD_LABELS = {
    "title": _l("Title"),
    "affected": _l("What is affected"),
    "workaround": _l("What customers can do meanwhile"),
    "expected_fix": _l("When we expect to fix it"),
}
for _lang in LANGUAGE_LABELS:
    for _name, _label in FIELD_LABELS.items():
        _field = (
            StringField(_label, validators=[Optional(), Length(max=200)])
            if _name == "title"
            else TextAreaField(_label, validators=[Optional(), Length(max=4000)])
        )
        setattr(KnownProblemForm, f"{_lang}_{_name}", _field)
