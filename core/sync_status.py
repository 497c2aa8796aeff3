"""Sync status for the GUI panel, and the resolution of sync conflicts.

``core.sync`` exchanges the packages and keeps conflicts (``sync_conflicts``); this
module only reads its tables and settings, and resolves a conflict one way or the other:

* ``sync_status``: the peers, the last package written and read, what the next export
  would carry (counted by table, found in the audit log the way the export finds it —
  nothing is written), the open conflicts and the last result shown in the panel.
* ``resolve_conflict``: "local" keeps this database's row, "remote" applies the other
  side's row through the ORM (audit trail, signed-record lock). Either way the row's
  version moves past both sides so the outcome syncs onward and the other side accepts
  it; the conflict is marked resolved (who: the audit entry of that change). Nothing is
  deleted. Only the admin may resolve (permission ``resolve_conflicts``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import LargeBinary, func, select

from core import sync
from core.context import AppContext
from core.errors import InvalidInput, NotFound, RecordLocked
from core.users import require
from db.models import AuditEntry, Device, Inspection, Subject, SyncBatch, SyncConflict, SyncPeer, utcnow

LAST_RESULT = "sync.last_result"  # JSON {"at": iso, "text": one line}: what the panel last did
HUB_URL = "sync.hub_url"  # the station hub's address last used by the panel ("与所里同步")

TABLE_LABELS = {
    "template_snapshots": "检查表模板", "subjects": "监管对象", "users": "用户", "trigger_events": "触发事件",
    "grade_changes": "风险等级调整", "inspection_plans": "检查计划", "inspections": "检查记录",
    "inspection_officers": "检查人员", "item_results": "检查项结果", "photos": "照片", "signatures": "签名",
    "rectifications": "责令改正", "inspection_tasks": "检查任务", "task_reasons": "任务原因", "leads": "线索",
    "lead_photos": "线索照片",
}
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
ROLE_LABELS = {"station": "所里的电脑（站点）", "device": "执法笔记本", None: "尚未设置同步"}


def _local_time(utc: datetime | None) -> datetime | None:
    """``sync_batches`` and ``sync_conflicts`` store UTC; the panel shows local time."""
    if utc is None:
        return None
    return utc.replace(tzinfo=timezone.utc).astimezone().replace(tzinfo=None)


# --- status -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Exchange:
    """One package written or read: when, with whom, which batch."""

    at: datetime  # local time
    peer: str
    seq: int


@dataclass(frozen=True)
class PendingRow:
    table: str
    label: str
    count: int


@dataclass
class SyncStatus:
    role: str | None
    role_label: str
    device_name: str
    peers: list[tuple[str, str]]  # (peer id, name)
    last_export: Exchange | None
    last_import: Exchange | None
    pending: list[PendingRow] = field(default_factory=list)
    open_conflicts: int = 0
    last_result: str = ""
    last_result_at: datetime | None = None

    @property
    def pending_total(self) -> int:
        return sum(row.count for row in self.pending)


def _peers(ctx: AppContext) -> list[tuple[str, str]]:
    role = sync.role(ctx)
    if role == "station":
        with ctx.sessions() as s:
            return [(d.id, d.name) for d in s.scalars(select(Device).order_by(Device.device_no))]
    if role == "device":
        return [(ctx.setting(sync.S_STATION_DEVICE), ctx.setting(sync.S_STATION_NAME))]
    return []


def _watermark(session, peer: str) -> int:
    """As the export computes it: the audit seq covered by the newest acknowledged batch."""
    acked = session.scalar(select(SyncPeer.acked_seq).where(SyncPeer.peer_id == peer)) or 0
    upto = session.scalar(select(SyncBatch.audit_upto).where(
        SyncBatch.direction == "out", SyncBatch.peer_id == peer, SyncBatch.seq == acked))
    return upto or 0


def pending_changes(ctx: AppContext) -> dict[str, int]:
    """table → number of records changed here that some peer has not acknowledged yet.

    The same audit-log query as the export (local changes, not imports, after the peer's
    watermark), without writing anything. Parents an export adds for a peer that lacks
    them, and the template snapshots that travel with inspections, are not counted.
    """
    peers = _peers(ctx)
    ids: dict[str, set[str]] = {}
    with ctx.sessions() as s:
        marks = {_watermark(s, peer) for peer, _name in peers}
        if not marks:
            return {}
        rows = s.execute(
            select(AuditEntry.table_name, AuditEntry.record_id).distinct()
            .where(AuditEntry.seq > min(marks), AuditEntry.table_name.in_(sync.AUDITED_TABLES),
                   ~AuditEntry.actor.startswith(sync.SYNC_ACTOR_PREFIX)))
        for table, record_id in rows:
            ids.setdefault(table, set()).add(record_id)
    return {table: len(ids[table]) for table in sync.BY_TABLE if table in ids}


def _last(session, direction: str, names: dict[str, str]) -> Exchange | None:
    batch = session.scalar(select(SyncBatch).where(SyncBatch.direction == direction)
                           .order_by(SyncBatch.created_at.desc(), SyncBatch.id.desc()).limit(1))
    if batch is None:
        return None
    return Exchange(_local_time(batch.created_at), names.get(batch.peer_id, batch.peer_id[:8]), batch.seq)


def sync_status(ctx: AppContext) -> SyncStatus:
    role = sync.role(ctx)
    peers = _peers(ctx)
    names = dict(peers)
    with ctx.sessions() as s:
        last_export = _last(s, "out", names)
        last_import = _last(s, "in", names)
        open_conflicts = s.scalar(select(func.count(SyncConflict.id)).where(SyncConflict.resolved_at.is_(None))) or 0
    pending = [PendingRow(t, TABLE_LABELS.get(t, t), n) for t, n in pending_changes(ctx).items()]
    result_text, result_at = "", None
    raw = ctx.setting_or(LAST_RESULT, "")
    if raw:
        try:
            data = json.loads(raw)
            result_text, result_at = data["text"], datetime.fromisoformat(data["at"])
        except (ValueError, KeyError, TypeError):
            pass
    if role == "device":
        device_name = ctx.setting_or(sync.S_DEVICE_NAME, "")
    else:
        device_name = ctx.setting("station_name")
    return SyncStatus(role, ROLE_LABELS.get(role, role or ""), device_name, peers, last_export, last_import,
                      pending, open_conflicts, result_text, result_at)


def record_result(ctx: AppContext, text: str) -> None:
    """Remember the outcome of the last export or import, one line, for the panel."""
    ctx.set_setting(LAST_RESULT, json.dumps({"at": ctx.clock().isoformat(), "text": text}, ensure_ascii=False))


def describe_import(summary: sync.ImportSummary, files: int = 1) -> str:
    """The one-line summary of an import (applied / unchanged / conflicts / already imported)."""
    if summary.already_imported:
        return f"已导入 {files} 个同步包：均已导入过，未作任何更改"
    text = f"已导入 {files} 个同步包：更新 {summary.applied} 条，未变 {summary.unchanged} 条，冲突 {summary.conflicts} 条"
    if summary.conflicts:
        text += "（请在下方“同步冲突”中处理）"
    return text


def describe_hub(pushed, pulled) -> str:
    """One line for a push then a pull through the hub (``core.sync_client.HubSummary`` each)."""
    text = (f"已与所里同步：上传 {pushed.packages} 个同步包（所里更新 {pushed.applied} 条，冲突 {pushed.conflicts} 条）；"
            f"下载 {pulled.packages} 个同步包：更新 {pulled.applied} 条，未变 {pulled.unchanged} 条，"
            f"冲突 {pulled.conflicts} 条")
    if pulled.conflicts:
        text += "（请在下方“同步冲突”中处理）"
    return text


# --- conflicts ---------------------------------------------------------------------------------

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

    @property
    def fields(self) -> list[FieldDiff]:
        """Every field of either version: the differing ones first, then in the table's column order."""
        model = sync.BY_TABLE.get(self.table)
        order = [c.key for c in model.__table__.columns] if model is not None else []
        names = [n for n in order if n in self.remote or n in self.local]
        names += [n for n in [*self.remote, *self.local] if n not in names]
        names = list(dict.fromkeys(names))

        def show(data: dict, name: str) -> str:
            value = data.get(name)
            if name.endswith("_id") and isinstance(value, str) and value in self.device_names:
                return self.device_names[value]  # a device's name, a subject's name, an inspection's number
            return _show(value)

        diffs = [FieldDiff(n, FIELD_LABELS.get(n, n), show(self.local, n) if self.local else "（本机无此记录）",
                           show(self.remote, n)) for n in names]
        return [d for d in diffs if d.differs] + [d for d in diffs if not d.differs]

    @property
    def differing(self) -> list[str]:
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
    names[ctx.device_id] = ctx.setting_or(sync.S_DEVICE_NAME, "") or ctx.setting("station_name")
    if sync.role(ctx) == "device":
        names[ctx.setting(sync.S_STATION_DEVICE)] = ctx.setting(sync.S_STATION_NAME)
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
                                    _local_time(c.created_at), local, remote, _local_time(c.resolved_at), by,
                                    names))
    return rows


