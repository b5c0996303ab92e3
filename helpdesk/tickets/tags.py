"""Tags on tickets: names as agents type them, free or admin-curated, one event per change.

A name is normalised once (trimmed, lower-case, inner spaces collapsed, at most 60 characters) and
stored that way, so `Boleto  Atrasado` and `boleto atrasado` are one tag. Agents create a tag by
using a new name unless the `FREE_TAGS` setting is off; then only curated tags (made by admins in
Administration → Tags) can be put on tickets. The search index follows the ticket's tags
(search.hooks), and lists load the tags of a page's tickets in one query (`tags_by_ticket`).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..accounts.models import User
from ..core.errors import Conflict, ValidationError
from ..core.logs import who
from ..extensions import db
from .events import record_event
from .models import Tag, Ticket, ticket_tags

log = logging.getLogger(__name__)

MAX_NAME = 60
MAX_TAGS_PER_CHANGE = 20
DEFAULT_COLOR = "#64748b"
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# letters (any alphabet), digits, spaces and a few joiners; nothing that reads as markup or syntax
_NAME = re.compile(r"[\w][\w .\-/+&]*", re.UNICODE)


def normalize_tag_name(raw: str | None) -> str:
    """`  Boleto   Atrasado ` → `boleto atrasado`; a ValidationError for an empty or odd name."""
    name = " ".join(str(raw or "").split()).lower()
    if not name:
        raise ValidationError(_l("Give the tag a name."), field="tags")
    if len(name) > MAX_NAME:
        raise ValidationError(_l("A tag has at most %(n)s characters."), field="tags", n=MAX_NAME)
    if not _NAME.fullmatch(name) or name.startswith("_"):
        raise ValidationError(
            _l("“%(name)s” is not a valid tag: use letters, digits, spaces and . - / + &."),
            field="tags",
            name=name,
        )
    return name


def normalize_color(raw: str | None) -> str:
    color = (raw or "").strip() or DEFAULT_COLOR
    if not _COLOR.fullmatch(color):
        raise ValidationError(_l("A colour is written #rrggbb (e.g. #2563eb)."), field="color")
    return color.lower()


def parse_tag_names(raw: str | Iterable[str] | None) -> list[str]:
    """Names from a comma-separated text or a list, normalised, without repeats, in order."""
    if raw is None:
        return []
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    if isinstance(raw, str):
        items = [i for i in items if i.strip()]
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValidationError(_l("Tags are given as names."), field="tags")
        name = normalize_tag_name(item)
        if name not in names:
            names.append(name)
    if len(names) > MAX_TAGS_PER_CHANGE:
        raise ValidationError(
            _l("At most %(n)s tags at once."), field="tags", n=MAX_TAGS_PER_CHANGE
        )
    return names


def free_tags_allowed() -> bool:
    return bool(current_app.config.get("FREE_TAGS", True))


def find_tags(names: Iterable[str]) -> dict[str, Tag]:
    names = list(names)
    if not names:
        return {}
    return {t.name: t for t in db.session.scalars(sa.select(Tag).where(Tag.name.in_(names)))}


def resolve_tags(names: list[str], actor: User | None, *, create: bool = True) -> list[Tag]:
    """The tags of these (normalised) names; unknown ones are created as free tags when allowed,
    else a ValidationError names them."""
    found = find_tags(names)
    missing = [n for n in names if n not in found]
    if missing and not (create and free_tags_allowed()):
        raise ValidationError(
            _l("Unknown tag: %(names)s. Only the tags an administrator created can be used."),
            field="tags",
            names=", ".join(missing),
        )
    for name in missing:
        tag = Tag(name=name, color=DEFAULT_COLOR, curated=False)
        tag.created_by_id = actor.id if actor else None
        db.session.add(tag)
        found[name] = tag
    if missing:
        db.session.flush()
        log.info("Free tags %s created by %s", missing, who(actor))
    return [found[n] for n in names]


def add_tags(ticket: Ticket, actor: User | None, names: Iterable[str]) -> list[str]:
    """Put these tags on the ticket (one `tagged` event each); returns the names added."""
    from .services import ensure_open

    ensure_open(ticket)
    wanted = parse_tag_names(list(names))
    have = {t.name for t in ticket.tags}
    added = []
    for tag in resolve_tags([n for n in wanted if n not in have], actor):
        ticket.tags.append(tag)
        record_event(ticket, actor, "tagged", field="tags", new=tag.name)
        added.append(tag.name)
    if added:
        db.session.flush()
        log.info("Ticket %s tagged %s by %s", ticket.protocol, added, who(actor))
    return added


def remove_tags(ticket: Ticket, actor: User | None, names: Iterable[str]) -> list[str]:
    """Take these tags off the ticket (one `untagged` event each); unknown names are ignored."""
    from .services import ensure_open

    ensure_open(ticket)
    gone = set(parse_tag_names(list(names)))
    removed = []
    for tag in list(ticket.tags):
        if tag.name in gone:
            ticket.tags.remove(tag)
            record_event(ticket, actor, "untagged", field="tags", old=tag.name)
            removed.append(tag.name)
    if removed:
        db.session.flush()
        log.info("Ticket %s untagged %s by %s", ticket.protocol, removed, who(actor))
    return removed


def set_tags(ticket: Ticket, actor: User | None, names: Iterable[str]) -> None:
    """Make the ticket's tags exactly these (events for what was added and removed)."""
    wanted = parse_tag_names(list(names))
    current = [t.name for t in ticket.tags]
    remove_tags(ticket, actor, [n for n in current if n not in wanted])
    add_tags(ticket, actor, [n for n in wanted if n not in current])


