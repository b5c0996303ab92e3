"""Reading JSON bodies and query strings strictly: wrong shapes become 4xx, never a 500."""

from __future__ import annotations

import base64
import binascii
import io
import json
from datetime import datetime

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from ..core.boundary import check_text
from ..core.clock import as_utc
from ..core.errors import ValidationError
from ..core.text import MAX_ID, ascii_digits, id_number
from .errors import InvalidInput, MalformedJson, UnsupportedMediaType

MAX_ATTACHMENTS = 10


def _reject_constant(_name):
    raise ValueError("non-standard JSON constant")


def json_object() -> dict:
    """The request body as a JSON object (415 if not JSON, 400 if malformed, 422 if not object)."""
    if not request.is_json:
        raise UnsupportedMediaType()
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedJson() from None
    if not isinstance(data, dict):
        raise InvalidInput({"body": _("The body must be a JSON object.")})
    check_text(data)  # no NUL byte or lone surrogate in any key or string (a 400 naming it)
    return data


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class Fields:
    """Typed access to a JSON object; collects every field error and raises them together."""

    def __init__(self, data: dict):
        self.data = data
        self.errors: dict[str, str] = {}

    def has(self, name: str) -> bool:
        return name in self.data

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            self.errors[name] = _("This field must be a string.")
            return default
        return value

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.errors[name] = _("This field must be true or false.")
            return default
        return value

    def integer(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_ID:
            self.errors[name] = _("This field must be a whole number.")
            return None
        return value

    def ref(self, name: str) -> int | str | None:
        """A reference given as an id (integer) or a name (string)."""
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.errors[name] = _("Give an id (number) or a name (string).")
            return None
        if isinstance(value, int) and id_number(value) is None:  # no id is that large or < 1
            self.errors[name] = _("Give an id (number) or a name (string).")
            return None
        if isinstance(value, str):
            value = value.strip()
            if not value or len(value) > 254:
                self.errors[name] = _("Give an id (number) or a name (string).")
                return None
        return value

    def obj(self, name: str) -> dict | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.errors[name] = _("This field must be an object.")
            return None
        return value

    def string_list(self, name: str) -> list[str] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.errors[name] = _("This field must be a list of strings.")
            return None
        return value

    def attachments(self, name: str = "attachments") -> list[tuple[str, bytes]]:
        """[{filename, content_base64}] decoded to (filename, bytes); see as_files()."""
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.errors[name] = _("This field must be a list of files.")
            return []
        if len(value) > MAX_ATTACHMENTS:
            self.errors[name] = _("At most %(n)s files at once.", n=MAX_ATTACHMENTS)
            return []
        files = []
        for item in value:
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("filename"), str)
                or not isinstance(item.get("content_base64"), str)
            ):
                self.errors[name] = _(
                    "Each file must be an object with filename and content_base64 (strings)."
                )
                return []
            try:
                data = base64.b64decode(item["content_base64"], validate=True)
            except (binascii.Error, ValueError):
                self.errors[name] = _(
                    "The file %(name)s is not valid base64.", name=item["filename"][:100]
                )
                return []
            files.append((item["filename"][:300], data))
        return files

    def check(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


def as_files(attachments: list[tuple[str, bytes]]) -> list[FileStorage]:
    """Fresh FileStorage objects for tickets.attachments.store_upload (one read each)."""
    return [FileStorage(stream=io.BytesIO(data), filename=name) for name, data in attachments]


def parse_datetime(raw: str, field: str) -> datetime:
    """An ISO 8601 instant in UTC (no offset given: UTC); a 400 on `field` for anything else,
    including instants that do not exist in UTC (year 1 at +14:00, year 9999 at -14:00)."""
    try:
        return as_utc(datetime.fromisoformat(raw.strip().replace(" ", "+").replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        raise ValidationError(
            _l("Give a date and time in ISO 8601, e.g. 2025-01-31T14:00:00Z."), field=field
        ) from None


def query_datetime(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    return parse_datetime(raw, name)


def query_int(name: str, default: int, *, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not ascii_digits(raw) or not low <= int(raw) <= high:
        raise ValidationError(
            _l("Give a whole number from %(low)s to %(high)s."), field=name, low=low, high=high
        )
    return int(raw)
