"""Batch sync over a USB stick or shared folder (DESIGN.md "Sync in batches").

A station registers each laptop (``add_device`` / ``enrol_device``), then the two sides
exchange signed ``.zip`` packages (docs/sync-format.md):

* ``export_packages`` writes, per peer, every record changed since the last batch that
  peer acknowledged. Changes are found in the audit log; entries written while importing
  (actor "同步:…") are left out so imported records are never echoed back.
* ``import_package`` verifies the whole package (zip, signature, station, format,
  every member's SHA-256) before it touches the database, then applies it in one
  transaction through the ORM, so the signed-record lock and the audit trail see it.

Records are matched by UUID and version against ``sync_base`` — the version last sent
to or received from *that* peer — so "both sides changed it" is a conflict that is kept
(``sync_conflicts``), never silently dropped. Deletions do not travel (no tombstones yet).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import time
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, LargeBinary, func, insert, inspect as sa_inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.context import AppContext
from core.errors import InvalidInput
from core.files import write_atomically
from core.audit import append_entries, inserted_entry
from core.inspections import photo_path
from db.models import (
    AuditEntry,
    Device,
    GradeChange,
    Inspection,
    InspectionOfficer,
    InspectionPlan,
    InspectionTask,
    ItemResult,
    Lead,
    LeadPhoto,
    Photo,
    Rectification,
    Signature,
    Subject,
    SyncBase,
    SyncBatch,
    SyncConflict,
    SyncPeer,
    TaskReason,
    TemplateSnapshot,
    TriggerEvent,
    User,
    utcnow,
)

FORMAT = "yxjc-sync"
FORMAT_VERSION = 1
ENROLMENT_FORMAT = "yxjc-enrolment"
SYNC_ACTOR_PREFIX = "同步"
PAUSE_ENV = "YXJC_TEST_PAUSE_IMPORT"  # tests only: seconds to sleep inside the import transaction
DEFAULT_MAX_MB = 50
MAX_DEVICE_NO = 99

# Every synced table, parents before children (the order records are written and applied).
MODELS: tuple[type, ...] = (
    TemplateSnapshot, Subject, User, TriggerEvent, GradeChange, InspectionPlan, Inspection,
    InspectionOfficer, ItemResult, Photo, Signature, Rectification, InspectionTask, TaskReason,
    Lead, LeadPhoto,
)
BY_TABLE: dict[str, type] = {m.__tablename__: m for m in MODELS}
# Tables whose changes are found in the audit log (template snapshots are immutable and
# not audited: they travel with the inspections that use them).
AUDITED_TABLES = tuple(name for name in BY_TABLE if name != "template_snapshots")
# The station keeps its own list of users and passwords; laptops never change it.
STATION_REFUSES = {"users"}
# Rows that belong to an inspection: never overwritten once it is signed.
INSPECTION_CHILDREN = {"inspection_officers", "item_results", "photos", "signatures", "rectifications"}
# Child rows that also have a natural key: re-drawing a signature (or re-entering an
# officer) makes a new row, with a new UUID, in the same place as the old one.
# An inspection and its rows: flushed together on PostgreSQL (see ``import_package``).
_INSPECTION_GROUP = {"inspections", *INSPECTION_CHILDREN}
NATURAL_KEYS = {"signatures": ("inspection_id", "role"), "inspection_officers": ("inspection_id", "position"),
                "item_results": ("inspection_id", "item_code")}

S_ROLE, S_STATION_ID, S_STATION_NAME = "sync.role", "sync.station_id", "sync.station_name"
S_STATION_DEVICE, S_STATION_PUB, S_PRIVATE = "sync.station_device_id", "sync.station_public_key", "sync.private_key"
S_DEVICE_NAME = "sync.device_name"


# --- keys -------------------------------------------------------------------------------

def _new_key_pair() -> tuple[str, str]:
    """A fresh Ed25519 key pair as raw hex: (private, public)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    return private, public


def _sign(private_hex: str, data: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex)).sign(data)


def _signature_ok(public_hex: str, data: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _public_of(private_hex: str) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex))
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- devices and enrolment -----------------------------------------------------------------

def role(ctx: AppContext) -> str | None:
    """"station", "device" (an enrolled laptop) or None (not set up for sync)."""
    return ctx.setting_or(S_ROLE, "") or None


def _ensure_station(ctx: AppContext) -> None:
    """The first registration makes this database a station: an id and a key pair."""
    if role(ctx) == "device":
        raise InvalidInput("本机是已登记到所里的笔记本，不能再登记其他设备")
    if role(ctx) == "station":
        return
    private, _public = _new_key_pair()
    ctx.set_settings({S_ROLE: "station", S_STATION_ID: str(uuid.uuid4()), S_PRIVATE: private})


