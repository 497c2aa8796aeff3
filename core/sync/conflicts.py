"""Sync conflicts: two sides changed the same record; a person keeps one version.

``resolve_conflict``: "local" keeps this database's row, "remote" applies the other side's
row through the ORM (audit trail, signed-record lock). Either way the row's version moves
past both sides so the outcome syncs onward and the other side accepts it; the conflict is
marked resolved (who: the audit entry of that change). Only the admin may resolve
(permission ``resolve_conflicts``).

A delete against an edit (``ConflictRow.deleted``, docs/sync-format.md "Tombstones"):
when the other side deleted it, "remote" deletes the row here (never a signed one; the
tombstone goes on to the other peers) and "local" keeps it with a version past the
tombstone's, so the other side gets it back; when it was deleted here, "remote" restores the
other side's row and "local" keeps it deleted, the tombstone sent again past both versions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from core.errors import InvalidInput, NotFound, RecordLocked
from core.inspections import signature_path
from core.sync.codec import local_time, record_values
from core.sync.devices import role, upstream
from core.sync.spec import (
    BY_TABLE, DOCUMENT_TABLES, INSPECTION_CHILDREN, S_DEVICE_NAME, S_STATION_DEVICE, S_STATION_NAME, TABLE_LABELS,
)
from core.users import require
from core.deletions import referring, write_tombstones
from db.models import AuditEntry, Device, Inspection, Subject, SyncConflict, SyncTombstone, utcnow

if TYPE_CHECKING:
    from core.context import AppContext




FIELD_LABELS = {
    "id": "标识", "created_at": "创建时间", "updated_at": "修改时间", "version": "版本", "device_id": "创建设备",
    "number": "文书编号", "subject_id": "监管对象", "status": "状态", "place": "检查地点", "findings": "检查情况",
    "party_statement": "当事人意见", "party_present_name": "到场当事人", "party_refused": "当事人拒签",
    "witness_name": "见证人", "started_at": "检查开始", "ended_at": "检查结束", "completed_at": "完成时间",
    "signed_at": "签名时间", "content_hash": "内容摘要", "notified_by": "告知人", "kind": "类型",
    "purpose": "目的", "name": "名称", "credit_code": "统一社会信用代码", "address": "地址", "legal_rep": "法定代表人",
    "phone": "电话", "grid": "网格", "category": "类别", "result": "结果", "note": "说明", "item_code": "检查项",
    "description": "描述", "priority": "优先级", "due": "截止日期", "officers_json": "执法人员",
    "signer_name": "签名人", "role": "角色", "deadline": "整改期限", "requirements": "整改要求",
    "inspection_id": "检查记录", "party_json": "当事人信息", "template_code": "检查表",
    "template_version": "检查表版本", "template_sha": "检查表快照",
}


@dataclass(frozen=True)
class FieldDiff:
    name: str
    label: str
    local: str
    remote: str

    @property
    def differs(self) -> bool:
        return self.local != self.remote


@dataclass(frozen=True)
class ConflictRow:
    id: int
    table: str
    table_label: str
    record_id: str
    title: str  # what the record is, for people: a document number, a name...
    from_device: str  # the sender's name
    created_at: datetime  # local time
    local: dict[str, Any]
    remote: dict[str, Any]
    resolved_at: datetime | None
    resolved_by: str = ""
    # ids shown as names: devices, subjects, inspections (their numbers)
    device_names: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # a delete against an edit: "remote" (the other side deleted it), "local" (deleted here)
    deleted: str = ""

    @property
    def deleted_label(self) -> str:
        return {"remote": "对方已删除", "local": "本机已删除"}.get(self.deleted, "")

    @property
    def fields(self) -> list[FieldDiff]:
        """Every field of either version: the differing ones first, then in the table's column order."""
        model = BY_TABLE.get(self.table)
        order = [c.key for c in model.__table__.columns] if model is not None else []
        names = [n for n in order if n in self.remote or n in self.local]
        names += [n for n in [*self.remote, *self.local] if n not in names]
        names = list(dict.fromkeys(names))

        def show(data: dict, name: str) -> str:
            value = data.get(name)
            if name.endswith("_id") and isinstance(value, str) and value in self.device_names:
                return self.device_names[value]  # a device's name, a subject's name, an inspection's number
            return _show(value)

        if self.deleted == "remote":  # the remote side is a tombstone, not a row
            names = [n for n in order if n in self.local] or list(self.local)
        absent_here = "（本机已删除）" if self.deleted == "local" else "（本机无此记录）"
        diffs = [FieldDiff(n, FIELD_LABELS.get(n, n), show(self.local, n) if self.local else absent_here,
                           "（对方已删除）" if self.deleted == "remote" else show(self.remote, n)) for n in names]
        return [d for d in diffs if d.differs] + [d for d in diffs if not d.differs]

    @property
    def differing(self) -> list[str]:
        if self.deleted:
            return [self.deleted_label]
        return [f.label for f in self.fields if f.differs and f.name not in ("version", "updated_at")]


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            pass
    return str(value)


