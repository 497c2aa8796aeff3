"""The audit trail (执法全过程记录): every change to every record, chained by SHA-256.

A listener on every session's flush writes one entry per inserted, updated or deleted
record — who, when, what, before and after — in the same transaction as the change.
Each entry's hash covers the previous entry's hash, so ``verify_chain`` finds an edited,
removed or reordered entry. (Cutting entries off the end, or recomputing the whole chain,
leaves a valid chain; comparing it with the anchors held elsewhere catches that:
``core.anchors.verify_audit``.)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
import hashlib
import json
from typing import TYPE_CHECKING

import msgspec

from sqlalchemy import inspect as sa_inspect, or_, select
from sqlalchemy.orm import Session

from db.bulk import insert_tuples, sqlite_converter
from db.models import AuditEntry, DocumentCounter, TemplateSnapshot

if TYPE_CHECKING:
    from core.context import AppContext

GENESIS = "0" * 64
_SKIP = (AuditEntry, DocumentCounter, TemplateSnapshot)  # the log itself, counters, immutable content


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    return value


def _columns(obj) -> dict:
    state = sa_inspect(obj)
    return {attr.key: _plain(getattr(obj, attr.key)) for attr in state.mapper.column_attrs}


def _changes(obj) -> tuple[dict, dict]:
    """The changed columns, before and after, plus the record's owner keys (``*_id``) for context."""
    state = sa_inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.has_changes():
            before[attr.key] = _plain(history.deleted[0]) if history.deleted else None
            after[attr.key] = _plain(history.added[0]) if history.added else None
    if after:
        owners = {a.key: getattr(obj, a.key) for a in state.mapper.column_attrs
                  if a.key.endswith("_id") and a.key not in after and a.key != "device_id"}
        before.update(owners)
        after.update(owners)
    return before, after


def _dump(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_AUDIT_COLUMNS = ("at", "actor", "action", "table_name", "record_id", "before_json", "after_json", "prev_hash", "hash")
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # the canonical form of an entry
# The same bytes, for the five texts of an entry, in one C call: msgspec writes every string exactly
# as json.dumps(ensure_ascii=False) does (each code point checked: tests/unit/test_audit_fast.py),
# so _ENCODE([a, t, r, b, f]).encode() == _FAST([a, t, r, b, f]) for texts. (Not for floats:
# msgspec writes 1e16 where json writes 1e+16 — only texts, ints, booleans and null go through it.)
_FAST = msgspec.json.Encoder(order="sorted").encode


def entry_hash(prev_hash: str, at: str, actor: str, action: str, table: str, record_id: str,
               before_json: str, after_json: str) -> str:
    canonical = _ENCODE([at, actor, action, table, record_id, before_json, after_json])
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def write_audit(session: Session, _context) -> None:
    """After each flush: chain an entry for every row inserted, updated or deleted (``core.guards``)."""
    entries = []
    for action, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if isinstance(obj, _SKIP) or not hasattr(obj, "__table__"):
                continue
            if action == "insert":
                before, after = {}, _columns(obj)
            elif action == "delete":
                before, after = _columns(obj), {}
            else:
                if not session.is_modified(obj, include_collections=False):
                    continue
                before, after = _changes(obj)
                if not after:
                    continue
            key = sa_inspect(obj).identity or sa_inspect(obj).mapper.primary_key_from_instance(obj)
            entries.append((action, obj.__table__.name, "/".join(str(k) for k in key), _dump(before), _dump(after)))
    if not entries:
        return
    clock = session.info.get("clock")
    append_entries(session.connection(), (clock() if clock else datetime.now()),
                   session.info.get("actor", "系统"), sorted(entries, key=lambda e: (e[1], e[2], e[0])))


def inserted_entry(table: str, values: dict, *, plain: bool = False) -> tuple[str, str, str, str, str]:
    """The entry for a row inserted without the ORM (bulk paths): as the listener writes it.

    ``plain``: the values are already as the log writes them (ISO text, "sha256:…" for bytes).
    """
    return ("insert", table, str(values["id"]), "{}", _dump(values if plain else {k: _plain(v) for k, v in values.items()}))


def checked_entry(table: str, values: dict) -> tuple[str, str, str, str, str]:
    """``inserted_entry(table, values, plain=True)`` for a record that passed ``core.sync.validate``.

    Its values are texts, integers, booleans and null only (the checks refuse every float), which
    msgspec writes byte for byte as ``_dump`` does, sorted, ~8× faster; anything else it cannot
    write (a lone surrogate) goes to ``_dump``.
    """
    try:
        after = _FAST(values).decode("utf-8")
    except (TypeError, ValueError, UnicodeError, msgspec.EncodeError):
        after = _dump(values)
    return ("insert", table, str(values["id"]), "{}", after)


def append_entries(connection, at: datetime, actor: str, entries: list[tuple[str, str, str, str, str]]) -> None:
    """Chain ``(action, table, record_id, before_json, after_json)`` entries onto the log.

    Used by the flush listener and by bulk paths that insert rows with SQLAlchemy Core.
    """
    # Server databases (PostgreSQL, the county/city hub): a sequence hands out numbers
    # outside the transaction, so a rolled-back one would leave a gap that verify_chain
    # reports as deleted entries, and two concurrent writers would chain to the same
    # predecessor. There, writers take a transaction-scoped lock and number the entries
    # themselves. SQLite is unchanged (one writer at a time, rowids without gaps).
    numbered = connection.dialect.name != "sqlite"
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(726100)")
    last = connection.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    prev = last.hash if last is not None else GENESIS
    next_seq = (last.seq if last is not None else 0) + 1
    at_text = at.isoformat()
    # the canonical form's constant head ('["<at>","<actor>",'), encoded once for all entries:
    # _ENCODE([at, actor, a, t, r, b, f]) == head + _ENCODE([a, t, r, b, f])[1:]
    head = (_ENCODE([at_text, actor])[:-1] + ",").encode("utf-8")
    sha256 = hashlib.sha256
    # stored as SQLAlchemy stores a DateTime (SQLite text), or as ISO text PostgreSQL parses
    stored_at = at_text if numbered else sqlite_converter(AuditEntry.__table__.c.at)(at_text, None, None)
    rows = []
    for entry in entries:
        action, table, record_id, before_json, after_json = entry
        digest = sha256(prev.encode("ascii") + head + _canonical_tail(entry)).hexdigest()
        row = (stored_at, actor, action, table, record_id, before_json, after_json, prev, digest)
        if numbered:
            row += (next_seq,)
            next_seq += 1
        rows.append(row)
        prev = digest
    insert_tuples(connection, "audit_log", _AUDIT_COLUMNS + (("seq",) if numbered else ()), rows)
    connection.info["audit.appended"] = True  # core.anchors seals the new head before the commit


def _canonical_tail(entry) -> bytes:
    """``_ENCODE(list(entry))[1:]`` as UTF-8: the five texts of an entry, after the head."""
    try:
        return _FAST(entry)[1:]
    except (TypeError, ValueError, UnicodeError, msgspec.EncodeError):  # a lone surrogate: json's way
        return _ENCODE(list(entry))[1:].encode("utf-8")


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    bad_seq: int | None
    message: str
    found: dict[int, str] = field(default_factory=dict)  # seq → hash, for the seqs asked for


def _iso(value) -> str:
    """The ``at`` of an entry as ``datetime.isoformat()`` gave it when the entry was hashed.

    Read with the driver's own cursor (no ORM type processing: a million entries in seconds),
    SQLite hands back SQLAlchemy's stored text ("2026-12-01 08:00:00.000000"), PostgreSQL a
    ``datetime``.
    """
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value).replace(" ", "T", 1)
    return text[:-7] if text.endswith(".000000") else text


