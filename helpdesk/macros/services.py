"""Macros: canned replies with placeholders, plus actions applied with them in one transaction.

The reply text is a tiny template language, not Jinja: only the placeholders in PLACEHOLDERS
(`{{ customer.first_name }}`…) may appear. A text is parsed by a sandboxed Jinja environment and
its syntax tree checked node by node when the macro is saved (anything else, such as
`{{ ''.__class__ }}`, a filter, a call or a `{% for %}`, is refused with a clear message), and
it is rendered with plain strings in the sandbox. The reply's language is the customer's.

`apply_macro` goes through the ticket services (transfer, assign, priority, tags, note, the public
reply, status), so each change makes its own event and the same rules hold as when done by hand;
the reply's email is queued in the outbox and leaves after the surface's commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from babel import dates
from flask import current_app
from flask_babel import lazy_gettext as _l
from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy.orm import joinedload

from ..accounts.models import Department, User
from ..core.clock import as_utc, now
from ..core.errors import NotAllowed, NotFound, ValidationError
from ..core.logs import who
from ..core.text import clean_text
from ..extensions import db
from ..sla.models import TicketSla
from ..tickets import services as tickets
from ..tickets.models import PRIORITY_VALUES, STATUSES, Ticket
from ..tickets.permissions import can_assign_to, can_work_ticket
from ..tickets.protocol import display as display_protocol
from ..tickets.tags import add_tags, parse_tag_names, resolve_tags
from .models import SCOPES, Macro
from .permissions import (
    can_create_scope,
    can_manage_macro,
    can_use_macro,
    manageable_condition,
    visible_condition,
)

log = logging.getLogger(__name__)

LANGUAGES = ("pt_BR", "es", "en")
BODY_FIELDS = {"pt_BR": "body_pt_br", "es": "body_es", "en": "body_en"}
MAX_NAME = 120
MAX_BODY = 20000
PLACEHOLDERS = {
    "customer": ("first_name", "name"),
    "ticket": ("protocol", "subject"),
    "agent": ("first_name", "name"),
    "sla": ("resolution_due",),
}
PLACEHOLDER_NAMES = tuple(f"{obj}.{attr}" for obj, attrs in PLACEHOLDERS.items() for attr in attrs)
ACTION_KEYS = (
    "status",
    "priority",
    "assignee_id",
    "department_id",
    "transfer_reason",
    "tags",
    "note",
)
SORTS = ("use", "name")

_env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


class MacroNotFound(NotFound):
    code = "macro-not-found"
    default_message = _l("No macro with this number is available to you.")


# placeholders ------------------------------------------------------------------------------------


def _bad_placeholder(text: str, field: str) -> ValidationError:
    return ValidationError(
        _l(
            "Only these placeholders can be used: %(names)s (“%(text)s” is not one of them).",
        ),
        field=field,
        names=", ".join("{{ " + n + " }}" for n in PLACEHOLDER_NAMES),
        text=text[:80],
    )


def check_template(text: str, field: str = "body") -> None:
    """Refuse anything but literal text and the known placeholders (never evaluated)."""
    try:
        tree = _env.parse(text)
    except TemplateSyntaxError as exc:
        raise ValidationError(
            _l(
                "This reply has a broken placeholder (line %(line)s): write them as {{ ticket.protocol }}."
            ),
            field=field,
            line=exc.lineno,
        ) from None
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            raise _bad_placeholder("{% … %}", field)
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                continue
            if (
                isinstance(child, nodes.Getattr)
                and isinstance(child.node, nodes.Name)
                and child.node.ctx == "load"
                and child.attr in PLACEHOLDERS.get(child.node.name, ())
            ):
                continue
            raise _bad_placeholder(_describe(child), field)


def _describe(node) -> str:
    if isinstance(node, nodes.Name):
        return "{{ " + node.name + " }}"
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        return "{{ " + node.node.name + "." + node.attr + " }}"
    return "{{ … }}"


def _first_name(name: str | None) -> str:
    parts = (name or "").split()
    return parts[0] if parts else ""


def customer_language(ticket: Ticket) -> str:
    customer = ticket.customer
    locale = customer.locale or (customer.user.locale if customer.user else None)
    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    if locale.lower().startswith("pt"):
        return "pt_BR"
    if locale.lower().startswith("es"):
        return "es"
    if locale.lower().startswith("en"):
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _customer_zone(ticket: Ticket):
    user = ticket.customer.user
    name = (user.timezone if user else None) or current_app.config["BABEL_DEFAULT_TIMEZONE"]
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def resolution_due(ticket: Ticket, locale: str) -> str:
    """The running resolution deadline in the customer's language and zone ("" if none)."""
    if ticket.id is None:
        return ""
    due = db.session.scalar(
        sa.select(TicketSla.due_at).where(
            TicketSla.ticket_id == ticket.id,
            TicketSla.target == "resolution",
            TicketSla.met_at.is_(None),
        )
    )
    if due is None:
        return ""
    return dates.format_datetime(as_utc(due), "short", tzinfo=_customer_zone(ticket), locale=locale)


