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
import itertools
import json
from typing import TYPE_CHECKING

import msgspec

from sqlalchemy import inspect as sa_inspect, or_, select
from sqlalchemy.orm import Session

from db.bulk import insert_tuples, sqlite_converter
from db.engine import sqlite_file
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


_VERSIONS = "audit.versions"  # session.info, for one flush: id(row) -> (version before, after)


def note_versions(session: Session, _context, _instances) -> None:
    """Before each flush, after ``core.guards`` set them: each synced row's version change. The
    mapper's optimistic lock (``db.models.SyncMixin``) moves the version into the row's committed
    state during the flush, so by ``write_audit`` its history no longer shows the change."""
    found = {}
    for obj in session.dirty:
        state = sa_inspect(obj)
        if state.mapper.version_id_col is None:
            continue
        history = state.attrs.version.history
        if history.added:
            found[id(obj)] = (history.deleted[0] if history.deleted else None, history.added[0])
    session.info[_VERSIONS] = found


def _changes(obj, version: tuple[int | None, int] | None = None) -> tuple[dict, dict]:
    """The changed columns, before and after, plus the record's owner keys (``*_id``) for context;
    ``version``: the row's version change, noted before the flush (``note_versions``)."""
    state = sa_inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.has_changes():
            before[attr.key] = _plain(history.deleted[0]) if history.deleted else None
            after[attr.key] = _plain(history.added[0]) if history.added else None
    if version is not None:
        before["version"], after["version"] = version
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
    versions = session.info.pop(_VERSIONS, {})
    for action, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if isinstance(obj, _SKIP) or not hasattr(obj, "__table__"):
                continue
            if action == "insert":
                before, after = {}, _columns(obj)
            elif action == "delete":
                before, after = _columns(obj), {}
            else:
                version = versions.get(id(obj))
                if version is None and not session.is_modified(obj, include_collections=False):
                    continue
                before, after = _changes(obj, version)
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
    # predecessor. There, writers take the chain's lock and number the entries themselves.
    # SQLite is unchanged (one writer at a time, rowids without gaps).
    numbered = connection.dialect.name != "sqlite"
    lock_chain(connection)
    last = connection.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    prev = last.hash if last is not None else GENESIS
    next_seq = (last.seq if last is not None else 0) + 1
    at_text = at.isoformat()
    # the canonical form's constant head ('["<at>","<actor>",'), encoded once for all entries:
    # _ENCODE([at, actor, a, t, r, b, f]) == head + _ENCODE([a, t, r, b, f])[1:]
    head = _canonical_head(at_text, actor)
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


def lock_chain(connection) -> None:
    """On PostgreSQL, take the audit chain's lock, held to the end of the transaction: one writer
    of the chain at a time, the others wait (SQLite has one writer anyway). Every audited write
    takes it before its commit (``append_entries``), so a transaction that takes it first (a sync
    import, ``core.sync.apply``) sees no audited write commit while it runs: at READ COMMITTED each
    of its reads is then as current as its writes. An advisory lock (not a table lock: those
    conflict with autovacuum, and an anti-wraparound vacuum of a city's log does not yield).
    Not for a REPEATABLE READ transaction: its snapshot is fixed by the lock's own ``SELECT``,
    before the wait, and the head read after it could be stale."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(726100)")


def _canonical_head(at_text: str, actor: str) -> bytes:
    """``_ENCODE([at, actor])`` without its closing bracket, then a comma, as UTF-8: the entry's head."""
    try:
        return _FAST((at_text, actor))[:-1] + b","
    except (TypeError, ValueError, UnicodeError, msgspec.EncodeError):  # a lone surrogate: json's way
        return (_ENCODE([at_text, actor])[:-1] + ",").encode("utf-8")


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


PARALLEL_FROM = 200_000  # entries: below this a second process costs more than it saves
# The second process starts ~0.9 s late (spawn, imports) and an entry costs ~5.5 µs to read and hash
# (this 2-core machine, 2026-12): the first half is made longer by what the second spends starting.
_CHILD_START_S, _ENTRY_S = 0.9, 5.5e-6
_QUERY = ("SELECT seq, at, actor, action, table_name, record_id, before_json, after_json, prev_hash, hash"
          " FROM audit_log")


def verify_chain(ctx: AppContext, *, at_seqs: set[int] | frozenset[int] = frozenset(), workers: int = 1,
                 parallel_from: int = PARALLEL_FROM) -> ChainCheck:
    """Walk the log in order and recompute every link; ``found`` holds the hashes at ``at_seqs``.

    ``workers=2``: a long log in an SQLite file is checked on two cores — this process walks the
    first half while a second process walks the second from its first entry's stored link, and the
    halves must then join (the second's first link is the first's last hash, no entry missing
    between). The verdict, the count and the message are the ones the one walk gives. The second
    process opens the file read-only with the database's key, handed to it through the pipe."""
    path = sqlite_file(str(ctx.engine.url)) if workers > 1 and ctx.engine.dialect.name == "sqlite" else None
    if path is not None:
        with ctx.engine.connect() as conn:
            low, high, total = conn.exec_driver_sql("SELECT min(seq), max(seq), count(*) FROM audit_log").one()
        if total >= parallel_from:
            share = min(0.75, 0.5 + _CHILD_START_S / (2 * _ENTRY_S * total))
            return _verify_halves(ctx, path, low + max(1, int((high - low) * share)), frozenset(at_seqs))
    with ctx.engine.connect() as conn:
        return walk_chain(conn, at_seqs=at_seqs)


