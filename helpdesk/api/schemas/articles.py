"""Knowledge-base articles: writing them (staff), reviewing (supervisors, admins), reading them
(anyone: public ones without a token)."""

from __future__ import annotations

from typing import Annotated

from flask_babel import lazy_gettext as _l
from pydantic import Field

from ...kb.models import LANGUAGES, STATUSES, VISIBILITIES
from .common import Named, Person, Ref, RequestBody, ResponseBody, When

Tags = Annotated[list[str], Field(max_length=20)]


class ArticleInput(RequestBody):
    language: str = Field(json_schema_extra={"enum": list(LANGUAGES)})
    title: str = Field(max_length=200)
    body: str = Field(
        description=_l(
            "Rich text (HTML: paragraphs, headings, lists, links, tables, images from "
            "/help/images); anything else is removed. Plain text becomes paragraphs."
        )
    )
    summary: str | None = Field(default=None, max_length=300)
    category: Ref | None = None
    tags: Tags | None = None
    visibility: str | None = Field(
        default=None,
        description=_l("public (default), customers (signed in) or internal (staff only)."),
        json_schema_extra={"enum": [*VISIBILITIES, None]},
    )
    status: str | None = Field(
        default=None,
        description=_l("draft (default) or review; published and archived: supervisors, admins."),
        json_schema_extra={"enum": [*STATUSES, None]},
    )
    translation_of: int | None = Field(
        default=None, description=_l("The id of the article this one translates.")
    )


class ArticlePatch(RequestBody):
    title: str | None = Field(default=None, max_length=200)
    body: str | None = None
    summary: str | None = Field(default=None, max_length=300)
    category: Ref | None = None
    tags: Tags | None = None
    visibility: str | None = Field(default=None, json_schema_extra={"enum": [*VISIBILITIES, None]})
    status: str | None = Field(
        default=None,
        description=_l(
            "Authors move draft ↔ review; supervisors and admins publish, archive, send back."
        ),
        json_schema_extra={"enum": [*STATUSES, None]},
    )
    note: str | None = Field(default=None, max_length=300, description=_l("Kept in the revision."))


class ArticleTranslation(ResponseBody):
    id: int
    language: str
    slug: str


class Article(ResponseBody):
    id: int
    language: str
    slug: str
    url: str
    title: str
    summary: str
    body_html: str
    category: Named | None
    tags: list[str]
    visibility: str
    status: str
    author: Person | None
    reviewer: Person | None
    revision: int
    translations: list[ArticleTranslation]
    helpful_yes: int
    helpful_no: int
    uses: int
    created_at: When
    updated_at: When
    published_at: When


class ArticleHit(ResponseBody):
    id: int
    language: str
    slug: str
    url: str
    title: str
    summary: str
    snippet: str | None = Field(default=None, description=_l("HTML with <mark> around matches."))
    category: Named | None
    visibility: str
    status: str
    updated_at: When


class ArticleList(ResponseBody):
    items: list[ArticleHit]
