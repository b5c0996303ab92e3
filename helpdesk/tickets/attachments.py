"""Attachment storage: allow-listed extensions, size limits, random names outside static."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..core.errors import ValidationError
from ..extensions import db
from .models import Attachment

log = logging.getLogger(__name__)

_WRITTEN = "attachment_files_written"

SAFE_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "txt": "text/plain",
    "csv": "text/csv",
    "eml": "message/rfc822",
}


_UNSAFE_IN_NAMES = re.compile(r'[<>:"/\\|?*;&$`\'!%#{}\[\]^~=+,]')
_RESERVED_NAMES = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}


def clean_filename(name: str) -> str:
    """Drop paths, control and invisible characters and shell or path punctuation; keep the
    letters of every script (`日本語.pdf`, `사진.JPG`, `fatura_março.pdf` keep their names)."""
    name = unicodedata.normalize("NFKC", name or "")
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    name = os.path.basename(name.replace("\\", "/"))
    name = _UNSAFE_IN_NAMES.sub("", name)
    name = "_".join(name.split()).strip("._-")
    if name.split(".")[0].lower() in _RESERVED_NAMES:  # Windows device names
        name = "_" + name
    if len(name) > 200:  # keep the extension when a long name is cut
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 199 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


@dataclass
class StoredFile:
    name: str  # the cleaned file name
    ext: str
    storage_name: str
    size: int
    sha256: str


def write_upload(file_storage, *, allowed, field: str) -> StoredFile:
    """Check one upload (extension in `allowed`, size, not empty) and write it under a random
    name outside static; the file is removed again if the transaction rolls back. Ticket
    attachments and help-centre images both store their files through here."""
    name = clean_filename(file_storage.filename or "")
    ext = extension_of(name)
    if not name or name.startswith(".") or ext not in allowed:
        raise ValidationError(
            _l("This type of file is not accepted. Accepted: %(types)s."),
            field=field,
            types=", ".join(sorted(allowed)),
        )
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    data = file_storage.stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            _l("The file %(name)s is too large (at most %(mb)s MB)."),
            field=field,
            name=name,
            mb=limit // (1024 * 1024),
        )
    if not data:
        raise ValidationError(_l("The file %(name)s is empty."), field=field, name=name)
    storage_name = secrets.token_hex(16)
    directory = Path(current_app.config["UPLOAD_DIR"]) / storage_name[:2]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / storage_name).write_bytes(data)
    db.session.info.setdefault(_WRITTEN, []).append(directory / storage_name)
    return StoredFile(name, ext, storage_name, len(data), hashlib.sha256(data).hexdigest())


def store_upload(file_storage, *, ticket_id: int, message_id: int | None = None) -> Attachment:
    """Validate and write one upload; returns the (unsaved) Attachment row."""
    stored = write_upload(
        file_storage,
        allowed=current_app.config["ALLOWED_ATTACHMENT_EXTENSIONS"],
        field="attachments",
    )
    content_type = (
        SAFE_TYPES.get(stored.ext)
        or mimetypes.guess_type(stored.name)[0]
        or "application/octet-stream"
    )
    return Attachment(
        ticket_id=ticket_id,
        message_id=message_id,
        filename=stored.name,
        storage_name=stored.storage_name,
        content_type=content_type,
        size=stored.size,
        sha256=stored.sha256,
    )


def path_of(attachment: Attachment) -> Path:
    return (
        Path(current_app.config["UPLOAD_DIR"])
        / attachment.storage_name[:2]
        / attachment.storage_name
    )


@sa.event.listens_for(Session, "after_commit")
def _keep_written_files(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


@sa.event.listens_for(Session, "after_rollback")
def _remove_unsaved_files(session: Session) -> None:
    """A unit of work rolled back: the files it wrote belong to rows that no longer exist."""
    for path in session.info.pop(_WRITTEN, []):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove the unsaved upload %s", path.name)
