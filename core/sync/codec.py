"""Records as JSON: the form rows travel in (one JSON object a line) and the way back.

Dates and times are ISO text; binary columns (signature PNGs) travel as attachments
named by their SHA-256 and are ``null`` in the record.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from functools import lru_cache
from itertools import starmap
from typing import Any

import msgspec
from sqlalchemy import Date, DateTime, LargeBinary

from core.signing import sha256_hex


def to_json(table: str, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """One row as JSON-ready values; binary columns become attachments keyed by SHA-256."""
    out, attachments = {}, {}
    for key, value in row.items():
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif isinstance(value, bytes):
            attachments[f"attachments/{sha256_hex(value)}.png"] = value
            value = None
        out[key] = value
    return out, attachments


def record_values(model: type, data: dict[str, Any], blobs: dict[str, bytes], *,
                  binary: bool = True) -> dict[str, Any]:
    """Column values for the ORM from a JSON record (the inverse of ``to_json``).

    ``binary=False`` leaves binary columns out (a conflict kept without its images).
    """
    values = {}
    for column in model.__table__.columns:
        if column.key not in data or (not binary and isinstance(column.type, LargeBinary)):
            continue
        value = data[column.key]
        if value is not None and isinstance(column.type, DateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(column.type, Date):
            value = date.fromisoformat(value)
        elif isinstance(column.type, LargeBinary) and value is None:
            value = blobs.get(data.get("sha256", ""))
        values[column.key] = value
    return values


# one encoder for every line: ``json.dumps`` with these options builds a new ``JSONEncoder`` a call
_DUMP = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def dump(data: dict[str, Any]) -> str:
    """The canonical line of a record: compact, keys sorted, non-ASCII as it is."""
    return _DUMP(data)


# The value types msgspec writes exactly as ``dump`` does, byte for byte once ``dump``'s text is
# UTF-8 (tests/unit/test_codec_lines.py: every code point, 64-bit and bigger integers, both
# booleans, null). Floats are not among them (msgspec writes 1e16 where json writes 1e+16, null
# for NaN); no synced column holds one, and a value of any other type goes through ``dump``.
FAST_TYPES = frozenset((str, int, bool, type(None)))
_FAST = msgspec.json.Encoder().encode
_FAST_LINES = msgspec.json.Encoder().encode_lines


def line_bytes(record: dict[str, Any], proven: bool = False) -> bytes:
    """``dump(record).encode("utf-8")``: the same bytes, by msgspec when they are sure to be the
    same — the keys already in sorted order (msgspec keeps the dict's order) and every value of
    ``FAST_TYPES`` (``proven``: the caller knows both, e.g. SQLite's ``typeof`` said so for a row
    read in sorted column order); otherwise by ``dump``. A lone surrogate fails either way
    (``UnicodeEncodeError``): SQLite and PostgreSQL text cannot hold one."""
    if proven or (all(type(v) in FAST_TYPES for v in record.values()) and _sorted(record)):
        return _FAST(record)
    return _DUMP(record).encode("utf-8")


def lines_bytes(records: list[dict[str, Any]], proven: list[bool]) -> list[bytes]:
    """``line_bytes`` of each record (``proven``: of each, as there), by one msgspec call when all
    are proven: its newline-delimited output split at the newlines, which no line holds (JSON
    writes a newline inside a string as the two characters ``\\n``)."""
    if all(proven):
        lines = _FAST_LINES(records).split(b"\n")
        lines.pop()  # after the last newline
        return lines
    return [line_bytes(record, sure) for record, sure in zip(records, proven)]


def rows_lines(keys: list[str], rows: list[tuple], proven: list[bool]) -> list[bytes]:
    """``line_bytes`` of each row as a record (``dict(zip(keys, row))``; a row holds exactly one
    value a key): when the keys are in sorted order and every row is proven, by one msgspec call
    over ``Struct`` instances of the keys' fields, which msgspec writes as the same object as the
    dict, key by key in field order — without making a dict a row (a fifth of the time)."""
    if keys != sorted(keys):
        proven = [False] * len(rows)
    elif all(proven):
        lines = _FAST_LINES(list(starmap(_record_struct(tuple(keys)), rows))).split(b"\n")
        lines.pop()
        return lines
    return lines_bytes([dict(zip(keys, row)) for row in rows], proven)


@lru_cache(maxsize=None)
def _record_struct(keys: tuple[str, ...]) -> type:
    return msgspec.defstruct("Record", [(key, object) for key in keys])


def _sorted(record: dict[str, Any]) -> bool:
    keys = list(record)
    return all(type(k) is str for k in keys) and keys == sorted(keys)


def current(obj) -> dict[str, Any]:
    """A local ORM row in the package's JSON form, for comparison and for conflicts."""
    row = {c.key: getattr(obj, c.key) for c in obj.__table__.columns}
    return to_json(obj.__tablename__, row)[0]


def local_time(utc: datetime | None) -> datetime | None:
    """``sync_batches`` and ``sync_conflicts`` store UTC; the panel shows local time."""
    if utc is None:
        return None
    return utc.replace(tzinfo=timezone.utc).astimezone().replace(tzinfo=None)