# curation (admins) -------------------------------------------------------------------------------


def _unique(name: str, tag_id: int | None = None) -> None:
    other = db.session.scalar(sa.select(Tag.id).where(Tag.name == name))
    if other is not None and other != tag_id:
        raise Conflict(_l("A tag named “%(name)s” already exists."), field="name", name=name)


def create_tag(actor: User, *, name: str, color: str = "", curated: bool = True) -> Tag:
    name = normalize_tag_name(name)
    _unique(name)
    tag = Tag(name=name, color=normalize_color(color), curated=bool(curated))
    tag.created_by_id = actor.id if actor else None
    db.session.add(tag)
    db.session.flush()
    log.info("Tag %s created by %s", name, who(actor))
    return tag


def update_tag(tag: Tag, actor: User, *, name: str, color: str = "", curated: bool = True) -> Tag:
    """Rename (the tickets keep the tag, their search rows follow), recolour, (un)curate."""
    name = normalize_tag_name(name)
    _unique(name, tag.id)
    old = tag.name
    tag.name = name
    tag.color = normalize_color(color)
    tag.curated = bool(curated)
    db.session.flush()
    log.info("Tag %s saved as %s by %s", old, name, who(actor))
    return tag


def delete_tag(tag: Tag, actor: User) -> None:
    """Remove a tag from every ticket and delete it (the tickets' events keep its name)."""
    db.session.delete(tag)
    db.session.flush()
    log.info("Tag %s deleted by %s", tag.name, who(actor))


# reads ---------------------------------------------------------------------------------------------


def all_tags() -> list[Tag]:
    return list(db.session.scalars(sa.select(Tag).order_by(Tag.curated.desc(), Tag.name)))


def tags_with_usage(sort: str = "name") -> list[tuple[Tag, int]]:
    """Every tag with the number of tickets carrying it, in one grouped query (the admin list);
    sorted by name, or most used first."""
    used = sa.func.count(ticket_tags.c.ticket_id)
    stmt = (
        sa.select(Tag, used).outerjoin(ticket_tags, ticket_tags.c.tag_id == Tag.id).group_by(Tag.id)
    )
    stmt = stmt.order_by(used.desc(), Tag.name) if sort == "use" else stmt.order_by(Tag.name)
    return [(tag, n) for tag, n in db.session.execute(stmt)]


def tag_usage(tag: Tag) -> int:
    """How many tickets carry this tag (what a deletion takes it from)."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(ticket_tags).where(ticket_tags.c.tag_id == tag.id)
    )


def tags_by_ticket(ticket_ids: Iterable[int]) -> dict[int, list[Tag]]:
    """The tags of many tickets in one query (lists: queue, search, API pages)."""
    ids = list({i for i in ticket_ids if i is not None})
    result: dict[int, list[Tag]] = defaultdict(list)
    if not ids:
        return result
    rows = db.session.execute(
        sa.select(ticket_tags.c.ticket_id, Tag)
        .join(Tag, Tag.id == ticket_tags.c.tag_id)
        .where(ticket_tags.c.ticket_id.in_(ids))
        .order_by(Tag.name)
    )
    for ticket_id, tag in rows:
        result[ticket_id].append(tag)
    return result


def tag_condition(name: str):
    """WHERE condition: tickets carrying the tag of this (raw) name (uses ix_ticket_tags_tag)."""
    name = normalize_tag_name(name)
    tag_ids = sa.select(Tag.id).where(Tag.name == name).scalar_subquery()
    return Ticket.id.in_(sa.select(ticket_tags.c.ticket_id).where(ticket_tags.c.tag_id == tag_ids))


def tagged_ticket_ids(tag_ids: Iterable[int]) -> list[int]:
    ids = list(tag_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(ticket_tags.c.ticket_id).where(ticket_tags.c.tag_id.in_(ids)).distinct()
        )
    )
