"""Tombstones in packages: deletions that travel (docs/sync-format.md "Tombstones").

A package may carry ``tombstones.jsonl``: one object per deleted record,
``{"table", "id", "version", "deleted_at", "deleted_by", "device_id"}`` — the version the
record had when it was deleted. Hostile until validated (``check_tombstones``): bounded in
number, known tables only (``core.deletions.TOMBSTONE_TABLES``), ids and devices lowercase
UUIDs, versions positive 64-bit integers, no unknown or missing key, no record twice, no
record both deleted and sent in the same package.

Export (``tombstones_for``): the tombstones whose deletion lies in the peer's watermark
window, of records the peer has (it has a ``sync_base`` for them), except those that came
from that peer. Import (``apply_tombstones``, inside the import transaction, before the
records and before "signed means proven"):

* not here: nothing to do (``unchanged``);
* part of (or being) an inspection signed here: the whole package is refused — a signed
  record can never be deleted;
* unchanged here since the last exchange with the sender (local version = base, the
  tombstone's version at least the base) and nothing here still refers to it: deleted
  through the ORM (audit entries, the lock), the tombstone kept here (``origin`` = sender);
* otherwise (edited here, never exchanged, or still referred to here): a conflict for a
  person (``sync_conflicts.deleted = "remote"``), the local row kept.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.deletions import TOMBSTONE_TABLES, referring, write_tombstones
from core.errors import InvalidInput
from core.sync.changes import base_version, peer_has, set_base
from core.sync.codec import current
from core.sync.spec import BY_TABLE, TABLE_LABELS
from core.sync.validate import UUID, kind_of, shown
from db.models import Inspection, SyncTombstone

if TYPE_CHECKING:
    from core.sync.package import Package

MEMBER = "tombstones.jsonl"
MAX_TOMBSTONES = 100_000  # per package
KEYS = ("deleted_at", "deleted_by", "device_id", "id", "table", "version")
_ORDER = {t: i for i, t in enumerate(BY_TABLE)}


def _problem(t: Any) -> str | None:
    if not isinstance(t, dict):
        return f"应为对象，收到{kind_of(t)}"
    if sorted(t) != list(KEYS):
        odd = sorted(set(t) ^ set(KEYS))
        return f"字段不符（{shown('、'.join(map(str, odd)), 60)}）"
    if t["table"] not in TOMBSTONE_TABLES:
        return f"数据表“{shown(str(t['table']), 40)}”的记录不能经同步删除"
    for key in ("id", "device_id"):
        if type(t[key]) is not str or UUID.match(t[key]) is None:
            return f"字段 {key} 应为编号（UUID）"
    if type(t["version"]) is not int or not 1 <= t["version"] < 2**63:
        return "字段 version 应为正整数"
    if type(t["deleted_by"]) is not str or len(t["deleted_by"]) > 64:
        return "字段 deleted_by 应为不超过 64 字的文本"
    at = t["deleted_at"]
    try:
        if type(at) is not str or len(at) > 32 or datetime.fromisoformat(at).tzinfo is not None:
            raise ValueError
    except ValueError:
        return "字段 deleted_at 应为不带时区的 ISO 日期时间"
    return None


def check_tombstones(package: str, tombstones: list, records: dict[str, list[dict]]) -> None:
    """Refuse the package unless every tombstone is well-formed (the module's docstring)."""
    if len(tombstones) > MAX_TOMBSTONES:
        raise InvalidInput(f"同步包 {package} 无效：删除记录过多（{len(tombstones):,} 条，上限 {MAX_TOMBSTONES:,} 条），已拒绝")
    seen: set[tuple[str, str]] = set()
    for number, t in enumerate(tombstones, 1):
        wrong = _problem(t)
        if wrong is not None:
            raise InvalidInput(f"同步包 {package} 无效：删除记录（tombstones）第 {number} 条{wrong}，已拒绝")
        key = (t["table"], t["id"])
        if key in seen:
            raise InvalidInput(f"同步包 {package} 无效：删除记录（tombstones）第 {number} 条重复，已拒绝")
        seen.add(key)
    for table, rows in records.items():
        both = [r["id"] for r in rows if (table, r.get("id")) in seen]
        if both:
            raise InvalidInput(f"同步包 {package} 无效：记录 {both[0]} 既被删除又被发送，已拒绝")


def as_json(row: SyncTombstone) -> dict[str, Any]:
    return {"table": row.table_name, "id": row.record_id, "version": row.version,
            "deleted_at": row.deleted_at.isoformat(), "deleted_by": row.deleted_by, "device_id": row.device_id}


def tombstones_for(session: Session, peer: str, since: int, upto: int) -> list[dict[str, Any]]:
    """The tombstones to send ``peer``: deleted in (since, upto], of records it has, not from it."""
    rows = session.scalars(select(SyncTombstone).where(
        SyncTombstone.audit_seq > since, SyncTombstone.audit_seq <= upto,
        or_(SyncTombstone.origin.is_(None), SyncTombstone.origin != peer))
        .order_by(SyncTombstone.table_name, SyncTombstone.record_id)).all()
    by_table: dict[str, set[str]] = {}
    for row in rows:
        by_table.setdefault(row.table_name, set()).add(row.record_id)
    has = {table: peer_has(session, peer, table, ids) for table, ids in by_table.items()}
    return [as_json(row) for row in rows if row.record_id in has[row.table_name]]


def _signed_parent(session: Session, obj) -> Inspection | None:
    inspection_id = getattr(obj, "inspection_id", None)
    parent = session.get(Inspection, inspection_id) if inspection_id else None
    return parent if parent is not None and parent.status == "signed" else None


def apply_tombstones(session: Session, pkg: Package, keep_conflict: Callable[..., None]) -> tuple[int, int, int]:
    """Apply the package's tombstones (children first); returns (deleted, unchanged, conflicts)."""
    sender = pkg.manifest["device_id"]
    name = shown(pkg.path.name, 120)
    deleted = unchanged = conflicts = 0
    for t in sorted(pkg.tombstones, key=lambda t: (-_ORDER[t["table"]], t["id"])):
        table = t["table"]
        model = BY_TABLE[table]
        local = session.get(model, t["id"])
        if local is None:
            unchanged += 1
            continue
        parent = _signed_parent(session, local)
        if parent is not None:
            raise InvalidInput(f"同步包 {name} 要删除已签名锁定的检查记录 {parent.number} 的"
                               f"{TABLE_LABELS.get(table, table)}，已拒绝：签名锁定的记录不能删除；未导入任何内容")
        base = base_version(session, sender, table, t["id"])
        session.flush()
        if (base is not None and local.version == base and t["version"] >= base
                and not referring(session, table, t["id"], besides=_cascaded(table))):
            session.delete(local)
            session.flush()
            write_tombstones(session.connection(), [{
                "table_name": table, "record_id": t["id"], "version": t["version"],
                "deleted_at": datetime.fromisoformat(t["deleted_at"]), "deleted_by": t["deleted_by"],
                "device_id": t["device_id"], "origin": sender}])
            set_base(session, sender, table, t["id"], t["version"])
            deleted += 1
        else:
            keep_conflict(session, table, t["id"], current(local), t, sender, deleted="remote")
            conflicts += 1
    return deleted, unchanged, conflicts


def _cascaded(table: str) -> tuple[str, ...]:
    """Rows the ORM deletes along with a row of ``table`` (a task's reasons)."""
    return ("task_reasons",) if table == "inspection_tasks" else ()


def tombstoned(session: Session, table: str, ids: list[str]) -> set[str]:
    """Those of ``ids`` deleted here (a tombstone is kept for them)."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        found.update(session.scalars(select(SyncTombstone.record_id).where(
            SyncTombstone.table_name == table, SyncTombstone.record_id.in_(ids[start:start + 500]))))
    return found
