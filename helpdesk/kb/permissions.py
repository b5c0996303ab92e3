"""Who may read and write what in the knowledge base.

Every member of staff authors (writes drafts, sends them to review, edits drafts and articles in
review); supervisors and admins review (publish, archive, edit published articles, delete
nothing: archive). Readers: anyone sees public articles; a signed-in customer also the
customers-only ones; staff also internal ones (never on the public help centre).
"""

from __future__ import annotations

from ..core.errors import NotAllowed
from ..core.permissions import is_staff, is_supervisor
from .models import Article

EDITABLE_BY_AUTHORS = ("draft", "review")


def can_author(user) -> bool:
    return is_staff(user)


def can_review(user) -> bool:
    return is_supervisor(user)


def can_edit(user, article: Article) -> bool:
    return can_review(user) or (can_author(user) and article.status in EDITABLE_BY_AUTHORS)


def visibility_for(user) -> tuple[str, ...]:
    """The visibilities `user` may read (the API and the console)."""
    if is_staff(user):
        return ("public", "customers", "internal")
    if user is not None and getattr(user, "is_authenticated", False):
        return ("public", "customers")
    return ("public",)


def help_visibility_for(user) -> tuple[str, ...]:
    """What the public help centre shows `user`: never internal articles."""
    return tuple(v for v in visibility_for(user) if v != "internal")


def statuses_for(user) -> tuple[str, ...]:
    """Article statuses `user` may read: staff every one, everyone else published ones."""
    return ("draft", "review", "published", "archived") if is_staff(user) else ("published",)


def can_read(user, article: Article) -> bool:
    return article.visibility in visibility_for(user) and article.status in statuses_for(user)


def require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed()