def _title(table: str, local: dict, remote: dict) -> str:
    either = remote or local
    for key in ("number", "name", "signer_name", "item_code", "description"):
        if either.get(key):
            text = str(either[key])
            return text if len(text) <= 30 else text[:29] + "…"
    return str(either.get("id", ""))[:8]


def _device_names(ctx: AppContext, session) -> dict[str, str]:
    names = {d.id: d.name for d in session.scalars(select(Device))}
    names[ctx.device_id] = ctx.setting_or(S_DEVICE_NAME, "") or ctx.setting("station_name")
    if role(ctx) == "device":
        names[ctx.setting(S_STATION_DEVICE)] = ctx.setting(S_STATION_NAME)
    above = upstream(ctx)
    if above is not None:  # the county this station is a member of (docs/levels.md)
        names[above[0]] = above[1]
    return names


def list_conflicts(ctx: AppContext, *, include_resolved: bool = False) -> list[ConflictRow]:
    """Conflicts, oldest first; open ones only unless ``include_resolved``."""
    query = select(SyncConflict).order_by(SyncConflict.id)
    if not include_resolved:
        query = query.where(SyncConflict.resolved_at.is_(None))
    rows = []
    with ctx.sessions() as s:
        names = _device_names(ctx, s)
        conflicts = [(c, json.loads(c.local_json), json.loads(c.remote_json)) for c in s.scalars(query)]
        for model, key, column in ((Subject, "subject_id", Subject.name), (Inspection, "inspection_id", Inspection.number)):
            ids = {d.get(key) for _c, local, remote in conflicts for d in (local, remote) if d.get(key)}
            if ids:
                names.update((i, label) for i, label in s.execute(select(model.id, column).where(model.id.in_(ids))))
        for c, local, remote in conflicts:
            by = ""
            if c.resolved_at is not None:
                by = s.scalar(select(AuditEntry.actor).where(
                    AuditEntry.table_name == "sync_conflicts", AuditEntry.record_id == str(c.id))
                    .order_by(AuditEntry.seq.desc()).limit(1)) or ""
            rows.append(ConflictRow(c.id, c.table_name, TABLE_LABELS.get(c.table_name, c.table_name), c.record_id,
                                    _title(c.table_name, local, remote), names.get(c.from_device, c.from_device[:8]),
                                    local_time(c.created_at), local, remote, local_time(c.resolved_at), by,
                                    names, deleted=c.deleted or ""))
    return rows


def _signed_parent(session, table: str, obj):
    """The signed inspection this row is (or belongs to), if any."""
    if table == "inspections":
        parent = obj
    elif table in INSPECTION_CHILDREN:
        parent = session.get(Inspection, obj.inspection_id)
    elif table in DOCUMENT_TABLES:
        parent = obj  # a one-row document: locked once signed
    else:
        return None
    return parent if parent is not None and parent.status == "signed" else None


@dataclass(frozen=True)
class Resolution:
    conflict_id: int
    choice: str
    version: int | None  # the row's version afterwards (None: the row was left untouched)


def _image_missing(ctx: AppContext, table: str, remote: dict) -> bool:
    """A signature whose image file (staged with the package that brought the conflict) is not here."""
    if table != "signatures":
        return False
    try:
        return not signature_path(ctx, str(remote.get("sha256") or "")).is_file()
    except InvalidInput:
        return True


