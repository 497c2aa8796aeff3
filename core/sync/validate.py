"""Incoming records against a schema per synced table, checked before anything is written.

The schema of each table in ``spec.MODELS`` is derived from its SQLAlchemy columns — JSON
type, null or not, the length of a ``String`` column, bounds of an ``Integer``, ISO text for
dates and times, ``true``/``false`` for a Boolean — plus what the columns mean: UUID-shaped
ids and foreign keys, 64-hex digests, the allowed values of status-like columns
(``spec.ENUMS``), an upper bound on every free-text column (``TEXT_MAX``, ``TEXT_LIMITS``).
A key that is not a column of the table is refused; a key may be missing only when its
column has a default (an older package). NaN and Infinity, which Python's ``json`` accepts,
are read as a marker that no check lets through (``loads``).

Two passes over the same conditions: ``TableSchema.all_good`` checks a whole table a column
at a time (types, lengths, patterns, ranges, enums in C-level passes: ~1 µs per record, the
usual case); only when it finds something does ``problem`` (one closure per column) go record
by record for the first problem. That raises ``InvalidInput`` with one Chinese line naming the
package, the table, the record and the field (docs/sync-format.md "Limits").
Records are parsed by msgspec (``loads_lines``), with ``json`` and its ``NonFinite`` marker
taking over for a member msgspec refuses.
"""
from __future__ import annotations

import hashlib
import json
import re
from operator import itemgetter
from datetime import date, datetime
from typing import Any, Callable

import msgspec
from sqlalchemy import Boolean, Date, DateTime, Integer, LargeBinary, String, Text

from core.errors import InvalidInput
from core.published import MAX_BODY, NAME, VERSION_MAX, check_incoming
from core.sync.spec import BY_TABLE, ENUMS, TABLE_LABELS

INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # what SQLite (and a PostgreSQL BIGINT) holds
TEXT_MAX = 20_000  # any Text column not listed below, in characters
TEXT_LIMITS = {
    ("template_snapshots", "json"): 2_000_000,  # a whole checklist template (the shipped ones: 7–13 kB)
    ("inspection_plans", "entries_json"): 10_000_000,  # a year's draw: one entry per subject drawn
    ("inspections", "findings"): 100_000,  # the parts of a printed record a person writes at length
    ("inspections", "party_statement"): 100_000,
    ("rectifications", "requirements"): 100_000,
    # one-row documents: what was said (a long questioning), the drawn signatures (PNG as base64)
    ("questionings", "content_json"): 1_000_000,
    ("questionings", "signatures_json"): 4_000_000,
    ("service_receipts", "content_json"): 100_000,
    ("case_documents", "content_json"): 1_000_000,
    ("published_resources", "body"): MAX_BODY,  # a published checklist or rules file (core.published)
}
INT_LIMITS = {
    "version": (1, 2**62), "position": (0, 98), "template_version": (1, 1_000_000),
    "year": (1900, 9999), "failed_logins": (0, 1_000_000), "resource_version": (1, VERSION_MAX),
}
# Columns holding a digest: 64 lowercase hex.
DIGESTS = {"sha256", "content_hash", "inputs_sha256", "template_sha"}
# Columns that are not enums but follow a pattern.
PATTERNS = {
    ("signatures", "role"): re.compile(r"(party|party_order|witness|officer[1-9][0-9]?)\Z"),
    ("trigger_events", "event_type"): re.compile(r"[a-z][a-z0-9_]{0,31}\Z"),
    ("officer_keys", "public_key"): re.compile(r"[0-9a-f]{64}\Z"),
    ("officer_signatures", "key_id"): re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z"),
    ("officer_signatures", "signature"): re.compile(r"[0-9a-f]{128}\Z"),
    ("published_resources", "name"): NAME,  # never a path: lowercase letters, digits and hyphens
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def shown(text: str, limit: int = 40) -> str:
    """A value for a one-line message: control characters escaped, at most ``limit`` characters."""
    cut = text[:limit]
    if not cut.isprintable():
        cut = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in cut)
    return cut + ("…" if len(text) > limit else "")


