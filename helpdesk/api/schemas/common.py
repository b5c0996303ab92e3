"""Building blocks shared by every feature's schemas: base classes, references, files, problems.

Descriptions are lazy strings (`_l`): the OpenAPI document is built per request and turns them
into the request's language.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, model_validator
from pydantic_core import PydanticCustomError

from ...core.text import MAX_ID, id_number
from ...tickets.services import MAX_ATTACHMENTS

REF_TEMPLATE = "#/components/schemas/{model}"
"""Where the OpenAPI document keeps each model's schema (api/openapi.py builds it there)."""


def ref(model: type[BaseModel]) -> dict:
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def invalid(message: str) -> PydanticCustomError:
    """A field error whose message is already translated (see validation.field_errors)."""
    return PydanticCustomError("helpdesk", "{message}", {"message": message})


class RequestBody(BaseModel):
    """A JSON body a client sends: strict types (no "1" for 1, no 0 for false); unknown fields
    are ignored, as they always were (a client may send status or protocol when registering)."""

    model_config = ConfigDict(strict=True, extra="ignore")


class ResponseBody(BaseModel):
    """A JSON body the API returns: exactly these fields (additionalProperties: false)."""

    model_config = ConfigDict(extra="forbid")


def _ref(value: Any) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid(_("Give an id (number) or a name (string)."))
    if isinstance(value, int):
        if id_number(value) is None:  # no id is that large or < 1
            raise invalid(_("Give an id (number) or a name (string)."))
        return value
    value = value.strip()
    if not value or len(value) > 254:
        raise invalid(_("Give an id (number) or a name (string)."))
    return value


Ref = Annotated[
    int | str,
    PlainValidator(_ref, json_schema_input_type=int | str),
    Field(description=_l("An id or a name.")),
]
"""A record given by its id (1..MAX_ID) or its name (1 to 254 characters)."""


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_ID:
        raise invalid(_("This field must be a whole number."))
    return value


Whole = Annotated[
    int,
    PlainValidator(_whole, json_schema_input_type=int),
    Field(json_schema_extra={"minimum": -MAX_ID, "maximum": MAX_ID}),
]
"""A whole number that fits an INTEGER column (no bool, no float)."""


def one_of(values: tuple[str, ...], message) -> Callable[[Any], Any]:
    """A check for a field the services would store as given: a value outside `values` is a 422
    naming the valid ones (`message` has %(values)s)."""

    def check(value: Any) -> Any:
        if value and value not in values:
            raise invalid(str(message) % {"values": ", ".join(values)})
        return value

    return check


When = Annotated[datetime | None, Field(json_schema_extra={"format": "date-time"})]


class AttachmentUpload(RequestBody):
    filename: str
    content_base64: str

    def decoded(self) -> tuple[str, bytes]:
        """(filename, bytes); the content was checked to be base64 when the body was parsed."""
        return self.filename[:300], base64.b64decode(self.content_base64, validate=True)

    @model_validator(mode="after")
    def _base64(self) -> AttachmentUpload:
        try:
            base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise invalid(
                _("The file %(name)s is not valid base64.", name=self.filename[:100])
            ) from None
        return self


Attachments = Annotated[list[AttachmentUpload], Field(max_length=MAX_ATTACHMENTS)]


class Named(ResponseBody):
    id: int
    name: str


class Person(ResponseBody):  # a user; `email` only for staff viewers
    id: int
    name: str
    email: str | None = None


class Problem(BaseModel):  # RFC 9457 problem details
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"description": _l("An error, as RFC 9457 problem details.")},
    )

    type: str = Field(examples=["/problems/validation"])
    title: str
    status: int
    detail: str | None = None
    errors: dict[str, str] | None = Field(
        default=None, description=_l("Message for each field that is not valid.")
    )


class OpenApiDocument(BaseModel):  # the document itself: an object (its schema is OpenAPI's)
    model_config = ConfigDict(extra="allow")