def resolve_conflict(ctx: AppContext, conflict_id: int, choice: str) -> Resolution:
    """Resolve one conflict: ``"local"`` keeps this row, ``"remote"`` takes the other side's.

    Taking the remote version of a signed inspection (or of one of its rows) is refused
    with ``RecordLocked`` and nothing changes.
    """
    require(ctx, "resolve_conflicts")
    if choice not in ("local", "remote"):
        raise InvalidInput(f"未知的处理方式“{choice}”（可用：local、remote）")
    try:
        with ctx.transaction() as s:
            conflict = s.get(SyncConflict, conflict_id)
            if conflict is None:
                raise NotFound("找不到该同步冲突")
            if conflict.resolved_at is not None:
                raise InvalidInput("该同步冲突已处理过")
            model = BY_TABLE.get(conflict.table_name)
            if model is None or conflict.table_name == "template_snapshots":
                raise InvalidInput(f"无法处理数据表 {conflict.table_name} 的冲突，请先升级本软件")
            label = TABLE_LABELS.get(conflict.table_name, conflict.table_name)
            remote, local_json = json.loads(conflict.remote_json), json.loads(conflict.local_json)
            obj = s.get(model, conflict.record_id)
            version = None
            if conflict.deleted == "remote" and choice == "remote":  # take the deletion
                if obj is not None:
                    if _signed_parent(s, conflict.table_name, obj) is not None:
                        raise RecordLocked(f"{label}属于已签名锁定的检查记录，不能删除")
                    if referring(s, conflict.table_name, conflict.record_id,
                                 besides=("task_reasons",) if conflict.table_name == "inspection_tasks" else ()):
                        raise InvalidInput(f"本机仍有记录引用该{label}，不能删除；请保留本机版本")
                    s.delete(obj)  # the tombstone goes on to the other peers (core.deletions)
            elif conflict.deleted == "local" and choice == "local":  # keep it deleted, and say so again
                tomb = s.get(SyncTombstone, (conflict.table_name, conflict.record_id))
                if tomb is not None:
                    version = max(tomb.version, int(remote.get("version") or 0)) + 1
                    tomb_row = {c.key: getattr(tomb, c.key) for c in SyncTombstone.__table__.columns}
            elif choice == "remote":
                values = record_values(model, remote, {}, binary=False)
                if conflict.table_name == "signatures":
                    values["png"] = None  # its image is the file the import staged
                if obj is None:
                    if local_json:
                        raise InvalidInput(f"本机同一位置已有另一条{label}，不能采用对方版本；请保留本机版本")
                    if _image_missing(ctx, conflict.table_name, remote):
                        raise InvalidInput(f"对方版本的{label}图像未随冲突保存，不能采用；请保留本机版本")
                    obj = model(**values)
                    s.add(obj)
                    version = obj.version = int(remote.get("version") or 1) + 1
                else:
                    if remote.get("sha256") != getattr(obj, "sha256", None) and \
                            _image_missing(ctx, conflict.table_name, remote):
                        raise InvalidInput(f"对方版本的{label}图像未随冲突保存，不能采用；请保留本机版本")
                    version = max(obj.version, int(remote.get("version") or 0)) + 1
                    for key, value in values.items():
                        if key not in ("id", "version") and getattr(obj, key) != value:
                            setattr(obj, key, value)
                    obj.version = version
                    obj.updated_at = utcnow()
            elif obj is not None and _signed_parent(s, conflict.table_name, obj) is None:
                # the kept row goes out again with a version past both, so the other side takes it
                version = obj.version = max(obj.version, int(remote.get("version") or 0)) + 1
            conflict.resolved_at = utcnow()
            s.flush()
            if conflict.deleted == "local" and choice == "remote":
                s.execute(delete(SyncTombstone.__table__).where(
                    SyncTombstone.table_name == conflict.table_name, SyncTombstone.record_id == conflict.record_id))
            elif conflict.deleted == "local" and version is not None:  # after this flush's audit entry
                write_tombstones(s.connection(), [{**tomb_row, "version": version, "origin": None,
                                                   "deleted_by": s.info.get("actor", "系统")[:64]}])
    except RecordLocked as exc:
        raise RecordLocked(exc.message.split("，")[0] + "，不能采用对方版本；请选择“保留本机版本”") from exc
    return Resolution(conflict_id, choice, version)