class NonFinite:
    """``NaN``, ``Infinity`` or ``-Infinity`` in a package's JSON: not a number any column takes."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def loads(text: str | bytes) -> Any:
    """``json.loads`` with NaN and ±Infinity read as ``NonFinite`` (refused by every check)."""
    return json.loads(text, parse_constant=NonFinite)


_DECODE = msgspec.json.Decoder().decode  # C: ~4× json.loads; refuses all json refuses, and NaN/Infinity


def loads_lines(lines: list[str]) -> list[Any] | None:
    """Every line parsed (msgspec, one C call a line), or None if any line is not plain JSON.

    None sends the caller to ``loads`` line by line, for NaN/Infinity (``NonFinite``) and for
    the line number of what is broken: msgspec accepts nothing that ``json`` refuses, and
    what both accept they read alike (tests/security/test_sync_input.py).
    """
    try:
        return list(map(_DECODE, lines))
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None


def no_constants(text: str | bytes) -> Any:
    """``json.loads`` refusing NaN and ±Infinity outright (``ValueError``): for the manifest."""
    def refuse(name: str):
        raise ValueError(f"non-finite number {name}")

    return json.loads(text, parse_constant=refuse)


def kind_of(value: Any) -> str:
    """The JSON type of a value, as a person reads it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, (int, float)):
        return "数字"
    if isinstance(value, str):
        return "文本"
    if isinstance(value, list):
        return "数组"
    if isinstance(value, dict):
        return "对象"
    if isinstance(value, NonFinite):
        return f"非有限数值 {value.text}"
    return type(value).__name__


Check = Callable[[Any], "str | None"]  # None when the value is good, else what is wrong


def _text(limit: int, pattern: re.Pattern | None = None, allowed: tuple | None = None, what: str = "") -> Check:
    choices = None if allowed is None else frozenset(allowed)

    def check(value):
        if type(value) is not str:
            return f"应为文本，收到{kind_of(value)}"
        if len(value) > limit:
            return f"超过 {limit:,} 个字符（{len(value):,} 个）"
        if pattern is not None and pattern.match(value) is None:
            return f"不是有效的{what}（“{shown(value, 20)}”）"
        if choices is not None and value not in choices:
            return f"取值“{shown(value, 20)}”不在允许范围内（可用：{'、'.join(map(str, allowed)) or '空'}）"
        return None
    return check


def _integer(low: int, high: int, allowed: tuple | None = None) -> Check:
    choices = None if allowed is None else frozenset(allowed)

    def check(value):
        if type(value) is not int:
            return f"应为整数，收到{kind_of(value)}"
        if not low <= value <= high:
            return f"应在 {low} 至 {high} 之间（收到 {shown(str(value), 24)}）"
        if choices is not None and value not in choices:
            return f"取值 {value} 不在允许范围内（可用：{'、'.join(map(str, allowed))}）"
        return None
    return check


def _boolean(value):
    return None if type(value) is bool else f"应为 true 或 false，收到{kind_of(value)}"


def _datetime(value):
    if type(value) is not str or len(value) > 32:
        return f"应为 ISO 日期时间文本，收到{kind_of(value)}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return f"不是有效的 ISO 日期时间（“{shown(value, 32)}”）"
    return None if parsed.tzinfo is None else "不应带时区（本软件按本地时间存储）"


def _date(value):
    if type(value) is not str or len(value) != 10:
        return f"应为 ISO 日期文本（YYYY-MM-DD），收到{kind_of(value) if type(value) is not str else '“' + shown(value, 20) + '”'}"
    try:
        date.fromisoformat(value)
    except ValueError:
        return f"不是有效的日期（“{shown(value, 20)}”）"
    return None


def _binary(value):
    return "应为 null（图像另存为附件）" if value is not None else None


# What each column's check demands, for the column-at-a-time pass (``TableSchema.all_good``):
# ("text", limit, pattern, choices) · ("int", low, high, choices) · ("bool",) · ("datetime",) ·
# ("date",) · ("binary",) — the same conditions as the check closures below, on a whole column.
Rule = tuple


