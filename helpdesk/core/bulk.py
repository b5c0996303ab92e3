"""Many rows in one statement, handed straight to the driver's executemany.

SQLAlchemy's executemany builds and processes a parameter dictionary per row (~10 µs a row); for
the sweep's thousands of rows a batch these helpers give the driver plain tuples instead, each
value passed through its column's bind processor only (SQLite keeps datetimes as text, so the
stored form stays the one SQLAlchemy writes). Table and column names are our own, never input.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db


def _mark() -> str:
    return "?" if db.engine.dialect.paramstyle == "qmark" else "%s"


def _processed(table: sa.Table, columns, rows: list[tuple]) -> list[tuple]:
    dialect = db.engine.dialect
    processors = [table.c[c].type.bind_processor(dialect) for c in columns]
    if not any(processors):
        return rows
    n = len(processors)
    return [
        tuple(
            processors[i](value) if i < n and processors[i] is not None else value
            for i, value in enumerate(row)
        )
        for row in rows
    ]


def insert_many(table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """`INSERT INTO table (columns) VALUES (?, ...)` for many rows (tuples in column order)."""
    if not rows:
        return
    mark = _mark()
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)})"  # noqa: S608 - our own names
        f" VALUES ({', '.join(mark for _ in columns)})"
    )
    db.session.connection().exec_driver_sql(sql, _processed(table, columns, rows))


def update_many(
    table: sa.Table,
    columns: tuple[str, ...],
    rows: list[tuple],
    *,
    assign: dict[str, str] | None = None,
    guard: str = "",
) -> None:
    """`UPDATE table SET col = ?, ... WHERE id = ? [AND guard]` for many rows (each: the columns'
    values, the id, then the guard's value). `assign` spells a column's new value around the
    placeholder ("col | {}"); `guard` likewise ("col < {}")."""
    if not rows:
        return
    mark = _mark()
    assign = assign or {}
    sets = ", ".join(f"{c} = {assign.get(c, '{}').format(mark)}" for c in columns)
    sql = f"UPDATE {table.name} SET {sets} WHERE id = {mark}"  # noqa: S608 - our own names
    if guard:
        sql += " AND " + guard.format(mark)
    db.session.connection().exec_driver_sql(sql, _processed(table, columns, rows))
