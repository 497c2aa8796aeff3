"""Applying a verified package: all of it in one transaction, or none of it.

Records are matched by UUID and version against the sender's base (``changes``): a record
only the sender changed is taken, one both sides changed is kept as a conflict
(``sync_conflicts``) for a person, a signed inspection here is never overwritten. Records
this machine has never seen go in by the bulk path (``bulk``): executemany on SQLite, COPY on
PostgreSQL.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect as sa_inspect, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import anchors
from core.audit import lock_chain
from core.errors import InvalidInput
from core.attachments import read_attachment, stored_form
from core.inspections import photo_path, safe_attachment_name, signature_path
from core.inspections.records import SIGNATURE_EXT
from core.sync.bulk import Prefetch, bulk_insert, prefetch
from core.sync.changes import base_version, received_batch, set_base
from core.sync.codec import current, dump, record_values
from core.sync.devices import role, sender_key, sender_kind
from core.sync.levels import SECRETS, assign_stations, keep_secrets, refuse_clashes
from core.sync.package import Package, read_package
from core.sync.documents import prove_documents
from core.sync.signed import prove_signed
from core.sync.tombstones import apply_tombstones
from core.sync.validate import shown
from core.sync.spec import (
    ATTACHMENT_TABLES, BY_TABLE, DOCUMENT_TABLES, FROM_ABOVE, INSPECTION_CHILDREN, INSPECTION_GROUP, NATURAL_KEYS,
    PUBLISHED, STATION_REFUSES, SYNC_ACTOR_PREFIX,
)
from core.users import require
from db.models import Inspection, Signature, SyncBatch, SyncConflict, SyncPeer, SyncTombstone, TemplateSnapshot, utcnow

if TYPE_CHECKING:
    from core.context import AppContext


BULK = True  # records never seen here go in by the bulk path; tests turn it off to compare with the careful one


def _before_commit(pkg: Package) -> None:
    """Called inside the import transaction just before it commits; tests patch it to
    pause there (a process killed mid-import, a hub busy with an import)."""


@dataclass
class ImportSummary:
    applied: int = 0
    unchanged: int = 0
    conflicts: int = 0
    already_imported: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "unchanged": self.unchanged, "conflicts": self.conflicts,
                "already_imported": self.already_imported}


def _signed_before(inspection: Inspection | None) -> bool:
    """Signed in the database already (not merely being signed by this import)."""
    if inspection is None or sa_inspect(inspection).pending:
        return False
    history = sa_inspect(inspection).attrs.status.history
    return (history.deleted[0] if history.deleted else inspection.status) == "signed"


def _locked(session: Session, table: str, inspection_id: str | None, record_id: str | None = None) -> bool:
    """Whether a row of ``table`` belongs to (or is) an inspection signed before this import,
    or is a one-row document (询问笔录, 送达回证, case paper) signed here."""
    if table in DOCUMENT_TABLES:
        local = session.get(BY_TABLE[table], record_id) if record_id else None
        return local is not None and _signed_before(local)
    if table != "inspections" and table not in INSPECTION_CHILDREN:
        return False
    return _signed_before(session.get(Inspection, inspection_id)) if inspection_id else False


def _clash(session: Session, table: str, remote: dict[str, Any]):
    """The local row with the same natural key as ``remote`` but another id, if any."""
    columns = NATURAL_KEYS.get(table)
    if not columns:
        return None
    found = session.scalar(select(BY_TABLE[table]).filter_by(**{c: remote.get(c) for c in columns}))
    return found if found is not None and found.id != remote["id"] else None


def _drop_superseded(session: Session, pkg: Package, plan: Prefetch | None = None) -> None:
    """Delete local rows the sender has replaced by a new row in the same place.

    Only rows unchanged here since they were last exchanged with this sender, and not
    part of an inspection signed here; any other clash becomes a conflict. Flushed
    before the records are applied, so the new row does not meet the old one's key.
    """
    sender = pkg.manifest["device_id"]
    for table in NATURAL_KEYS:
        for remote in pkg.records.get(table, ()):
            if plan is not None and remote["id"] not in plan.clashes.get(table, ()):
                continue  # known in advance: no row of this machine stands in its place
            if session.get(BY_TABLE[table], remote["id"]) is not None:
                continue
            local = _clash(session, table, remote)
            if local is None or _locked(session, table, local.inspection_id):
                continue
            if local.version == base_version(session, sender, table, local.id):
                session.delete(local)
    session.flush()


def _apply_record(session: Session, pkg: Package, table: str, remote: dict[str, Any],
                  blobs: dict[str, bytes], summary: ImportSummary) -> None:
    """Insert, update, keep or record as a conflict one incoming record."""
    model = BY_TABLE[table]
    sender = pkg.manifest["device_id"]
    if table == "template_snapshots":
        if session.get(TemplateSnapshot, remote["sha256"]) is None:
            session.add(TemplateSnapshot(**record_values(model, remote, blobs)))
            summary.applied += 1
        else:
            summary.unchanged += 1
        return
    local = session.get(model, remote["id"])
    if table == PUBLISHED and local is not None:  # never changed once written (core.published)
        if current(local) != remote:
            raise InvalidInput(f"同步包 {shown(pkg.path.name, 120)} 改动了已发布的{local.name} 第 {local.resource_version} 版"
                               "（发布的检查表和规则不能修改），已拒绝，未导入任何内容")
        summary.unchanged += 1
        set_base(session, sender, table, remote["id"], remote["version"])
        return
    base = base_version(session, sender, table, remote["id"])
    parent_id = remote["id"] if table == "inspections" else remote.get("inspection_id")
    locked = _locked(session, table, parent_id, remote["id"])
    clash = _clash(session, table, remote) if local is None else None
    if local is None and session.get(SyncTombstone, (table, remote["id"])) is not None:
        if base is not None and remote["version"] <= base:
            summary.unchanged += 1  # an old copy of a record deleted here
        else:  # deleted here, changed there: for a person to decide
            _keep_conflict(session, table, remote["id"], {}, remote, sender, deleted="local")
            summary.conflicts += 1
        return
    if local is None and (locked or clash is not None):
        # a new row for an inspection signed here, or in the place of a row changed here:
        # never added, kept for a person to look at
        _keep_conflict(session, table, remote["id"], current(clash) if clash is not None else {}, remote, sender)
        summary.conflicts += 1
        return
    if local is None:
        session.add(model(**record_values(model, remote, blobs)))
        summary.applied += 1
    else:
        mine = current(local)
        if mine == remote:
            summary.unchanged += 1
        elif base is not None and remote["version"] <= base:
            summary.unchanged += 1  # the sender has not changed it since the last exchange
        elif base is not None and local.version == base and not locked:
            for key, value in record_values(model, remote, blobs).items():
                setattr(local, key, value)
            summary.applied += 1
        else:
            _keep_conflict(session, table, remote["id"], mine, remote, sender)
            summary.conflicts += 1
            return  # the base stays: the record is still in conflict
    set_base(session, sender, table, remote["id"], remote["version"])


def _keep_conflict(session: Session, table: str, record_id: str, mine: dict, remote: dict, sender: str, *,
                   deleted: str = "") -> None:
    remote_json = dump(remote)
    known = session.scalar(select(SyncConflict.id).filter_by(
        table_name=table, record_id=record_id, remote_json=remote_json, resolved_at=None))
    if known is None:
        session.execute(insert(SyncConflict.__table__), [{
            "table_name": table, "record_id": record_id, "local_json": dump(mine), "remote_json": remote_json,
            "from_device": sender, "created_at": utcnow(), "resolved_at": None, "deleted": deleted}])


STAGING = ".staging"  # inside the attachments folder: photo files of imports not yet committed
STAGING_KEEP_SECONDS = 24 * 3600  # an import's staging folder older than this is a crashed one's


def _inside(folder: Path, target: Path) -> bool:
    try:
        target.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


@dataclass
class _Staged:
    """Photo files written to a staging folder, to be moved into place once the import commits."""

    moves: list[tuple[Path, Path]]
    work: Path | None = None
    created: list[Path] | None = None  # folders made for staging, removed again if left empty
    overwrite: set[Path] | None = None  # damaged files here that the package's intact ones replace

    def place(self) -> None:
        for source, target in self.moves:
            if target.exists() and target not in (self.overwrite or ()):
                source.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
        self.discard()

    def discard(self) -> None:
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)
        for folder in reversed(self.created or []):
            try:
                folder.rmdir()  # only if empty
            except OSError:
                pass


def _stage_attachments(ctx: AppContext, pkg: Package) -> _Staged:
    """Photo files the import brings, written to a staging folder inside the attachments folder.

    Names were checked with the records (``<64 hex>.<ext>``, bytes hashing to the name);
    each final path is checked once more to lie inside the attachments folder. The files
    are moved into place only after the transaction commits (``_Staged.place``): a refused
    import leaves the attachments folder as it was.
    """
    root = Path(ctx.attachments_dir)
    wanted: dict[Path, bytes] = {}
    seen: set[str] = set()
    for record in pkg.records.get("signatures", ()):  # signature images are files too (0023), never the column
        if record["sha256"] in seen:  # many rows share an image: each path resolved once, not per row
            continue
        seen.add(record["sha256"])
        target = signature_path(ctx, record["sha256"])
        data = pkg.attachments.get(target.name)
        if data is not None and _inside(root, target) and target not in wanted and not _whole(ctx, target):
            wanted[target] = data
    for table in ATTACHMENT_TABLES:
        for record in pkg.records.get(table, ()):
            data = pkg.attachments.get(f"{record['sha256']}.{record['ext']}")
            if data is None:
                continue
            target = photo_path(ctx, record["sha256"], record["ext"])
            if not _inside(root, target):
                raise InvalidInput(f"同步包 {shown(pkg.path.name, 120)} 的照片 {record['sha256']} 不在附件目录内，已拒绝")
            if target not in wanted and not target.exists():
                wanted[target] = data
    staged = _Staged([], created=[], overwrite={t for t in wanted if t.exists()})
    if not wanted:
        return staged
    try:
        for folder in (root, root / STAGING):
            if not folder.is_dir():
                folder.mkdir(parents=True)
                staged.created.append(folder)
        staged.work = Path(tempfile.mkdtemp(dir=root / STAGING, prefix="import-"))
        for target, data in wanted.items():
            source = staged.work / target.name
            with open(source, "xb") as fh:
                fh.write(stored_form(ctx, target.name, data))  # encrypted under this database's key
                fh.flush()
                os.fsync(fh.fileno())
            staged.moves.append((source, target))
    except OSError as exc:
        staged.discard()
        raise InvalidInput(f"无法写入附件目录 {root}（{exc.strerror or exc}），请检查磁盘空间；未导入任何内容") from exc
    return staged


def _recover_staging(ctx: AppContext) -> None:
    """Photo files of an import that committed but was killed before moving them: put in place.

    Only files the database refers to (and whose bytes hash to their name) are moved;
    staging folders older than a day are removed.
    """
    staging = Path(ctx.attachments_dir) / STAGING
    if not staging.is_dir():
        return
    for work in staging.iterdir():
        files = [f for f in work.iterdir() if f.is_file()] if work.is_dir() else []
        moved = 0
        for source in files:
            sha, _, ext = source.name.partition(".")
            if not safe_attachment_name(sha, ext):
                continue
            target = photo_path(ctx, sha, ext)
            if target.exists() or not _referenced(ctx, sha, ext):
                continue
            if _intact(ctx, source):
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
                moved += 1
        # emptied here (a committed import's leftovers), or a crashed import's, long ago
        if work.is_dir() and ((files and moved == len(files))
                              or time.time() - work.stat().st_mtime > STAGING_KEEP_SECONDS):
            shutil.rmtree(work, ignore_errors=True)
    try:
        staging.rmdir()  # only if nothing is left
    except OSError:
        pass


def _intact(ctx: AppContext, source: Path) -> bool:
    """A staged file decrypts (or reads) whole and hashes to its name."""
    try:
        read_attachment(ctx, source)
    except InvalidInput:
        return False
    return True


def _whole(ctx: AppContext, target: Path) -> bool:
    """A signature file already here that reads back whole (a damaged one is written again)."""
    return target.exists() and _intact(ctx, target)


def _referenced(ctx: AppContext, sha: str, ext: str) -> bool:
    with ctx.sessions() as s:
        if ext == SIGNATURE_EXT and s.scalar(select(Signature.id).where(Signature.sha256 == sha).limit(1)) is not None:
            return True
        return any(s.scalar(select(model.id).where(model.sha256 == sha, model.ext == ext).limit(1)) is not None
                   for model in ATTACHMENT_TABLES.values())


def import_package(ctx: AppContext, path: Path, *, package: Package | None = None) -> ImportSummary:
    """Verify, then apply one package in a single transaction (all of it or none).

    ``package``: the same file already read by ``read_package`` (the hub reads it first
    to check who signed it); it is not read again. Photo files go into the attachments
    folder only once the transaction has committed.
    """
    require(ctx, "sync")  # every role may sync: what a package may change is decided by its signature
    pkg = package if package is not None else read_package(ctx, path)
    _recover_staging(ctx)
    sender, seq = pkg.manifest["device_id"], int(pkg.manifest["seq"])
    summary = ImportSummary()
    seen = received_batch(ctx, sender, seq)
    if seen is not None:
        if seen != pkg.sha256:
            raise InvalidInput(f"同步包 {shown(pkg.path.name, 120)} 的批次号 {seq} 已导入过另一个内容不同的包，已拒绝")
        summary.already_imported = True
        return summary
    staged = _stage_attachments(ctx, pkg)
    try:
        _apply(ctx, pkg, summary)
    except BaseException:
        staged.discard()
        raise
    staged.place()
    return summary


def _apply(ctx: AppContext, pkg: Package, summary: ImportSummary) -> None:
    blobs: dict[str, bytes] = {}  # signature images are staged as files: the png column stays NULL
    kind = sender_kind(ctx, pkg.manifest["device_id"])
    station = role(ctx) == "station"
    if pkg.records.get(PUBLISHED) and kind != "above":  # checklists and rules only come down
        raise InvalidInput(f"同步包 {shown(pkg.path.name, 120)} 含有发布的检查表或规则，但本级只接受上级发布的"
                           "（下级设备不能发布）：已拒绝，未导入任何内容")
    # a station keeps its own users; those of a member station (or of the level above) come in
    skip = STATION_REFUSES if station and kind == "laptop" else set()
    try:
        with ctx.transaction() as s:
            # the audit chain's lock first: no audited write commits while the import runs, or a
            # local edit committed between reading a record and writing the remote one over it
            # would be lost (tests/integration/test_sync_snapshot.py)
            lock_chain(s.connection())
            above = station and kind == "above"
            s.info["actor"] = (f"{FROM_ABOVE}{pkg.sender_name}" if above else f"{SYNC_ACTOR_PREFIX}:{pkg.sender_name}")[:64]
            # the receipt first: its INSERT opens the database transaction the pragma needs
            _record_receipt(ctx, s, pkg)
            # deletions first (children before parents): the proof below and the records
            # then meet the rows as they stand after them (a photo removed, then signed)
            deleted, kept, conflicts = apply_tombstones(s, pkg, _keep_conflict)
            summary.applied += deleted
            summary.unchanged += kept
            summary.conflicts += conflicts
            if kind == "station":  # each new record keeps its station (docs/levels.md)
                assign_stations(ctx, s, pkg, pkg.sender_name)
            elif above:  # a number or a user's name the level above holds for another record here
                refuse_clashes(ctx, s, pkg)
            # signed means proven: checked against this database inside the transaction
            prove_signed(ctx, s, pkg)
            prove_documents(ctx, s, pkg)
            if ctx.engine.dialect.name == "sqlite":
                # The single flush inserts rows of unrelated mappers in no guaranteed FK
                # order (a task before its inspection): check the keys at commit instead.
                s.connection().exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            # Other databases (PostgreSQL, the hub) have no deferred-FK pragma: flush
            # table by table in FK order instead, keeping an inspection and its child rows
            # in one flush so a signed inspection arriving with them passes the lock.
            staged = ctx.engine.dialect.name != "sqlite"
            # Records never seen here go in by bulk insert (seconds, not minutes, for 10,000
            # inspections) after the rest, decided one by one, are flushed: executemany on
            # SQLite, COPY on PostgreSQL, parents before children (``bulk.bulk_insert``).
            plan = prefetch(s, pkg, skip) if BULK else None
            _drop_superseded(s, pkg, plan)
            tables = list(BY_TABLE)
            with s.no_autoflush:
                for i, table in enumerate(tables):
                    bulk = plan.new.get(table, ()) if plan is not None else ()
                    for remote in pkg.records.get(table, ()):
                        if table in skip:
                            summary.unchanged += 1
                        elif remote.get("id") not in bulk:  # template snapshots have no id: never bulk
                            if kind != "laptop" and station and table in SECRETS:
                                remote = keep_secrets(s, table, remote)
                            _apply_record(s, pkg, table, remote, blobs, summary)
                    following = tables[i + 1] if i + 1 < len(tables) else None
                    if staged and not (table in INSPECTION_GROUP and following in INSPECTION_GROUP):
                        s.flush()
            s.flush()
            if plan is not None:
                summary.applied += bulk_insert(s, pkg, plan, blobs)
            _before_commit(pkg)
    except IntegrityError as exc:
        raise InvalidInput(f"同步包 {shown(pkg.path.name, 120)} 与本机数据冲突（编号或关联记录不一致），未导入任何内容；"
                           "如有多个包请按批次号顺序导入") from exc


def _record_receipt(ctx: AppContext, session: Session, pkg: Package) -> None:
    """Remember the batch (for idempotence) and the sender's acknowledgement of ours."""
    sender, seq = pkg.manifest["device_id"], int(pkg.manifest["seq"])
    session.execute(insert(SyncBatch.__table__), [{
        "direction": "in", "peer_id": sender, "seq": seq, "sha256": pkg.sha256,
        "audit_upto": None, "created_at": utcnow()}])
    acked = int((pkg.manifest.get("acks") or {}).get(pkg.manifest["to_device_id"], 0))
    peer = session.get(SyncPeer, sender)
    if peer is None:
        session.execute(insert(SyncPeer.__table__), [{"peer_id": sender, "last_imported_seq": seq, "acked_seq": acked}])
    else:
        session.execute(update(SyncPeer.__table__).filter_by(peer_id=sender).values(
            last_imported_seq=max(peer.last_imported_seq, seq), acked_seq=max(peer.acked_seq, acked)))
    # the sender's sealed audit head: kept here, where its own machine cannot rewrite it
    anchors.receive(session, pkg.manifest, sender_key(ctx, pkg.manifest, pkg.path.name)[0], pkg.path.name)


def import_packages(ctx: AppContext, paths: list[Path]) -> ImportSummary:
    """Import several packages in the order given; ``already_imported`` when all of them were."""
    total = ImportSummary(already_imported=bool(paths))
    for path in paths:
        one = import_package(ctx, path)
        total.applied += one.applied
        total.unchanged += one.unchanged
        total.conflicts += one.conflicts
        total.already_imported = total.already_imported and one.already_imported
    return total
