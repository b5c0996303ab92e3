"""Merging duplicates: the same customer's demands about one problem become one.

What happens (as in Zendesk): the duplicate (source) is closed through the status service, so its
deadlines stop, and gets a public system message "merged into X"; the survivor (target) gets an
internal system note summarising the duplicate (subject, description, its latest messages). The
messages stay where they were written; both histories record it ("merged" on the source,
"merged_from" on the survivor); an investigation link and the tags are carried to the survivor.

The merged protocol keeps answering: `final_survivor` follows `merged_into` to the ticket that
is still alive, and the API, the portal, guest links and inbound email use it.

Rules:
- only the same customer's demands: a merged protocol opens its survivor for whoever held the
  duplicate (owner, guest link, email thread), so merging two customers' demands would show one
  customer the other's. Nobody overrides this, supervisors and admins included: a demand
  registered for the wrong customer is corrected first, then merged;
- not into itself, not a closed duplicate, not into a closed survivor; merging into a ticket that
  was itself merged goes to its final survivor (there are no cycles: a merged ticket is closed and
  cannot be merged again);
- staff who can work both demands.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core.clock import now
from ..core.errors import Conflict, NotAllowed, TicketClosed
from ..core.logs import who
from ..core.text import clean_text
from ..extensions import db
from .events import record_event
from .models import Message, Ticket
from .permissions import can_work_ticket

log = logging.getLogger(__name__)

MAX_HOPS = 20  # merged_into chains are short; a bound instead of trusting the data blindly
SUMMARY_MESSAGES = 3  # the duplicate's latest public messages copied into the survivor's note
SUMMARY_CHARS = 1500  # per copied text


class MergeRefused(Conflict):
    code = "merge-refused"
    default_message = _l("These demands cannot be merged.")


def final_survivor(ticket: Ticket) -> Ticket:
    """The ticket a merged protocol stands for now: `ticket` itself when it was never merged."""
    seen = {ticket.id}
    current = ticket
    for _hop in range(MAX_HOPS):
        if current.merged_into_id is None:
            return current
        nxt = current.merged_into
        if nxt is None or nxt.id in seen:  # deleted or a cycle written by hand: stop here
            return current
        seen.add(nxt.id)
        current = nxt
    return current


def survivor_ids(ticket_ids) -> dict[int, int]:
    """{merged ticket id: its final survivor's id} for those of `ticket_ids` that were merged
    (one query per hop, none when nothing was merged)."""
    result: dict[int, int] = {}
    frontier = {tid: tid for tid in ticket_ids}  # original id -> current id
    for _hop in range(MAX_HOPS):
        if not frontier:
            break
        rows = dict(
            db.session.execute(
                sa.select(Ticket.id, Ticket.merged_into_id).where(
                    Ticket.id.in_(set(frontier.values())), Ticket.merged_into_id.is_not(None)
                )
            ).all()
        )
        nxt = {}
        for original, current in frontier.items():
            target = rows.get(current)
            if target is not None and target != original:
                result[original] = target
                nxt[original] = target
        frontier = nxt
    return result


def merged_protocols(tickets) -> dict[int, str]:
    """{ticket id: the protocol it was merged into} for the merged ones of a list (one query,
    none when none of them was merged): lists show "merged into X" without a query per row."""
    into = {t.id: t.merged_into_id for t in tickets if t.merged_into_id is not None}
    if not into:
        return {}
    protocols = dict(
        db.session.execute(
            sa.select(Ticket.id, Ticket.protocol).where(Ticket.id.in_(set(into.values())))
        ).all()
    )
    return {tid: protocols[target] for tid, target in into.items() if target in protocols}


def check_merge(source: Ticket, target: Ticket, actor: User) -> Ticket:
    """The survivor `source` would be merged into, or the reason it cannot (a DomainError)."""
    if actor is None or not actor.is_staff:
        raise NotAllowed()
    target = final_survivor(target)
    if target.id == source.id:
        raise MergeRefused(_l("A demand cannot be merged into itself."), field="into")
    if source.merged_into_id is not None:
        raise MergeRefused(
            _l("Demand %(protocol)s was already merged into another one."),
            field="protocol",
            protocol=source.protocol,
        )
    if source.status == "closed":
        raise TicketClosed(field="protocol")
    if target.status == "closed":
        raise MergeRefused(
            _l("Demand %(protocol)s is closed; choose an open demand to merge into."),
            field="into",
            protocol=target.protocol,
        )
    if not can_work_ticket(actor, source) or not can_work_ticket(actor, target):
        raise NotAllowed(_l("You can only merge demands you can work on."))
    if source.customer_id != target.customer_id:
        raise MergeRefused(
            _l(
                "Only the same customer's demands can be merged: %(protocol)s belongs to "
                "another customer."
            ),
            field="into",
            protocol=target.protocol,
        )
    return target


def _clip(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _summary(source: Ticket, actor: User, reason: str) -> str:
    lines = [
        _(
            "Demand %(protocol)s (%(subject)s) was merged into this one by %(name)s.",
            protocol=source.protocol,
            subject=source.subject,
            name=actor.name,
        )
    ]
    if reason:
        lines.append(_("Reason: %(reason)s", reason=reason))
    if source.description:
        lines += ["", _("Its description:"), _clip(source.description)]
    public = [m for m in source.messages if not m.is_internal and m.author_kind != "system"]
    if public:
        lines += ["", _("Its latest messages:")]
        for m in public[-SUMMARY_MESSAGES:]:
            lines.append(f"— {m.author_name}: {_clip(m.body, 600)}")
    return "\n".join(lines)[:20000]


def _system_message(ticket: Ticket, body: str, *, internal: bool) -> Message:
    message = Message(
        ticket=ticket,
        author_id=None,
        author_kind="system",
        author_name="",
        is_internal=internal,
        channel="web",
        body=body,
        created_at=now(),
    )
    db.session.add(message)
    return message


def _carry_investigation(source: Ticket, target: Ticket, actor: User) -> None:
    from ..investigations.operations import link_ticket
    from ..investigations.queries import link_of

    link = link_of(source)
    if link is None or link.investigation.status in ("closed", "cancelled"):
        return
    if link_of(target) is None:
        link_ticket(link.investigation, target, by=actor)


def merge_tickets(
    source: Ticket, target: Ticket, actor: User, session=None, *, reason: str = ""
) -> Ticket:
    """Merge the duplicate `source` into `target` (or its final survivor); returns the survivor.
    One transaction: flushes, never commits."""
    from .services import change_status
    from .tags import add_tags

    session = session or db.session
    target = check_merge(source, target, actor)
    reason = clean_text(reason, "reason", required=False, limit=1000)

    _system_message(target, _summary(source, actor, reason), internal=True)
    locale = source.customer.locale or None
    with force_locale(locale) if locale else nullcontext():
        public_text = _(
            "This demand was merged into demand %(protocol)s, which carries on with the same "
            "matter. Please follow and answer it there.",
            protocol=target.protocol,
        )
    _system_message(source, public_text, internal=False)

    if source.tags:  # one "tagged" event per tag carried (the tags exist: no free-tag check)
        add_tags(target, actor, [t.name for t in source.tags])
    _carry_investigation(source, target, actor)

    source.merged_into_id = target.id
    source.merged_into = target
    record_event(
        source,
        actor,
        "merged",
        field="merged_into",
        new=target.protocol,
        detail=reason,
        public=True,
    )
    record_event(target, actor, "merged_from", new=source.protocol, detail=reason, public=True)
    change_status(source, actor, "closed", notify_customer=False)
    session.flush()
    log.info("Ticket %s merged into %s by %s", source.protocol, target.protocol, who(actor))
    return target