def _column_rule(table: str, column) -> Rule:
    key, kind = column.key, column.type
    allowed = ENUMS.get((table, key))
    choices = None if allowed is None else frozenset(allowed)
    if isinstance(kind, LargeBinary):
        return ("binary",)
    if isinstance(kind, Boolean):
        return ("bool",)
    if isinstance(kind, DateTime):
        return ("datetime",)
    if isinstance(kind, Date):
        return ("date",)
    if isinstance(kind, Integer):
        low, high = INT_LIMITS.get(key, (INT_MIN, INT_MAX))
        return ("int", low, high, choices)
    is_text = isinstance(kind, Text) or kind.length is None
    limit = TEXT_LIMITS.get((table, key), TEXT_MAX) if is_text else kind.length
    pattern = PATTERNS.get((table, key))
    foreign = next(iter(column.foreign_keys), None)
    if pattern is None and key in DIGESTS:
        pattern = HEX64
    elif pattern is None and (key in ("id", "device_id") or (foreign is not None and foreign.column.key == "id")):
        pattern = UUID
    return ("text", limit, pattern, None if pattern is not None else choices)


def _column_good(rule: Rule, values: list) -> bool:
    """Whether every (non-null) value of a column passes its check, in a few C-level passes."""
    kind = rule[0]
    if kind == "binary":
        return not values
    types = set(map(type, values))  # one C-level pass; type(True) is bool, not int
    if kind == "bool":
        return types <= {bool}
    if kind == "int":
        _, low, high, choices = rule
        if not types <= {int}:
            return False
        if values and not (low <= min(values) and max(values) <= high):
            return False
        return choices is None or choices.issuperset(values)
    if not types <= {str}:
        return False
    if kind == "text":
        _, limit, pattern, choices = rule
        if values and max(map(len, values)) > limit:
            return False
        if pattern is not None and not all(map(pattern.match, values)):
            return False
        return choices is None or choices.issuperset(values)
    if kind == "date":
        if any(len(v) != 10 for v in values):
            return False
        try:
            for _ in map(date.fromisoformat, values):
                pass
        except ValueError:
            return False
        return True
    # datetime
    if values and max(map(len, values)) > 32:
        return False
    try:
        return all(d.tzinfo is None for d in map(datetime.fromisoformat, values))
    except ValueError:
        return False


def _column_check(table: str, column) -> Check:
    key, kind = column.key, column.type
    allowed = ENUMS.get((table, key))
    if isinstance(kind, LargeBinary):
        return _binary
    if isinstance(kind, Boolean):
        return _boolean
    if isinstance(kind, DateTime):
        return _datetime
    if isinstance(kind, Date):
        return _date
    if isinstance(kind, Integer):
        low, high = INT_LIMITS.get(key, (INT_MIN, INT_MAX))
        return _integer(low, high, allowed)
    if isinstance(kind, String):  # Text is a String without a length
        is_text = isinstance(kind, Text) or kind.length is None
        limit = TEXT_LIMITS.get((table, key), TEXT_MAX) if is_text else kind.length
        if (table, key) in PATTERNS:
            return _text(limit, PATTERNS[table, key], what="取值")
        if key in DIGESTS:
            return _text(limit, HEX64, what="SHA-256 摘要（64 位小写十六进制）")
        foreign = next(iter(column.foreign_keys), None)
        if key in ("id", "device_id") or (foreign is not None and foreign.column.key == "id"):
            return _text(limit, UUID, what="编号（UUID）")
        return _text(limit, allowed=allowed)
    raise TypeError(f"no sync check for {table}.{key} ({kind!r})")  # a new column type: add a check