def add_device(ctx: AppContext, name: str, out: Path | None = None) -> dict[str, Any]:
    """Register a laptop at the station; returns the enrolment data to hand to it.

    The laptop's private key is generated here and travels only in the enrolment file,
    so the station can register a laptop without a network between them. With ``out``
    the file is written inside the transaction: if it cannot be written, no device is recorded.
    """
    name = name.strip()
    if not name:
        raise InvalidInput("请填写设备名称")
    _ensure_station(ctx)
    private, public = _new_key_pair()
    device_id = str(uuid.uuid4())
    with ctx.transaction() as s:
        if s.scalar(select(Device).where(Device.name == name)) is not None:
            raise InvalidInput(f"设备“{name}”已登记")
        used = set(s.scalars(select(Device.device_no)))
        free = [n for n in range(1, MAX_DEVICE_NO + 1) if n not in used]
        if not free:
            raise InvalidInput(f"设备号 1 至 {MAX_DEVICE_NO} 已全部分配")
        s.add(Device(id=device_id, name=name, public_key=public, device_no=free[0]))
        enrolment = {
            "format": ENROLMENT_FORMAT, "format_version": FORMAT_VERSION,
            "station_id": ctx.setting(S_STATION_ID), "station_name": ctx.setting("station_name"),
            "station_device_id": ctx.device_id, "station_public_key": _public_of(ctx.setting(S_PRIVATE)),
            "device_id": device_id, "device_name": name, "device_no": free[0],
            "device_private_key": private, "device_public_key": public,
        }
        if out is not None:
            write_atomically(Path(out), json.dumps(enrolment, ensure_ascii=False, indent=2).encode("utf-8"))
    return enrolment


@dataclass(frozen=True)
class DeviceRow:
    """A laptop registered at the station, as the CLI and screens list it."""

    device_no: int
    name: str
    id: str


def list_devices(ctx: AppContext) -> list[DeviceRow]:
    """The laptops registered at this station, in device_no order."""
    with ctx.sessions() as s:
        return [DeviceRow(device_no=d.device_no, name=d.name, id=d.id)
                for d in s.scalars(select(Device).order_by(Device.device_no))]


def enrol_device(ctx: AppContext, data: dict[str, Any]) -> None:
    """Make this database the station's laptop described by an enrolment file."""
    needed = ("station_id", "station_name", "station_device_id", "station_public_key", "device_id",
              "device_name", "device_no", "device_private_key", "device_public_key")
    if data.get("format") != ENROLMENT_FORMAT or any(k not in data for k in needed):
        raise InvalidInput("登记文件无效（不是本软件生成的设备登记文件）")
    if int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise InvalidInput("登记文件由更新版本的软件生成，请先升级本软件")
    try:
        if _public_of(data["device_private_key"]) != data["device_public_key"]:
            raise ValueError
        bytes.fromhex(data["station_public_key"])
    except ValueError as exc:
        raise InvalidInput("登记文件中的密钥无效") from exc
    if role(ctx) == "station":
        raise InvalidInput("本机是所里的电脑（已登记过设备），不能作为笔记本登记")
    current = ctx.setting_or(S_STATION_ID, "")
    if current and current != data["station_id"]:
        raise InvalidInput("本机已登记到另一个所，不能再登记到这个所")
    ctx.set_settings({
        S_ROLE: "device", S_STATION_ID: data["station_id"], S_STATION_NAME: data["station_name"],
        S_STATION_DEVICE: data["station_device_id"], S_STATION_PUB: data["station_public_key"],
        S_PRIVATE: data["device_private_key"], S_DEVICE_NAME: data["device_name"],
        "device_id": data["device_id"], "device_no": str(int(data["device_no"])),
    })


def _peers(ctx: AppContext, session: Session) -> list[tuple[str, str]]:
    """Who this database exchanges packages with: [(device id, name)]."""
    if role(ctx) == "station":
        return [(d.id, d.name) for d in session.scalars(select(Device).order_by(Device.device_no))]
    if role(ctx) == "device":
        return [(ctx.setting(S_STATION_DEVICE), ctx.setting(S_STATION_NAME))]
    raise InvalidInput("本机尚未设置同步：所里的电脑请先登记设备（devices add），笔记本请先登记（devices enrol）")


# --- records as JSON --------------------------------------------------------------------------