def _signed_parent(session, table: str, obj) -> Inspection | None:
    """The signed inspection this row is (or belongs to), if any."""
    if table == "inspections":
        parent = obj
    elif table in sync.INSPECTION_CHILDREN:
        parent = session.get(Inspection, obj.inspection_id)
    else:
        return None
    return parent if parent is not None and parent.status == "signed" else None


@dataclass(frozen=True)
class Resolution:
    conflict_id: int
    choice: str
    version: int | None  # the row's version afterwards (None: the row was left untouched)


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
            model = sync.BY_TABLE.get(conflict.table_name)
            if model is None or conflict.table_name == "template_snapshots":
                raise InvalidInput(f"无法处理数据表 {conflict.table_name} 的冲突，请先升级本软件")
            label = TABLE_LABELS.get(conflict.table_name, conflict.table_name)
            remote, local_json = json.loads(conflict.remote_json), json.loads(conflict.local_json)
            obj = s.get(model, conflict.record_id)
            version = None
            if choice == "remote":
                values = sync.record_values(model, remote, {}, binary=False)
                if obj is None:
                    if local_json:
                        raise InvalidInput(f"本机同一位置已有另一条{label}，不能采用对方版本；请保留本机版本")
                    if any(isinstance(c.type, LargeBinary) and not c.nullable for c in model.__table__.columns):
                        raise InvalidInput(f"对方版本的{label}图像未随冲突保存，不能采用；请保留本机版本")
                    obj = model(**values)
                    s.add(obj)
                    version = obj.version = int(remote.get("version") or 1) + 1
                else:
                    if any(isinstance(c.type, LargeBinary) for c in model.__table__.columns) and \
                            remote.get("sha256") != getattr(obj, "sha256", None):
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
    except RecordLocked as exc:
        raise RecordLocked(exc.message.split("，")[0] + "，不能采用对方版本；请选择“保留本机版本”") from exc
    return Resolution(conflict_id, choice, version)
