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
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from .errors import ValidationError
from .text import BAD_TEXT, MAX_ID, bad_char, find_bad_text, strip_nul

log = logging.getLogger(__name__)


class IdConverter(IntegerConverter):
    """`<int:name>`: 1 to 10 ASCII digits, at most MAX_ID (else no match: a 404)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class CleanRequest(Request):
    """Form fields (names and values) without NUL bytes."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form and any("\x00" in k or "\x00" in v for k, v in form.items(multi=True)):
            self.__dict__["form"] = self.parameter_storage_class(
                [(strip_nul(k), strip_nul(v)) for k, v in form.items(multi=True)]
            )


class CleanJSONProvider(DefaultJSONProvider):
    """request.get_json() refuses strings with a NUL byte or a lone surrogate (a 400)."""

    def loads(self, s, **kwargs):
        data = super().loads(s, **kwargs)
        where = find_bad_text(data)
        if where is not None:
            raise ValueError(f"not valid text at {where}")
        return data


def check_text(data) -> None:
    """A ValidationError naming the first field of decoded JSON that is not valid text."""
    where = find_bad_text(data)
    if where is not None:
        raise ValidationError(BAD_TEXT, field=where)


def _check_request() -> None:
    if bad_char(request.path):
        raise ValidationError(BAD_TEXT, field="path")
    for key, value in request.args.items(multi=True):
        if bad_char(key) or bad_char(value):
            raise ValidationError(BAD_TEXT, field=key if not bad_char(key) else "query")
    for key, value in request.headers.items():
        if "\x00" in value:
            raise ValidationError(BAD_TEXT, field=key)


def register(app: Flask) -> None:
    """Before any blueprint registers its routes: the id converter, the request and JSON classes
    and the check of path, query string and headers."""
    app.url_map.converters["int"] = IdConverter
    app.request_class = CleanRequest
    app.json = CleanJSONProvider(app)
    app.before_request(_check_request)