def placeholder_values(ticket: Ticket, agent: User, locale: str) -> dict:
    customer_name = ticket.customer.name or ""
    return {
        "customer": {"first_name": _first_name(customer_name), "name": customer_name},
        "ticket": {"protocol": display_protocol(ticket.protocol), "subject": ticket.subject},
        "agent": {"first_name": _first_name(agent.name), "name": agent.name},
        "sla": {"resolution_due": resolution_due(ticket, locale)},
    }


def body_for(macro: Macro, locale: str) -> tuple[str, str]:
    """(language, text) of the reply: the customer's language, then pt_BR, es, en; ("", "")
    when the macro has no reply at all."""
    for lang in (locale, *LANGUAGES):
        text = getattr(macro, BODY_FIELDS.get(lang, "body_en"), "") or ""
        if text.strip():
            return lang, text
    return "", ""


def render_text(text: str, ticket: Ticket, agent: User, locale: str) -> str:
    check_template(text)
    return _env.from_string(text).render(**placeholder_values(ticket, agent, locale)).strip()


# what a placeholder shows in a preview without a ticket (the management screen's example)
SAMPLE_VALUES = {
    "customer": {"first_name": "Maria", "name": "Maria Souza"},
    "ticket": {"protocol": "20260115 000042 7", "subject": "Cobrança duplicada"},
    "sla": {"resolution_due": "15/01/2026 18:00"},
}


def preview_text(
    text: str, agent: User, ticket: Ticket | None = None, locale: str = "pt_BR"
) -> str:
    """The reply text filled for `ticket` (its customer's values), or with example values when
    there is none; a ValidationError names a placeholder that is not allowed."""
    check_template(text)
    if ticket is not None:
        values = placeholder_values(ticket, agent, locale)
    else:
        agent_values = {"first_name": _first_name(agent.name), "name": agent.name}
        values = {**SAMPLE_VALUES, "agent": agent_values}
    return _env.from_string(text).render(**values).strip()


def render_macro(macro: Macro, ticket: Ticket, agent: User, locale: str | None = None) -> str:
    """The filled reply of the macro for this ticket ("" when it has none)."""
    lang, text = body_for(macro, locale or customer_language(ticket))
    if not text:
        return ""
    return render_text(text, ticket, agent, lang)


# create, update, delete ----------------------------------------------------------------------------


def _clean_actions(raw: dict | None, actor: User) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValidationError(_l("Actions are given as an object."), field="actions")
    unknown = [k for k in raw if k not in ACTION_KEYS]
    if unknown:
        raise ValidationError(
            _l("Unknown action: %(names)s."), field="actions", names=", ".join(unknown)
        )
    actions: dict = {}
    if raw.get("status"):
        if raw["status"] not in STATUSES:
            raise ValidationError(_l("Unknown status."), field="actions.status")
        actions["status"] = raw["status"]
    if raw.get("priority"):
        if raw["priority"] not in PRIORITY_VALUES:
            raise ValidationError(_l("Unknown priority."), field="actions.priority")
        actions["priority"] = raw["priority"]
    if raw.get("assignee_id"):
        user = db.session.get(User, _int(raw["assignee_id"], "actions.assignee_id"))
        if user is None or not user.active or not user.is_staff:
            raise ValidationError(
                _l("This person cannot take tickets."), field="actions.assignee_id"
            )
        actions["assignee_id"] = user.id
    if raw.get("department_id"):
        department = db.session.get(Department, _int(raw["department_id"], "actions.department_id"))
        if department is None or not department.active:
            raise ValidationError(_l("Unknown department."), field="actions.department_id")
        actions["department_id"] = department.id
        actions["transfer_reason"] = clean_text(
            raw.get("transfer_reason"),
            "actions.transfer_reason",
            required=True,
            limit=1000,
            required_message=_l("A transfer needs a reason."),
        )
    if raw.get("tags"):
        names = parse_tag_names(raw["tags"])
        resolve_tags(names, actor)  # free tags are made now; curated-only mode refuses unknown ones
        actions["tags"] = names
    note = clean_text(raw.get("note"), "actions.note", required=False, limit=MAX_BODY)
    if note:
        actions["note"] = note
    return actions


