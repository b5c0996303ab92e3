"""SQLite tuning: WAL, foreign keys, busy timeout; and an immediate-transaction helper."""

from __future__ import annotations

import contextlib

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


def _on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    with contextlib.suppress(Exception):  # in-memory databases keep their journal
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def register(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite"):
        return
    with app.app_context():
        from ..extensions import db

        engine: Engine = db.engine
        if not event.contains(engine, "connect", _on_connect):
            event.listen(engine, "connect", _on_connect)