class TableSchema:
    """The checks of one synced table, built once from its columns."""

    def __init__(self, model: type):
        table = model.__tablename__
        self.table = table
        columns = list(model.__table__.columns)
        self.keys = frozenset(c.key for c in columns)
        # binary columns travel as attachments: always null in the JSON
        binary = {c.key for c in columns if isinstance(c.type, LargeBinary)}
        self.checks: tuple[tuple[str, bool, Check], ...] = tuple(
            (c.key, bool(c.nullable) or c.key in binary, _column_check(table, c)) for c in columns)
        # a key may be missing (an older package) only where the column has a default
        self.required = frozenset(c.key for c in columns if c.key not in binary and (c.primary_key or (
            not c.nullable and c.default is None and c.server_default is None))) | (
            {"id", "version"} if "version" in self.keys and "id" in self.keys else set())
        self.defaults = {c.key: c.default.arg for c in columns
                         if c.default is not None and c.default.is_scalar}
        self.nullable = frozenset(c.key for c in columns if c.nullable)
        self.rules: tuple[tuple[str, bool, Rule], ...] = tuple(
            (c.key, bool(c.nullable) or c.key in binary, _column_rule(table, c)) for c in columns)

    def all_good(self, records: list) -> bool:
        """Whether every record passes, checked a column at a time (the usual, complete package).

        A sufficient test only: True means ``problem`` finds nothing in any record; False
        means ``problem`` is asked, record by record, for the first problem and its message.
        """
        keys = self.keys
        if not set(map(type, records)) <= {dict} or not all(r.keys() == keys for r in records):
            return False
        for key, nullable, rule in self.rules:
            values = list(map(itemgetter(key), records))
            if None in values:
                if not nullable:
                    return False
                values = [v for v in values if v is not None]
            if not _column_good(rule, values):
                return False
        return True

    def problem(self, record: Any) -> tuple[str | None, str] | None:
        """(field, what is wrong) for the first problem of ``record``, or None."""
        if type(record) is not dict:
            return None, f"不是 JSON 对象（收到{kind_of(record)}）"
        complete = record.keys() == self.keys  # the usual case: every column, nothing else
        if not complete:
            unknown = record.keys() - self.keys
            if unknown:
                return shown(sorted(map(str, unknown))[0], 40), "不是该表的字段（未知字段，已拒绝）"
            missing = self.required - record.keys()
            if missing:
                return sorted(missing)[0], "缺失（该字段必填）"
        for key, nullable, check in self.checks:
            if complete or key in record:
                value = record[key]
                if value is None:
                    if not nullable:
                        return key, "不能为空（null）"
                elif (wrong := check(value)) is not None:
                    return key, wrong
        return None

    def complete(self, record: dict) -> dict:
        """A checked ``record`` with every column: missing ones get their default (or null)."""
        if len(record) == len(self.keys):  # checked: no unknown keys, so every column is there
            return record
        return {**{k: self.defaults.get(k) for k in self.keys}, **record}


SCHEMAS: dict[str, TableSchema] = {table: TableSchema(model) for table, model in BY_TABLE.items()}


def _record_label(record: Any, number: int) -> str:
    rid = record.get("id", record.get("sha256")) if isinstance(record, dict) else None
    if isinstance(rid, str) and (UUID.match(rid) or HEX64.match(rid)):
        return f"第 {number} 条记录（{rid}）"
    return f"第 {number} 条记录"


def refuse(package: str, table: str, record: Any, number: int, field: str | None, what: str) -> InvalidInput:
    where = f"{TABLE_LABELS.get(table, table)}（{table}）{_record_label(record, number)}"
    return InvalidInput(f"同步包 {package} 无效：{where}" + (f"的字段 {field} " if field else " ") + f"{what}，已拒绝")


def check_records(package: str, table: str, records: list) -> None:
    """Every record of one table of a package against its schema; ``InvalidInput`` on the first problem."""
    schema = SCHEMAS[table]
    if not schema.all_good(records):  # find the first problem, record by record, for its message
        problem = schema.problem
        for number, record in enumerate(records, 1):
            found = problem(record)
            if found is not None:
                raise refuse(package, table, record, number, *found)
    key = "sha256" if table == "template_snapshots" else "id"
    ids = [r[key] for r in records]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        for number, (record, rid) in enumerate(zip(records, ids), 1):
            if rid in seen:
                raise refuse(package, table, record, number, key, "与同一包中的另一条记录重复")
            seen.add(rid)
    if table == "published_resources":  # the body is a checklist or rules file, checked as a shipped one
        for number, record in enumerate(records, 1):
            wrong = check_incoming(record)
            if wrong is not None:
                raise refuse(package, table, record, number, "body", wrong)
    if table == "template_snapshots":
        for number, record in enumerate(records, 1):
            if hashlib.sha256(record["json"].encode("utf-8")).hexdigest() != record["sha256"]:
                raise refuse(package, table, record, number, "json", "的 SHA-256 与 sha256 字段不符")

