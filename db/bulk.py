"""Bulk inserts: JSON-ready values straight to the driver (SQLite executemany, PostgreSQL COPY).

No ORM objects and no per-row statement building. On SQLite each column's JSON value is
converted once to what SQLAlchemy's SQLite dialect itself would store; on PostgreSQL the
rows go through ``COPY … FROM STDIN`` (psycopg 3), where the server parses the ISO text of
dates and times as it parses an INSERT's — rows inserted here read back exactly like rows
the ORM wrote, on either engine. COPY fires the tables' row triggers (the signed-record
lock) and checks every constraint, as an INSERT does. Used by the sync import for records
never seen here and by the audit log's bulk append.
"""
from __future__ import annotations

import json
from operator import itemgetter
from typing import Any, Callable

from sqlalchemy import Boolean, DateTime, LargeBinary, Table, text
from sqlalchemy.exc import DBAPIError

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


def pg_converter(column) -> Converter:
    """JSON value → what ``COPY`` takes for this column: the JSON value itself, binary from the blobs."""
    if isinstance(column.type, LargeBinary):
        def convert(value, record, blobs):
            return blobs.get(record.get("sha256", "")) if value is None else value
    else:
        def convert(value, _record, _blobs):
            return value  # text, numbers, booleans, ISO dates and times: parsed by the server
    return convert


def insert_json_rows(connection, table: Table, records: list[dict[str, Any]], blobs: dict[str, bytes]) -> None:
    """Insert JSON records that carry every column of ``table`` (SQLite or PostgreSQL)."""
    columns = list(table.columns)
    converter = pg_converter if connection.dialect.name == "postgresql" else sqlite_converter
    # a column at a time: most columns go as they are (one C-level pass), only dates and times,
    # booleans (SQLite) and binary columns through their converter
    values = []
    for column in columns:
        key = column.key
        plain = list(map(itemgetter(key), records))
        if converter is pg_converter and not isinstance(column.type, LargeBinary) or (
                converter is sqlite_converter and not isinstance(column.type, (DateTime, Boolean, LargeBinary))):
            values.append(plain)
        else:
            convert = converter(column)
            values.append([convert(v, r, blobs) for v, r in zip(plain, records)])
    insert_tuples(connection, table.name, tuple(c.name for c in columns), list(zip(*values)))


def insert_tuples(connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """``rows`` into ``table``: executemany on SQLite, ``COPY … FROM STDIN`` on PostgreSQL.

    Names come from code, never from input; the values go to the driver as parameters
    (SQLite) or through psycopg's COPY writer, which escapes every value.
    """
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    if connection.dialect.name == "postgresql":
        statement = f'COPY "{table}" ({names}) FROM STDIN'
        error = connection.dialect.loaded_dbapi.Error
        try:
            with connection.connection.driver_connection.cursor() as cursor:
                with cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
        except error as exc:
            # the driver's own cursor: its error as SQLAlchemy would have raised it (an IntegrityError
            # for a taken key, an OperationalError for a serialization failure...), so that callers
            # and ``storage_problem`` meet it as they meet every other statement's
            raise DBAPIError.instance(statement, None, exc, error, dialect=connection.dialect) from exc
        return
    connection.exec_driver_sql(
        f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})', rows)


def upsert(connection, table: Table, rows: list[dict[str, Any]], *, key: tuple[str, ...], update: tuple[str, ...]) -> None:
    """Insert ``rows`` or, where ``key`` exists already, overwrite the ``update`` columns.

    One ``INSERT … ON CONFLICT DO UPDATE`` statement, executed for all rows by the driver's
    executemany (SQLite and PostgreSQL alike): compiled once, not once per chunk of
    multi-row VALUES (that compilation was 63 % of a big export).
    """
    if not rows:
        return
    columns = tuple(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(f":{c}" for c in columns)
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in update)
    connection.execute(text(f'INSERT INTO "{table.name}" ({names}) VALUES ({values}) '
                            f'ON CONFLICT ({", ".join(key)}) DO UPDATE SET {sets}'), rows)


IDS_AT_ONCE = 50_000  # ids per look-up when they travel as one parameter (a JSON text, an array)


def select_in(connection, sql: str, key: str, ids: list, params: tuple = ()) -> list[tuple]:
    """Rows of ``sql`` (``SELECT … FROM … WHERE {p} … AND``) whose ``key`` column is one of ``ids``.

    The ids go as ONE parameter — a JSON array read by ``json_each`` on SQLite, an array
    literal for ``= ANY`` on PostgreSQL (``pg_text_array``) — not as thousands of bound names
    SQLAlchemy would compile into each statement (~40 % of the look-ups' time). ``sql`` and
    ``key`` come from code, never from input; ``{p}`` in ``sql`` stands for a parameter's placeholder.
    """
    sqlite = connection.dialect.name == "sqlite"
    found: list[tuple] = []
    for chunk in chunks(ids, IDS_AT_ONCE):
        if sqlite:
            query = sql.format(p="?") + f' "{key}" IN (SELECT value FROM json_each(?))'
            found += connection.exec_driver_sql(query, (*params, json.dumps(chunk))).all()
        else:
            query = sql.format(p="%s") + f' "{key}" = ANY(%s::text[])'
            found += connection.exec_driver_sql(query, (*params, pg_text_array(chunk))).all()
    return found


def pg_text_array(ids: list):
    """``ids`` as a PostgreSQL array literal (``{"a","b"}``), joined in one C call.

    psycopg builds an array parameter in Python (a regular-expression test per element:
    ~2.5 µs an id, the largest client cost of the import's look-ups at 450,000 ids); a JSON
    text unpacked by the server (``json_array_elements_text``) was slower on the server side. Only double quotes and
    backslashes need escaping inside a quoted element: ids holding either (never a valid
    UUID) go as psycopg's own list, which escapes them.
    """
    if not all(type(i) is str for i in ids):
        return list(ids)
    flat = "".join(ids)
    if '"' in flat or "\\" in flat:
        return list(ids)
    return '{"' + '","'.join(ids) + '"}' if ids else "{}"
