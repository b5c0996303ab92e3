"""The form of the macro management screen (console → Macros): name, scope, the three reply
texts and the actions. The choices (departments, people) are filled by the view; the rules
(allowed placeholders, who may use which scope, a transfer's reason) are the macro services'."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..macros.services import MAX_BODY, MAX_NAME

# a service's error names the field as the API does ("actions.status"); the form's own name
SERVICE_FIELDS = {
    "actions.status": "status",
    "actions.priority": "priority",
    "actions.assignee_id": "assignee_id",
    "actions.department_id": "department_id",
    "actions.transfer_reason": "transfer_reason",
    "actions.note": "note",
    "actions.tags": "tags",
}


class MacroForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=MAX_NAME)])
    scope = SelectField(_l("Who uses it"), choices=[])
    department = SelectField(_l("Department of the macro"), choices=[], validators=[Optional()])
    body_pt_br = TextAreaField(_l("Reply in Portuguese"), validators=[Length(max=MAX_BODY)])
    body_es = TextAreaField(_l("Reply in Spanish"), validators=[Length(max=MAX_BODY)])
    body_en = TextAreaField(_l("Reply in English"), validators=[Length(max=MAX_BODY)])
    status = SelectField(_l("Status"), choices=[], validators=[Optional()])
    priority = SelectField(_l("Priority"), choices=[], validators=[Optional()])
    assignee_id = SelectField(_l("Assign to"), choices=[], validators=[Optional()])
    department_id = SelectField(_l("Transfer to"), choices=[], validators=[Optional()])
    transfer_reason = StringField(
        _l("Reason for the transfer"), validators=[Optional(), Length(max=1000)]
    )
    tags = StringField(_l("Add tags"), validators=[Optional(), Length(max=600)])
    note = TextAreaField(_l("Internal note"), validators=[Optional(), Length(max=MAX_BODY)])
    active = BooleanField(_l("Active (agents can apply it)"), default=True)
    protocol = StringField(_l("Preview against a demand"), validators=[Optional(), Length(max=40)])

    def actions(self) -> dict:
        """The actions as the macro services take them (absent: nothing changes)."""
        return {
            "status": self.status.data or None,
            "priority": self.priority.data or None,
            "assignee_id": self.assignee_id.data or None,
            "department_id": self.department_id.data or None,
            "transfer_reason": self.transfer_reason.data or "",
            "tags": [t for t in (self.tags.data or "").split(",") if t.strip()],
            "note": self.note.data or "",
        }

    def load(self, macro) -> None:
        """Fill the fields from a saved macro (GET of the edit page)."""
        actions = macro.actions or {}
        self.name.data = macro.name
        self.scope.data = macro.scope
        self.department.data = str(macro.department_id or "")
        self.body_pt_br.data = macro.body_pt_br
        self.body_es.data = macro.body_es
        self.body_en.data = macro.body_en
        self.status.data = actions.get("status") or ""
        self.priority.data = actions.get("priority") or ""
        self.assignee_id.data = str(actions.get("assignee_id") or "")
        self.department_id.data = str(actions.get("department_id") or "")
        self.transfer_reason.data = actions.get("transfer_reason") or ""
        self.tags.data = ", ".join(actions.get("tags") or [])
        self.note.data = actions.get("note") or ""
        self.active.data = macro.active
