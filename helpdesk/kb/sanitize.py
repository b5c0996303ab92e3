"""An article's body: sanitised rich text (nh3, as inbound HTML email is), and its plain text for
the index and snippets.

What survives: paragraphs, headings, lists, emphasis, links (http, https, mailto and our own
pages), tables, code, and images from the knowledge base's own store (`/help/images/<id>`): no
scripts, handlers, styles, remote images (tracking) or javascript: URLs.
"""

from __future__ import annotations

import html
import re

import nh3

TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "s", "ul", "ol", "li", "h2", "h3", "h4",
    "blockquote", "code", "pre", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
IMAGE_SRC = re.compile(r"^/help/images/\d{1,12}(/[\w.\-]{1,120})?$")
MAX_BODY = 200_000  # characters of HTML an article may have
_HAS_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if IMAGE_SRC.match(value.strip()) else None
    if tag == "a" and attribute == "href":
        lowered = value.strip().lower()
        if lowered.startswith(("http://", "https://", "mailto:", "/", "#")) and not (
            lowered.startswith("//")
        ):
            return value
        return None
    return value


def clean_body(raw: str) -> str:
    """Sanitised HTML of what an author wrote; plain text (no tag at all) becomes paragraphs."""
    raw = (raw or "").replace("\x00", "")
    if raw.strip() and not _HAS_TAG.search(raw):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", raw) if p.strip()]
        raw = "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
    return nh3.clean(
        raw,
        tags=TAGS,
        clean_content_tags={"script", "style"},
        attributes=ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(p|h[1-6]|li|tr|blockquote|pre|table|ul|ol)>")


def body_text(clean_html: str) -> str:
    """The plain text of a sanitised body (the index, snippets, "insert the text" in a reply):
    blocks become lines, inline tags vanish without adding spaces ("<b>x</b>." stays "x.")."""
    text = nh3.clean(_BLOCK_END.sub("\n", clean_html or ""), tags=set())
    lines = (" ".join(html.unescape(line).split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