def _to_json(table: str, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """One row as JSON-ready values; binary columns become attachments keyed by SHA-256."""
    out, attachments = {}, {}
    for key, value in row.items():
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif isinstance(value, bytes):
            attachments[f"attachments/{_sha(value)}.png"] = value
            value = None
        out[key] = value
    return out, attachments


def record_values(model: type, data: dict[str, Any], blobs: dict[str, bytes], *,
                  binary: bool = True) -> dict[str, Any]:
    """Column values for the ORM from a JSON record (the inverse of ``_to_json``).

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


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# --- package writing ---------------------------------------------------------------------------

def _write_zip_atomically(target: Path, manifest: bytes, signature: bytes, members: dict[str, bytes]) -> None:
    """Write the package under a temp name in the same folder, then rename it.

    A full disk or a pulled USB stick leaves at most a ``.part`` file (removed when
    possible), never a half-written package under the final name.
    """
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w") as zf:
                zf.writestr("manifest.json", manifest, zipfile.ZIP_STORED)
                zf.writestr("manifest.sig", signature, zipfile.ZIP_STORED)
                for name, data in members.items():
                    method = zipfile.ZIP_STORED if name.startswith("attachments/") else zipfile.ZIP_DEFLATED
                    zf.writestr(name, data, method)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise InvalidInput(f"无法写入同步包 {target.name}（{exc.strerror or exc}），请检查磁盘空间") from exc


@dataclass
class _Batch:
    """Records and attachments collected for one package."""

    lines: dict[str, list[str]] = field(default_factory=dict)
    attachments: dict[str, bytes] = field(default_factory=dict)
    versions: list[tuple[str, str, int]] = field(default_factory=list)  # (table, id, version) sent
    size: int = 0

    def add(self, table: str, record: dict[str, Any], attachments: dict[str, bytes]) -> None:
        line = _dump(record)
        self.lines.setdefault(table, []).append(line)
        self.size += len(line.encode("utf-8")) + 1
        for name, data in attachments.items():
            if name not in self.attachments:
                self.attachments[name] = data
                self.size += len(data)
        if "version" in record and "id" in record:
            self.versions.append((table, record["id"], record["version"]))

    def members(self) -> dict[str, bytes]:
        out = {f"records/{t}.jsonl": ("\n".join(lines) + "\n").encode("utf-8")
               for t in BY_TABLE if (lines := self.lines.get(t))}
        out.update(self.attachments)
        return out


# --- export -----------------------------------------------------------------------------------

def _watermark(session: Session, peer: str) -> int:
    """The audit seq covered by the newest of our batches this peer has acknowledged."""
    acked = session.scalar(select(SyncPeer.acked_seq).where(SyncPeer.peer_id == peer)) or 0
    upto = session.scalar(select(SyncBatch.audit_upto).where(
        SyncBatch.direction == "out", SyncBatch.peer_id == peer, SyncBatch.seq == acked))
    return upto or 0


def _changed(session: Session, since: int, upto: int) -> dict[str, set[str]]:
    """(table → record ids) changed locally — not by an import — after ``since``."""
    rows = session.execute(
        select(AuditEntry.table_name, AuditEntry.record_id).distinct()
        .where(AuditEntry.seq > since, AuditEntry.seq <= upto, AuditEntry.table_name.in_(AUDITED_TABLES),
               ~AuditEntry.actor.startswith(SYNC_ACTOR_PREFIX))
    )
    changed: dict[str, set[str]] = {}
    for table, record_id in rows:
        changed.setdefault(table, set()).add(record_id)
    return changed


def _add_missing_parents(session: Session, peer: str, changed: dict[str, set[str]]) -> None:
    """Add to ``changed`` every record an exported row refers to that the peer may lack.

    The station forwards no laptop's records to another laptop, but its own later edit
    (say, of a task made on laptop A for A's inspection) goes to every laptop: laptop B
    must receive the inspection it refers to, or the foreign key fails and B's import is
    refused for good. "The peer has it" = it was sent to or received from the peer
    (``sync_base``). An inspection added this way comes whole, with its child rows.
    """
    pending = {table: set(ids) for table, ids in changed.items()}
    while pending:
        added: dict[str, set[str]] = {}

        def add(table: str, record_id: str) -> None:
            if record_id not in changed.setdefault(table, set()):
                changed[table].add(record_id)
                added.setdefault(table, set()).add(record_id)

        for table, ids in pending.items():
            model = BY_TABLE[table]
            links = [(c.key, fk.column.table.name) for c in model.__table__.columns for fk in c.foreign_keys
                     if fk.column.table.name in AUDITED_TABLES]
            if not links:
                continue
            for row in _rows(session, model, sorted(ids)):
                for column, parent in links:
                    value = row[column]
                    if value and value not in changed.get(parent, ()) and _base(session, peer, parent, value) is None:
                        add(parent, value)
        for inspection_id in sorted(added.get("inspections", ())):
            for child in sorted(INSPECTION_CHILDREN):
                child_table = BY_TABLE[child].__table__
                for (child_id,) in session.execute(select(child_table.c.id).where(
                        child_table.c.inspection_id == inspection_id)):
                    add(child, child_id)
        pending = added


def _rows(session: Session, model: type, ids: list[str], key: str = "id"):
    table = model.__table__
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        yield from session.execute(select(table).where(table.c[key].in_(chunk)).order_by(table.c[key])).mappings()


def _record_of(ctx: AppContext, table: str, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """One exported record with its attachments (signature PNG, photo file)."""
    record, attachments = _to_json(table, row)
    if table in ("photos", "lead_photos"):
        path = photo_path(ctx, record["sha256"], record["ext"])
        if path.is_file():
            attachments[f"attachments/{record['sha256']}.{record['ext']}"] = path.read_bytes()
    return record, attachments


def _collect(ctx: AppContext, session: Session, changed: dict[str, set[str]], max_bytes: int) -> list[_Batch]:
    """The current row of every changed record, in FK order, split into batches by size.

    An inspection and its changed rows (answers, photos, signatures...) always travel in
    the same package: a signed inspection must arrive together with its children, since
    once it is signed at the receiver no child can be added to it.
    """
    Unit = list[tuple[str, dict[str, Any], dict[str, bytes]]]
    before: list[Unit] = []
    groups: dict[str, Unit] = {}
    after: list[Unit] = []
    snapshots: set[str] = set()
    tables = list(BY_TABLE)
    for model in MODELS:
        table = model.__tablename__
        if table == "template_snapshots":
            continue
        for row in _rows(session, model, sorted(changed.get(table, ()))):
            record, attachments = _record_of(ctx, table, dict(row))
            if table == "inspections":
                snapshots.add(record["template_sha"])
                groups.setdefault(record["id"], []).append((table, record, attachments))
            elif table in INSPECTION_CHILDREN:
                groups.setdefault(record["inspection_id"], []).append((table, record, attachments))
            elif tables.index(table) < tables.index("inspections"):
                before.append([(table, record, attachments)])
            else:
                after.append([(table, record, attachments)])
    # the templates first, in the first package, before any inspection that uses them
    first: Unit = [("template_snapshots", _to_json("template_snapshots", dict(row))[0], {})
                   for row in _rows(session, TemplateSnapshot, sorted(snapshots), key="sha256")]
    batches = [_Batch()]
    for unit in [first, *before, *groups.values(), *after]:
        size = sum(len(_dump(r)) + sum(map(len, a.values())) for _t, r, a in unit)
        if batches[-1].size > 0 and batches[-1].size + size > max_bytes:
            batches.append(_Batch())
        for table, record, attachments in unit:
            batches[-1].add(table, record, attachments)
    return batches


def export_packages(ctx: AppContext, out_dir: Path, *, max_mb: float = DEFAULT_MAX_MB,
                    peer: str | None = None) -> list[Path]:
    """Write one package per peer (more above ``max_mb``); returns their paths.

    Everything changed since the watermark the peer acknowledged goes again, so a lost
    package costs nothing: the next export carries its records too. ``peer``: only for
    that one registered device (the HTTP hub exports for the laptop that asks).
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InvalidInput(f"找不到导出目录 {out_dir}")
    max_bytes = max(int(max_mb * 1024 * 1024), 1)
    paths: list[Path] = []
    with ctx.sessions() as probe:
        peers = _peers(ctx, probe)
    if peer is not None:
        peers = [p for p in peers if p[0] == peer]
        if not peers:
            raise InvalidInput("该设备未在本所登记，无法为它导出同步包")
    for peer_id, _name in peers:
        paths.extend(_export_to(ctx, out_dir, peer_id, max_bytes))
    return paths


def _export_to(ctx: AppContext, out_dir: Path, peer: str, max_bytes: int) -> list[Path]:
    """All packages for one peer, recorded as sent in the same transaction.

    If any package cannot be written the transaction rolls back and the packages already
    written by this call are removed: their seqs will be used again by the next export.
    """
    paths: list[Path] = []
    try:
        return _write_batches(ctx, out_dir, peer, max_bytes, paths)
    except BaseException:
        for path in paths:
            path.unlink(missing_ok=True)
        raise


def _write_batches(ctx: AppContext, out_dir: Path, peer: str, max_bytes: int, paths: list[Path]) -> list[Path]:
    with ctx.transaction() as s:
        upto = s.scalar(select(func.max(AuditEntry.seq))) or 0
        changed = _changed(s, _watermark(s, peer), upto)
        _add_missing_parents(s, peer, changed)
        batches = _collect(ctx, s, changed, max_bytes)
        last_in = s.scalar(select(SyncPeer.last_imported_seq).where(SyncPeer.peer_id == peer)) or 0
        seq = s.scalar(select(func.max(SyncBatch.seq)).where(
            SyncBatch.direction == "out", SyncBatch.peer_id == peer)) or 0
        for batch in batches:
            seq += 1
            members = batch.members()
            manifest = {
                "format": FORMAT, "format_version": FORMAT_VERSION,
                "station_id": ctx.setting(S_STATION_ID), "device_id": ctx.device_id,
                "to_device_id": peer, "seq": seq, "created_at": ctx.clock().isoformat(),
                "counts": {t: len(lines) for t, lines in batch.lines.items()},
                "members": {name: _sha(data) for name, data in sorted(members.items())},
                "acks": {peer: last_in},
            }
            manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
            target = out_dir / f"sync-{ctx.device_id[:8]}-to-{peer[:8]}-{seq:06d}.zip"
            _write_zip_atomically(target, manifest_bytes, _sign(ctx.setting(S_PRIVATE), manifest_bytes), members)
            paths.append(target)
            s.execute(insert(SyncBatch.__table__), [{
                "direction": "out", "peer_id": peer, "seq": seq, "sha256": _sha(target.read_bytes()),
                "audit_upto": upto, "created_at": utcnow()}])
            for table, record_id, version in batch.versions:
                _set_base(s, peer, table, record_id, version)
    return paths


def _set_base(session: Session, peer: str, table: str, record_id: str, version: int) -> None:
    key = {"peer_id": peer, "table_name": table, "record_id": record_id}
    done = session.execute(update(SyncBase.__table__).filter_by(**key).values(version=version))
    if done.rowcount == 0:
        session.execute(insert(SyncBase.__table__), [{**key, "version": version}])


# --- package reading and verification ------------------------------------------------------------

@dataclass
class Package:
    """A package that passed every check: its manifest, records and attachments."""

    path: Path
    sha256: str
    manifest: dict[str, Any]
    sender_name: str
    records: dict[str, list[dict[str, Any]]]
    attachments: dict[str, bytes]


def _read_members(path: Path) -> tuple[bytes, dict[str, bytes]]:
    """Every member of the zip; a truncated or corrupted file gives one clear message."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"无法读取同步包 {path.name}：{exc.strerror or exc}") from exc
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            members = {}
            for info in zf.infolist():
                if info.filename in members:
                    raise InvalidInput(f"同步包 {path.name} 无效：成员 {info.filename} 重复")
                try:
                    members[info.filename] = zf.read(info)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                    raise InvalidInput(f"同步包 {path.name} 已损坏：{info.filename} 校验失败") from exc
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InvalidInput(f"同步包 {path.name} 已损坏或不完整（可能复制时被中断），请重新导出") from exc
    return raw, members


def _sender(ctx: AppContext, manifest: dict[str, Any], name: str) -> tuple[str, str]:
    """(public key, name) of the sender, who must be registered with our station."""
    sender = str(manifest.get("device_id", ""))
    if role(ctx) == "station":
        with ctx.sessions() as s:
            device = s.get(Device, sender)
        if device is None:
            raise InvalidInput(f"同步包 {name} 来自未登记的设备，已拒绝")
        return device.public_key, device.name
    if role(ctx) == "device":
        if sender != ctx.setting(S_STATION_DEVICE):
            raise InvalidInput(f"同步包 {name} 不是本所发出的，已拒绝")
        return ctx.setting(S_STATION_PUB), ctx.setting(S_STATION_NAME)
    raise InvalidInput("本机尚未设置同步：所里的电脑请先登记设备（devices add），笔记本请先登记（devices enrol）")


def read_package(ctx: AppContext, path: Path) -> Package:
    """Open and verify a package completely; raises ``InvalidInput`` on the first problem.

    Nothing here touches the database, so a refused package leaves it as it was.
    """
    path = Path(path)
    name = path.name
    raw, members = _read_members(path)
    if "manifest.json" not in members or "manifest.sig" not in members:
        raise InvalidInput(f"同步包 {name} 无效：缺少清单或签名")
    manifest_bytes = members.pop("manifest.json")
    signature = members.pop("manifest.sig")
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
        version = int(manifest["format_version"])
        if manifest.get("format") != FORMAT:
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"同步包 {name} 的清单已损坏或不是本软件的同步包") from exc
    if version > FORMAT_VERSION:
        raise InvalidInput(f"同步包 {name} 由更新版本的软件生成（格式版本 {version}），请先升级本软件")
    if manifest.get("station_id") != ctx.setting_or(S_STATION_ID, ""):
        raise InvalidInput(f"同步包 {name} 来自其他所，已拒绝")
    public_key, sender_name = _sender(ctx, manifest, name)
    if not _signature_ok(public_key, manifest_bytes, signature):
        raise InvalidInput(f"同步包 {name} 的签名无效（内容被改动，或不是由登记的设备签发），已拒绝")
    if manifest.get("to_device_id") != ctx.device_id:
        raise InvalidInput(f"同步包 {name} 是发给另一台设备的，已拒绝")
    listed = manifest.get("members") or {}
    extra = sorted(set(members) - set(listed))
    missing = sorted(set(listed) - set(members))
    if extra or missing:
        raise InvalidInput(f"同步包 {name} 无效：成员与清单不符（{', '.join(extra + missing)}）")
    for member, data in members.items():
        if _sha(data) != listed[member]:
            raise InvalidInput(f"同步包 {name} 已损坏：{member} 的 SHA-256 与清单不符")
    records: dict[str, list[dict[str, Any]]] = {}
    attachments: dict[str, bytes] = {}
    for member, data in members.items():
        if member.startswith("attachments/"):
            attachments[member.removeprefix("attachments/")] = data
        elif member.startswith("records/") and member.endswith(".jsonl"):
            table = member.removeprefix("records/").removesuffix(".jsonl")
            if table not in BY_TABLE:
                raise InvalidInput(f"同步包 {name} 含有未知的数据表 {table}，请先升级本软件")
            try:
                records[table] = [json.loads(line) for line in data.decode("utf-8").splitlines() if line]
            except (ValueError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"同步包 {name} 无效：{member} 不是有效的 JSON 行") from exc
        else:
            raise InvalidInput(f"同步包 {name} 含有未知成员 {member}")
    for record in records.get("signatures", ()):
        if f"{record.get('sha256')}.png" not in attachments:
            raise InvalidInput(f"同步包 {name} 无效：缺少签名图像 {record.get('sha256')}")
    return Package(path, _sha(raw), manifest, sender_name, records, attachments)


# --- import ---------------------------------------------------------------------------------------

@dataclass
class ImportSummary:
    applied: int = 0
    unchanged: int = 0
    conflicts: int = 0
    already_imported: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "unchanged": self.unchanged, "conflicts": self.conflicts,
                "already_imported": self.already_imported}


def _current(obj) -> dict[str, Any]:
    """A local ORM row in the package's JSON form, for comparison and for conflicts."""
    row = {c.key: getattr(obj, c.key) for c in obj.__table__.columns}
    return _to_json(obj.__tablename__, row)[0]


def _signed_before(inspection: Inspection | None) -> bool:
    """Signed in the database already (not merely being signed by this import)."""
    if inspection is None or sa_inspect(inspection).pending:
        return False
    history = sa_inspect(inspection).attrs.status.history
    return (history.deleted[0] if history.deleted else inspection.status) == "signed"


def _locked(session: Session, table: str, inspection_id: str | None) -> bool:
    """Whether a row of ``table`` belongs to (or is) an inspection signed before this import."""
    if table != "inspections" and table not in INSPECTION_CHILDREN:
        return False
    return _signed_before(session.get(Inspection, inspection_id)) if inspection_id else False


def _base(session: Session, peer: str, table: str, record_id: str) -> int | None:
    return session.scalar(select(SyncBase.version).filter_by(peer_id=peer, table_name=table, record_id=record_id))


def _clash(session: Session, table: str, remote: dict[str, Any]):
    """The local row with the same natural key as ``remote`` but another id, if any."""
    columns = NATURAL_KEYS.get(table)
    if not columns:
        return None
    found = session.scalar(select(BY_TABLE[table]).filter_by(**{c: remote.get(c) for c in columns}))
    return found if found is not None and found.id != remote["id"] else None


def _drop_superseded(session: Session, pkg: Package, plan: _Prefetch | None = None) -> None:
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
            if local.version == _base(session, sender, table, local.id):
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
    base = _base(session, sender, table, remote["id"])
    parent_id = remote["id"] if table == "inspections" else remote.get("inspection_id")
    locked = _locked(session, table, parent_id)
    clash = _clash(session, table, remote) if local is None else None
    if local is None and (locked or clash is not None):
        # a new row for an inspection signed here, or in the place of a row changed here:
        # never added, kept for a person to look at
        _keep_conflict(session, table, remote["id"], _current(clash) if clash is not None else {}, remote, sender)
        summary.conflicts += 1
        return
    if local is None:
        session.add(model(**record_values(model, remote, blobs)))
        summary.applied += 1
    else:
        mine = _current(local)
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
    _set_base(session, sender, table, remote["id"], remote["version"])


def _keep_conflict(session: Session, table: str, record_id: str, mine: dict, remote: dict, sender: str) -> None:
    remote_json = _dump(remote)
    known = session.scalar(select(SyncConflict.id).filter_by(
        table_name=table, record_id=record_id, remote_json=remote_json, resolved_at=None))
    if known is None:
        session.execute(insert(SyncConflict.__table__), [{
            "table_name": table, "record_id": record_id, "local_json": _dump(mine), "remote_json": remote_json,
            "from_device": sender, "created_at": utcnow(), "resolved_at": None}])


def _store_attachments(ctx: AppContext, pkg: Package) -> None:
    """Photo files into the attachments folder by content hash.

    Written before the transaction: if the import then fails, an unreferenced file
    under its own hash is harmless and the next attempt finds it in place.
    """
    for table in ("photos", "lead_photos"):
        for record in pkg.records.get(table, ()):
            data = pkg.attachments.get(f"{record['sha256']}.{record['ext']}")
            target = photo_path(ctx, record["sha256"], record["ext"])
            if data is not None and not target.exists():
                write_atomically(target, data)


# --- the bulk path: records this machine has never seen ------------------------------------

CHUNK = 500


def _chunks(items: list) -> list[list]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


@dataclass
class _Prefetch:
    """What the database knows about a package's records, read per table in a few queries."""

    new: dict[str, set[str]] = field(default_factory=dict)      # table → ids safe to bulk-insert
    clashes: dict[str, set[str]] = field(default_factory=dict)  # table → ids whose place is taken here


def _prefetch(session: Session, pkg: Package, skip: set[str]) -> _Prefetch:
    """Find the records that need no decision: not here, never exchanged, no clash, no signed parent.

    A brand-new record can be inserted as it is; everything else takes the careful path
    (``_apply_record``) record by record.
    """
    sender = pkg.manifest["device_id"]
    plan = _Prefetch()
    ids = {t: [r["id"] for r in pkg.records.get(t, ())] for t in BY_TABLE if t != "template_snapshots"}
    parents = {r.get("inspection_id") for t in INSPECTION_CHILDREN for r in pkg.records.get(t, ())} - {None}
    parents |= set(ids.get("inspections", ()))
    signed_here = set()
    for chunk in _chunks(sorted(parents)):
        signed_here |= set(session.scalars(select(Inspection.id).where(
            Inspection.id.in_(chunk), Inspection.status == "signed")))
    for table, table_ids in ids.items():
        if not table_ids or table in skip:
            continue
        model = BY_TABLE[table]
        known = set()
        for chunk in _chunks(table_ids):
            known |= set(session.scalars(select(model.id).where(model.id.in_(chunk))))
            known |= set(session.scalars(select(SyncBase.record_id).where(
                SyncBase.peer_id == sender, SyncBase.table_name == table, SyncBase.record_id.in_(chunk))))
        clashes = set()
        if table in NATURAL_KEYS:
            columns = NATURAL_KEYS[table]
            owners = sorted({r["inspection_id"] for r in pkg.records[table]})
            taken = {}
            for chunk in _chunks(owners):
                query = select(model.id, *(getattr(model, c) for c in columns)).where(model.inspection_id.in_(chunk))
                taken.update({tuple(row[1:]): row[0] for row in session.execute(query)})
            clashes = {r["id"] for r in pkg.records[table]
                       if taken.get(tuple(r.get(c) for c in columns)) not in (None, r["id"])}
        plan.clashes[table] = clashes
        group = table == "inspections" or table in INSPECTION_CHILDREN
        plan.new[table] = {
            r["id"] for r in pkg.records[table]
            if r["id"] not in known and r["id"] not in clashes
            and not (group and (r["id"] if table == "inspections" else r.get("inspection_id")) in signed_here)
        }
    return plan


def _bulk_insert(session: Session, ctx: AppContext, pkg: Package, plan: _Prefetch, blobs: dict[str, bytes],
                 summary: ImportSummary) -> None:
    """Insert the brand-new records in bulk, with their audit entries and bases (SQLite).

    The JSON values go to the driver's own executemany, converted once to SQLAlchemy's
    SQLite storage formats — no ORM objects, no per-row statement building: a big import
    costs seconds instead of minutes. The audit entries are chained exactly as the flush
    listener chains its own, so the trail shows every record the import added.
    """
    sender = pkg.manifest["device_id"]
    connection = session.connection()
    entries, bases = [], []
    for table, new_ids in plan.new.items():
        if not new_ids:
            continue
        model = BY_TABLE[table]
        columns = list(model.__table__.columns)
        records = [r for r in pkg.records[table] if r["id"] in new_ids]
        if any(len(r) != len(columns) or any(c.key not in r for c in columns) for r in records):
            # an older package without some column: let SQLAlchemy fill the defaults
            rows = [record_values(model, r, blobs) for r in records]
            for chunk in _chunks(rows):
                session.execute(insert(model.__table__), chunk)
            entries += [inserted_entry(table, row) for row in rows]
        else:
            converters = [(c.key, _sqlite_converter(c)) for c in columns]
            names = ", ".join(f'"{c.name}"' for c in columns)
            connection.exec_driver_sql(
                f'INSERT INTO "{model.__table__.name}" ({names}) VALUES ({", ".join("?" * len(columns))})',
                [tuple(convert(r[key], r, blobs) for key, convert in converters) for r in records],
            )
            binary = [c.key for c in columns if isinstance(c.type, LargeBinary)]
            for r in records:
                logged = {**r, **{k: f"sha256:{r['sha256']}" for k in binary if r.get("sha256")}} if binary else r
                entries.append(inserted_entry(table, logged, plain=True))
        bases += [(sender, table, r["id"], r["version"]) for r in records]
        summary.applied += len(records)
    if entries:
        clock = session.info.get("clock")
        append_entries(connection, clock() if clock else datetime.now(), session.info["actor"], entries)
    if bases:
        connection.exec_driver_sql(
            "INSERT INTO sync_base (peer_id, table_name, record_id, version) VALUES (?, ?, ?, ?)", bases)


def _sqlite_converter(column):
    """JSON value → what SQLAlchemy's SQLite dialect stores for this column type."""
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


def import_package(ctx: AppContext, path: Path) -> ImportSummary:
    """Verify, then apply one package in a single transaction (all of it or none)."""
    pkg = read_package(ctx, path)
    sender, seq = pkg.manifest["device_id"], int(pkg.manifest["seq"])
    summary = ImportSummary()
    with ctx.sessions() as s:
        seen = s.scalar(select(SyncBatch.sha256).filter_by(direction="in", peer_id=sender, seq=seq))
    if seen is not None:
        if seen != pkg.sha256:
            raise InvalidInput(f"同步包 {pkg.path.name} 的批次号 {seq} 已导入过另一个内容不同的包，已拒绝")
        summary.already_imported = True
        return summary
    _store_attachments(ctx, pkg)
    blobs = {name.partition(".")[0]: data for name, data in pkg.attachments.items()}
    skip = STATION_REFUSES if role(ctx) == "station" else set()
    try:
        with ctx.transaction() as s:
            s.info["actor"] = f"{SYNC_ACTOR_PREFIX}:{pkg.sender_name}"
            # the receipt first: its INSERT opens the database transaction the pragma needs
            _record_receipt(ctx, s, pkg)
            if ctx.engine.dialect.name == "sqlite":
                # The single flush inserts rows of unrelated mappers in no guaranteed FK
                # order (a task before its inspection): check the keys at commit instead.
                s.connection().exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            # Other databases (PostgreSQL, the hub) have no deferred-FK pragma: flush
            # table by table in FK order instead, keeping an inspection and its child rows
            # in one flush so a signed inspection arriving with them passes the lock.
            staged = ctx.engine.dialect.name != "sqlite"
            # On SQLite, records never seen here go in by bulk insert (seconds, not minutes,
            # for 10,000 inspections); the rest are decided one by one.
            plan = None if staged else _prefetch(s, pkg, skip)
            _drop_superseded(s, pkg, plan)
            tables = list(BY_TABLE)
            with s.no_autoflush:
                for i, table in enumerate(tables):
                    bulk = plan.new.get(table, ()) if plan is not None else ()
                    for remote in pkg.records.get(table, ()):
                        if table in skip:
                            summary.unchanged += 1
                        elif remote.get("id") not in bulk:  # template snapshots have no id: never bulk
                            _apply_record(s, pkg, table, remote, blobs, summary)
                    following = tables[i + 1] if i + 1 < len(tables) else None
                    if staged and not (table in _INSPECTION_GROUP and following in _INSPECTION_GROUP):
                        s.flush()
            s.flush()
            if plan is not None:
                _bulk_insert(s, ctx, pkg, plan, blobs, summary)
            pause = float(os.environ.get(PAUSE_ENV, "0") or 0)
            if pause > 0:
                time.sleep(pause)
    except IntegrityError as exc:
        raise InvalidInput(f"同步包 {pkg.path.name} 与本机数据冲突（编号或关联记录不一致），未导入任何内容；"
                           "如有多个包请按批次号顺序导入") from exc
    return summary


def _record_receipt(ctx: AppContext, session: Session, pkg: Package) -> None:
    """Remember the batch (for idempotence) and the sender's acknowledgement of ours."""
    sender, seq = pkg.manifest["device_id"], int(pkg.manifest["seq"])
    session.execute(insert(SyncBatch.__table__), [{
        "direction": "in", "peer_id": sender, "seq": seq, "sha256": pkg.sha256,
        "audit_upto": None, "created_at": utcnow()}])
    acked = int((pkg.manifest.get("acks") or {}).get(ctx.device_id, 0))
    peer = session.get(SyncPeer, sender)
    if peer is None:
        session.execute(insert(SyncPeer.__table__), [{"peer_id": sender, "last_imported_seq": seq, "acked_seq": acked}])
    else:
        session.execute(update(SyncPeer.__table__).filter_by(peer_id=sender).values(
            last_imported_seq=max(peer.last_imported_seq, seq), acked_seq=max(peer.acked_seq, acked)))


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
