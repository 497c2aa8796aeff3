"""Bulk inserts on SQLite: JSON-ready values straight to the driver's executemany.

No ORM objects and no per-row statement building: each column's JSON value is converted
once to what SQLAlchemy's SQLite dialect itself would store, so rows inserted here read
back exactly like rows the ORM wrote. Used by the sync import for records never seen here.
"""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import Boolean, DateTime, LargeBinary, Table

CHUNK = 500

Converter = Callable[[Any, dict[str, Any], dict[str, bytes]], Any]


def chunks(items: list, size: int = CHUNK) -> list[list]:
    """``items`` in slices of ``size`` (bounded ``IN (...)`` lists and executemany batches)."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def sqlite_converter(column) -> Converter:
    """JSON value → what SQLAlchemy's SQLite dialect stores for this column type.

    Binary columns arrive as ``null`` with the bytes among the attachments, keyed by the
    record's ``sha256``.
    """
    if isinstance(column.type, DateTime):
        def convert(value, _record, _blobs):
            if value is None:
                return None
            text = value.replace("T", " ", 1)
            return text if "." in text[19:] else text + ".000000"
    elif isinstance(column.type, Boolean):
        def convert(value, _record, _blobs):
            return None if value is None else int(value)
    elif isinstance(column.type, LargeBinary):
        def convert(value, record, blobs):
            return blobs.get(record.get("sha256", "")) if value is None else value
    else:
        def convert(value, _record, _blobs):
            return value  # text, numbers, ISO dates: stored as they are
    return convert


def insert_json_rows(connection, table: Table, records: list[dict[str, Any]], blobs: dict[str, bytes]) -> None:
    """Insert JSON records that carry every column of ``table`` (SQLite only)."""
    columns = list(table.columns)
    converters = [(c.key, sqlite_converter(c)) for c in columns]
    names = ", ".join(f'"{c.name}"' for c in columns)
    connection.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})',
        [tuple(convert(r[key], r, blobs) for key, convert in converters) for r in records],
    )


def insert_tuples(connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Plain executemany of ``rows`` into ``table`` (names from code, never from input)."""
    if rows:
        names = ", ".join(f'"{c}"' for c in columns)
        connection.exec_driver_sql(
            f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})', rows)


def upsert(connection, table: Table, rows: list[dict[str, Any]], *, key: tuple[str, ...], update: tuple[str, ...]) -> None:
    """Insert ``rows`` or, where ``key`` exists already, overwrite the ``update`` columns.

    One ``INSERT … ON CONFLICT DO UPDATE`` per chunk, on SQLite and PostgreSQL alike.
    """
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    for chunk in chunks(rows):
        statement = dialect_insert(table).values(chunk)
        connection.execute(statement.on_conflict_do_update(
            index_elements=list(key), set_={c: statement.excluded[c] for c in update}))
