"""Sync status for the panel: the peers, the last package written and read, what is pending.

Only reads (the pending count uses the export's own change query, ``changes.pending_changes``),
except ``record_result``, which remembers the panel's last outcome in the settings.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.sync.changes import pending_changes
from core.sync.codec import local_time
from core.sync.devices import peers, role
from core.sync.spec import S_DEVICE_NAME, TABLE_LABELS
from db.models import SyncBatch, SyncConflict

if TYPE_CHECKING:
    from core.sync.apply import ImportSummary
    from core.context import AppContext


LAST_RESULT = "last_result"  # JSON {"at": iso, "text": one line}: what the panel last did


HUB_URL = "hub_url"  # the station hub's address last used by the panel ("与所里同步")


ROLE_LABELS = {"station": "所里的电脑（站点）", "device": "执法笔记本", None: "尚未设置同步"}


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


def _last(session, direction: str, names: dict[str, str]) -> Exchange | None:
    batch = session.scalar(select(SyncBatch).where(SyncBatch.direction == direction)
                           .order_by(SyncBatch.created_at.desc(), SyncBatch.id.desc()).limit(1))
    if batch is None:
        return None
    return Exchange(local_time(batch.created_at), names.get(batch.peer_id, batch.peer_id[:8]), batch.seq)


def sync_status(ctx: AppContext) -> SyncStatus:
    this_role = role(ctx)
    known = peers(ctx, required=False)
    names = dict(known)
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
    if this_role == "device":
        device_name = ctx.setting_or(S_DEVICE_NAME, "")
    else:
        device_name = ctx.setting("station_name")
    return SyncStatus(this_role, ROLE_LABELS.get(this_role, this_role or ""), device_name, known, last_export, last_import,
                      pending, open_conflicts, result_text, result_at)


def record_result(ctx: AppContext, text: str) -> None:
    """Remember the outcome of the last export or import, one line, for the panel."""
    ctx.set_setting(LAST_RESULT, json.dumps({"at": ctx.clock().isoformat(), "text": text}, ensure_ascii=False))


def describe_import(summary: ImportSummary, files: int = 1) -> str:
    """The one-line summary of an import (applied / unchanged / conflicts / already imported)."""
    if summary.already_imported:
        return f"已导入 {files} 个同步包：均已导入过，未作任何更改"
    text = f"已导入 {files} 个同步包：更新 {summary.applied} 条，未变 {summary.unchanged} 条，冲突 {summary.conflicts} 条"
    if summary.conflicts:
        text += "（请在下方“同步冲突”中处理）"
    return text


def describe_hub(pushed, pulled) -> str:
    """One line for a push then a pull through the hub (``client.HubSummary`` each)."""
    text = (f"已与所里同步：上传 {pushed.packages} 个同步包（所里更新 {pushed.applied} 条，冲突 {pushed.conflicts} 条）；"
            f"下载 {pulled.packages} 个同步包：更新 {pulled.applied} 条，未变 {pulled.unchanged} 条，"
            f"冲突 {pulled.conflicts} 条")
    if pulled.conflicts:
        text += "（请在下方“同步冲突”中处理）"
    return text