def _int(value, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(_l("Give a number."), field=field) from None


@dataclass
class MacroValues:
    name: str
    scope: str = "personal"
    department_id: int | None = None
    body_pt_br: str = ""
    body_es: str = ""
    body_en: str = ""
    actions: dict | None = None
    active: bool = True


def _validated(values: MacroValues, actor: User) -> dict:
    name = clean_text(values.name, "name", required=True, limit=MAX_NAME)
    if values.scope not in SCOPES:
        raise ValidationError(_l("Unknown scope."), field="scope")
    department_id = values.department_id if values.scope == "department" else None
    if values.scope == "department" and (
        not department_id or db.session.get(Department, department_id) is None
    ):
        raise ValidationError(
            _l("Choose the department whose agents use this macro."), field="department"
        )
    if not can_create_scope(actor, values.scope, department_id):
        raise NotAllowed(_l("You cannot manage macros of this scope."))
    bodies = {}
    for attr in BODY_FIELDS.values():
        text = clean_text(getattr(values, attr), attr, required=False, limit=MAX_BODY)
        check_template(text, attr)
        bodies[attr] = text
    actions = _clean_actions(values.actions, actor)
    if not any(bodies.values()) and not actions:
        raise ValidationError(
            _l("A macro needs a reply in at least one language or an action."), field="body_pt_br"
        )
    return {
        "name": name,
        "scope": values.scope,
        "department_id": department_id,
        "active": bool(values.active),
        "actions": actions,
        **bodies,
    }


def create_macro(actor: User, values: MacroValues) -> Macro:
    data = _validated(values, actor)
    macro = Macro(**data, owner_id=actor.id, usage_count=0)
    db.session.add(macro)
    db.session.flush()
    log.info("Macro %s (%s) created by %s", macro.id, macro.scope, who(actor))
    return macro


def update_macro(macro: Macro, actor: User, values: MacroValues) -> Macro:
    if not can_manage_macro(actor, macro):
        raise NotAllowed(_l("You cannot change this macro."))
    data = _validated(values, actor)
    for key, value in data.items():
        setattr(macro, key, value)
    macro.updated_at = now()
    db.session.flush()
    log.info("Macro %s updated by %s", macro.id, who(actor))
    return macro


def delete_macro(macro: Macro, actor: User) -> None:
    if not can_manage_macro(actor, macro):
        raise NotAllowed(_l("You cannot change this macro."))
    db.session.delete(macro)
    db.session.flush()
    log.info("Macro %s deleted by %s", macro.id, who(actor))


# reads ---------------------------------------------------------------------------------------------


def macros_for(user: User, *, sort: str = "use", include_inactive: bool = False) -> list[Macro]:
    """The macros `user` may apply: global, their departments', their own; most used first."""
    stmt = sa.select(Macro).where(visible_condition(user))
    if not include_inactive:
        stmt = stmt.where(Macro.active.is_(True))
    if sort == "name":
        stmt = stmt.order_by(Macro.name, Macro.id)
    else:
        stmt = stmt.order_by(Macro.usage_count.desc(), Macro.name, Macro.id)
    return list(db.session.scalars(stmt))


def manageable_macros(
    user: User, *, sort: str = "use", scope: str | None = None, department_id: int | None = None
) -> list[Macro]:
    """The macros `user` may edit (the management list), active and inactive, with their
    department and owner loaded in the same query; most used (then most recently used) first,
    or by name."""
    stmt = (
        sa.select(Macro)
        .where(manageable_condition(user))
        .options(joinedload(Macro.department), joinedload(Macro.owner))
    )
    if scope:
        stmt = stmt.where(Macro.scope == scope)
    if department_id:
        stmt = stmt.where(Macro.department_id == department_id)
    if sort == "name":
        stmt = stmt.order_by(sa.func.lower(Macro.name), Macro.id)
    else:
        stmt = stmt.order_by(
            Macro.usage_count.desc(),
            Macro.last_used_at.desc().nulls_last(),
            sa.func.lower(Macro.name),
            Macro.id,
        )
    return list(db.session.scalars(stmt))


def get_managed_macro(macro_id, user: User) -> Macro:
    """The macro if `user` may edit it; MacroNotFound otherwise (foreign ones look unknown)."""
    try:
        macro = db.session.get(Macro, int(macro_id))
    except (TypeError, ValueError):
        macro = None
    if macro is None or not can_manage_macro(user, macro):
        raise MacroNotFound(field="macro")
    return macro


def set_macro_active(macro: Macro, actor: User, active: bool) -> Macro:
    if not can_manage_macro(actor, macro):
        raise NotAllowed(_l("You cannot change this macro."))
    macro.active = bool(active)
    macro.updated_at = now()
    db.session.flush()
    log.info("Macro %s %s by %s", macro.id, "activated" if active else "deactivated", who(actor))
    return macro


def get_usable_macro(macro_id, user: User) -> Macro:
    """The macro if `user` may apply it; MacroNotFound otherwise (foreign ones look unknown)."""
    try:
        macro = db.session.get(Macro, int(macro_id))
    except (TypeError, ValueError):
        macro = None
    if macro is None or not can_use_macro(user, macro):
        raise MacroNotFound(field="macro")
    return macro


# applying ------------------------------------------------------------------------------------------


def planned_actions(macro: Macro) -> dict:
    """The macro's actions with the people and departments they name (for previews)."""
    actions = dict(macro.actions or {})
    if actions.get("assignee_id"):
        actions["assignee"] = db.session.get(User, actions["assignee_id"])
    if actions.get("department_id"):
        actions["department"] = db.session.get(Department, actions["department_id"])
    return actions


def apply_macro(
    ticket: Ticket,
    macro: Macro,
    actor: User,
    *,
    body_override: str | None = None,
    notify_customer: bool = True,
) -> dict:
    """Apply the macro's actions and send its (possibly edited) reply, through the ticket
    services; returns {"reply": message or None}. Raises before anything when the actor may not
    use the macro or work the ticket; a refused step (closed ticket, impossible status) raises and
    the surface rolls the whole macro back."""
    if not can_use_macro(actor, macro):
        raise MacroNotFound(field="macro")
    if not can_work_ticket(actor, ticket):
        raise NotAllowed()
    tickets.ensure_open(ticket)
    actions = macro.actions or {}
    # order as a person would: move it, give it to someone, weigh it, label it, note, answer, close
    if actions.get("department_id") and actions["department_id"] != ticket.department_id:
        department = db.session.get(Department, actions["department_id"])
        if department is None:
            raise ValidationError(_l("Unknown department."), field="actions.department_id")
        tickets.transfer_ticket(ticket, actor, department, actions.get("transfer_reason") or "")
    if actions.get("assignee_id"):
        assignee = db.session.get(User, actions["assignee_id"])
        if assignee is None or not can_assign_to(actor, ticket, assignee):
            raise ValidationError(
                _l("This person cannot take tickets of this department."), field="assignee"
            )
        tickets.assign_ticket(ticket, actor, assignee)
    if actions.get("priority"):
        tickets.change_priority(ticket, actor, PRIORITY_VALUES[actions["priority"]])
    if actions.get("tags"):
        add_tags(ticket, actor, actions["tags"])
    if actions.get("note"):
        tickets.add_message(ticket, actor, actions["note"], internal=True)
    if body_override is not None and body_override.strip():
        check_template(body_override)
        body = render_text(body_override, ticket, actor, customer_language(ticket))
    else:
        body = render_macro(macro, ticket, actor)
    reply = None
    status = actions.get("status")
    if body:
        reply = tickets.add_message(
            ticket,
            actor,
            body,
            channel="web",
            new_status=status,
            notify_customer=notify_customer,
        )
    elif status:
        tickets.change_status(ticket, actor, status)
    macro.usage_count = Macro.usage_count + 1  # in SQL: two agents at once both count
    macro.last_used_at = now()
    db.session.flush()
    log.info("Macro %s applied to ticket %s by %s", macro.id, ticket.protocol, who(actor))
    return {"reply": reply}
