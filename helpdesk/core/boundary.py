"""The request boundary: every incoming string and every id in a path checked once, for every route.

- `<int:...>` in any route is a row id: ASCII digits, 1..MAX_ID (an INTEGER column on PostgreSQL);
  anything larger or in another script does not match the route, so it is a 404, never a 500.
- A NUL byte or a lone surrogate in the path, the query string or a header is a 400 naming where it
  was; in a form field (free text typed by a person) NUL bytes are dropped; in a JSON body either is
  a 400 naming the field (api.parsing.json_object and request.get_json both refuse it).

So a new endpoint cannot forget: nothing it reads from the request carries such characters.
"""

from __future__ import annotations

import logging

from flask import Flask, Request, request
from werkzeug.routing import IntegerConverter

from .errors import ValidationError
from .text import BAD_TEXT, MAX_ID, find_bad_text, is_valid_text, strip_nul

log = logging.getLogger(__name__)


def up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 0..limit (leading zeros allowed): fewer
    digits, or the same prefix as `limit` then a smaller digit then any, or `limit` itself."""
    digits = str(limit)
    options = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        if d != "0":
            rest = len(digits) - i - 1
            options.append(f"{digits[:i]}[0-{int(d) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    options.append(digits)
    return "0*(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """`<int:name>`: ASCII digits up to MAX_ID. A larger number does not even match the path's
    pattern: with a range check after the match, a path served by two rules (PATCH and DELETE
    of one resource) answered 405 for the other rule's method instead of 404."""

    regex = up_to(MAX_ID)

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class CleanRequest(Request):
    """Form fields (names and values) without NUL bytes; a JSON body with a NUL byte or a lone
    surrogate in any string is refused like malformed JSON (a 400). Only request bodies: the
    session cookie and everything else the app decodes keep the app's JSON as it is."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        data = super().get_json(force=force, silent=silent, cache=cache)
        where = find_bad_text(data) if data is not None else None
        if where is None:
            return data
        if cache:  # a second call parses and refuses again
            self._cached_json = (Ellipsis, Ellipsis)
        if silent:
            return None
        return self.on_json_loading_failed(ValueError(f"not valid text at {where}"))

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form and any("\x00" in k or "\x00" in v for k, v in form.items(multi=True)):
            self.__dict__["form"] = self.parameter_storage_class(
                [(strip_nul(k), strip_nul(v)) for k, v in form.items(multi=True)]
            )


def check_text(data) -> None:
    """A ValidationError naming the first field of decoded JSON that is not valid text."""
    where = find_bad_text(data)
    if where is not None:
        raise ValidationError(BAD_TEXT, field=where)


def _check_request() -> None:
    if not is_valid_text(request.path):
        raise ValidationError(BAD_TEXT, field="path")
    for key, value in request.args.items(multi=True):
        if not (is_valid_text(key) and is_valid_text(value)):
            raise ValidationError(BAD_TEXT, field=key if is_valid_text(key) else "query")
    for key, value in request.headers.items():
        if "\x00" in value:
            raise ValidationError(BAD_TEXT, field=key)


def register(app: Flask) -> None:
    """Before any blueprint registers its routes: the id converter, the request class (its JSON checked)
    and the check of path, query string and headers."""
    app.url_map.converters["int"] = IdConverter
    app.request_class = CleanRequest
    app.before_request(_check_request)