def verify_chain(ctx: AppContext, *, at_seqs: set[int] | frozenset[int] = frozenset()) -> ChainCheck:
    """Walk the log in order and recompute every link; ``found`` holds the hashes at ``at_seqs``."""
    with ctx.engine.connect() as conn:
        return walk_chain(conn, at_seqs=at_seqs)


def walk_chain(conn, *, at_seqs: set[int] | frozenset[int] = frozenset()) -> ChainCheck:
    """``verify_chain`` on an open connection (a copy checks its chain before it commits)."""
    prev, expected_seq, count = GENESIS, None, 0
    found: dict[int, str] = {}
    # the canonical form's head ('["<at>","<actor>",') per (at, actor) as stored: entries written
    # together (a flush, an import) share it, so it is encoded once for them (see append_entries)
    heads: dict[tuple, str] = {}
    sha256 = hashlib.sha256
    # the driver's own cursor, iterated in C (a SQLAlchemy result fetches row by row in Python)
    cursor = conn.connection.cursor()
    try:
        cursor.execute("SELECT seq, at, actor, action, table_name, record_id, before_json, after_json, prev_hash, hash"
                       " FROM audit_log ORDER BY seq")
        for row in cursor:
            seq, at, actor, prev_hash, digest = row[0], row[1], row[2], row[8], row[9]
            count += 1
            if expected_seq is not None and seq != expected_seq:
                return ChainCheck(False, count, seq, f"审计记录 {expected_seq} 至 {seq - 1} 缺失（被删除）")
            if prev_hash != prev:
                return ChainCheck(False, count, seq, f"审计记录 {seq} 与前一条不衔接（前面的记录被删除、改动或调换了顺序）")
            head = heads.get((at, actor))
            if head is None:
                if len(heads) > 4096:
                    heads.clear()
                head = heads[at, actor] = (_ENCODE([_iso(at), actor])[:-1] + ",").encode("utf-8")
            # (action, table, record_id, before_json, after_json)
            if sha256(prev.encode("ascii") + head + _canonical_tail(row[3:8])).hexdigest() != digest:
                return ChainCheck(False, count, seq, f"审计记录 {seq} 的内容被改动过")
            if seq in at_seqs:
                found[seq] = digest
            prev, expected_seq = digest, seq + 1
    finally:
        cursor.close()
    return ChainCheck(True, count, None, f"审计链完整：共 {count} 条记录", found)


@dataclass(frozen=True)
class HistoryRow:
    seq: int
    at: datetime
    actor: str
    action: str
    table: str
    before: dict
    after: dict
    record_id: str = ""


ACTION_LABELS = {"insert": "新建", "update": "修改", "delete": "删除"}


def record_history(ctx: AppContext, record_id: str) -> list[HistoryRow]:
    """Every entry about a record and the rows that belong to it (answers, photos...)."""
    owner = f'%"inspection_id":"{record_id}"%'
    query = (select(AuditEntry)
             .where(or_(AuditEntry.record_id == record_id, AuditEntry.after_json.like(owner),
                        AuditEntry.before_json.like(owner)))
             .order_by(AuditEntry.seq))
    with ctx.sessions() as s:
        return [HistoryRow(e.seq, e.at, e.actor, e.action, e.table_name, json.loads(e.before_json),
                           json.loads(e.after_json), e.record_id) for e in s.scalars(query)]
