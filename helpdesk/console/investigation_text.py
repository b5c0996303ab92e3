"""What the investigation pages say: field labels and one sentence per history event.

Presenter text only (no query, no request): the detail page's history turns each
`InvestigationEvent` into a sentence in the user's language with `describe`.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..investigations.models import ISHIKAWA_LABELS, LEVEL_LABELS, STATUS_LABELS, VERDICT_LABELS

FIELD_LABELS = {
    "title": _l("Title"),
    "statement": _l("Problem statement"),
    "location": _l("Where"),
    "since": _l("Since when"),
    "customers_affected": _l("Customers affected"),
    "estimated_cost": _l("Estimated cost"),
    "impact": _l("Impact"),
    "urgency": _l("Urgency"),
    "owner": _l("Owner"),
    "department": _l("Team"),
    "category": _l("Category"),
    "keywords": _l("Keywords"),
    "containment": _l("Containment or workaround"),
    "ishikawa": _l("Ishikawa category"),
    "subcategory": _l("Sub-category"),
    "root_cause": _l("Root cause"),
    "evidence": _l("Evidence"),
    "metric": _l("Metric"),
    "baseline": _l("Baseline"),
    "target": _l("Target"),
    "check_on": _l("Date of the check"),
    "result": _l("Result"),
    "verdict": _l("Verdict"),
    "notice_pt_br": _l("Message in Portuguese (Brazil)"),
    "notice_es": _l("Message in Spanish"),
    "notice_en": _l("Message in English"),
}

EVENT_SENTENCES = {
    "created": _l("%(who)s opened the investigation."),
    "linked": _l("%(who)s linked demand %(new)s."),
    "recurrence": _l("%(who)s linked demand %(new)s after closing: a recurrence."),
    "unlinked": _l("%(who)s unlinked demand %(old)s."),
    "status": _l("%(who)s changed the status from %(old)s to %(new)s."),
    "why_added": _l("%(who)s added a why."),
    "why_proposed": _l("%(who)s proposed a why."),
    "why_accepted": _l("%(who)s accepted a proposed why."),
    "why_removed": _l("%(who)s removed a why."),
    "action_added": _l("%(who)s planned an action."),
    "action_proposed": _l("%(who)s proposed an action."),
    "action_accepted": _l("%(who)s accepted a proposed action."),
    "action_rejected": _l("%(who)s rejected a proposed action."),
    "action_cancelled": _l("%(who)s cancelled an action."),
    "action_done": _l("%(who)s marked an action done."),
    "action_overdue_notified": _l("The owner of an overdue action was notified."),
    "customers_notified": _l("%(who)s told the affected customers (%(new)s messages)."),
}


def describe(event) -> str:
    who = event.actor.name if event.actor else _("The system")
    if event.action == "updated":
        field = str(FIELD_LABELS.get(event.field, event.field))
        if event.old_value is None and event.new_value is None:
            return _("%(who)s changed “%(field)s”.", who=who, field=field)
        old, new = event.old_value, event.new_value
        if event.field == "ishikawa":
            old, new = ISHIKAWA_LABELS.get(old, old), ISHIKAWA_LABELS.get(new, new)
        if event.field in ("impact", "urgency"):
            old = LEVEL_LABELS.get(int(old), old) if old else old
            new = LEVEL_LABELS.get(int(new), new) if new else new
        if event.field == "verdict":
            old, new = VERDICT_LABELS.get(old, old), VERDICT_LABELS.get(new, new)
        return _(
            "%(who)s changed “%(field)s” from %(old)s to %(new)s.",
            who=who,
            field=field,
            old=old or "—",
            new=new or "—",
        )
    template = EVENT_SENTENCES.get(event.action)
    if template is None:
        return f"{who}: {event.action}"
    old, new = event.old_value, event.new_value
    if event.action == "status":
        old, new = str(STATUS_LABELS.get(old, old)), str(STATUS_LABELS.get(new, new))
    return str(template) % {"who": who, "old": old or "—", "new": new or "—"}