def walk_chain(conn, *, at_seqs: set[int] | frozenset[int] = frozenset()) -> ChainCheck:
    """``verify_chain`` on an open connection (a copy checks its chain before it commits)."""
    # the driver's own cursor, iterated in C (a SQLAlchemy result fetches row by row in Python)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(_QUERY + " ORDER BY seq")
        return _walk(cursor, GENESIS, None, at_seqs)[0]
    finally:
        cursor.close()


def _walk(rows, prev: str, expected_seq: int | None, at_seqs) -> tuple[ChainCheck, str, int | None]:
    """Check ``rows`` in order from the link ``prev``: the verdict, the last hash, the next seq."""
    count = 0
    found: dict[int, str] = {}
    # the canonical form's head ('["<at>","<actor>",') per (at, actor) as stored: entries written
    # together (a flush, an import) share it, so it is encoded once for them (see append_entries)
    heads: dict[tuple, bytes] = {}
    sha256 = hashlib.sha256
    for row in rows:
        seq, at, actor, prev_hash, digest = row[0], row[1], row[2], row[8], row[9]
        count += 1
        if expected_seq is not None and seq != expected_seq:
            return ChainCheck(False, count, seq, f"审计记录 {expected_seq} 至 {seq - 1} 缺失（被删除）"), prev, seq
        if prev_hash != prev:
            return (ChainCheck(False, count, seq, f"审计记录 {seq} 与前一条不衔接（前面的记录被删除、改动或调换了顺序）"),
                    prev, seq)
        head = heads.get((at, actor))
        if head is None:
            if len(heads) > 4096:
                heads.clear()
            head = heads[at, actor] = _canonical_head(_iso(at), actor)
        # (action, table, record_id, before_json, after_json)
        if sha256(prev.encode("ascii") + head + _canonical_tail(row[3:8])).hexdigest() != digest:
            return ChainCheck(False, count, seq, f"审计记录 {seq} 的内容被改动过"), prev, seq
        if seq in at_seqs:
            found[seq] = digest
        prev, expected_seq = digest, seq + 1
    return ChainCheck(True, count, None, f"审计链完整：共 {count} 条记录", found), prev, expected_seq


def _verify_halves(ctx: AppContext, path, middle: int, at_seqs: frozenset[int]) -> ChainCheck:
    import multiprocessing

    from db import cipher

    # a Pool, not a ProcessPoolExecutor: a broken first half stops the second walk at once
    # (``terminate``) instead of waiting for it to finish a verdict nobody reads
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        later = pool.apply_async(_walk_from, (str(path), cipher.key_of(path), middle, at_seqs))
        with ctx.engine.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(_QUERY + " WHERE seq < ? ORDER BY seq", (middle,))
                first, prev, expected = _walk(cursor, GENESIS, None, at_seqs)
            finally:
                cursor.close()
        if not first.ok:
            return first
        second, first_seq, first_link = later.get()
        pool.close()
    finally:
        pool.terminate()
        pool.join()
    if first_seq is None:  # nothing from the middle on
        return first
    count = first.entries
    if expected is not None and first_seq != expected:
        return ChainCheck(False, count + 1, first_seq, f"审计记录 {expected} 至 {first_seq - 1} 缺失（被删除）")
    if first_link != prev:
        return ChainCheck(False, count + 1, first_seq,
                          f"审计记录 {first_seq} 与前一条不衔接（前面的记录被删除、改动或调换了顺序）")
    total = count + second.entries
    if not second.ok:
        return ChainCheck(False, total, second.bad_seq, second.message)
    return ChainCheck(True, total, None, f"审计链完整：共 {total} 条记录", {**first.found, **second.found})


def _walk_from(path: str, key: bytes | None, middle: int, at_seqs: frozenset[int]):
    """In the second process: the log from ``middle`` on, from its first entry's own stored link;
    returns the verdict, that entry's seq and its link, for the first half to join."""
    from db import cipher

    conn = cipher.connect(path, key=key or b"", readonly=True)
    try:
        rows = conn.execute(_QUERY + " WHERE seq >= ? ORDER BY seq", (middle,))
        head = rows.fetchone()
        if head is None:
            return ChainCheck(True, 0, None, ""), None, None
        check = _walk(itertools.chain((head,), rows), head[8], head[0], at_seqs)[0]
        return check, head[0], head[8]
    finally:
        conn.close()


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
