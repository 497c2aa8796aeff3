"""Deleting records that may have synced, and the tombstones that carry the deletion.

What may be deleted, decided with the domain (docs/sync-format.md "Tombstones"):

* a **mistaken subject** (a duplicate or a typing error in the register) that nothing refers
  to yet — no inspection, task, lead, 询问笔录… — with its risk-grade history and trigger
  events (``delete_subject``, permission ``subjects``); a subject that has closed is not
  deleted but given the status 注销/停业;
* a **withdrawn task** that nobody has started (status 待检查, no inspection), with its
  reasons (``delete_task``, permission ``oversight``); a started one is cancelled instead;
* a **lead photo** while the lead is still open (``remove_lead_photo``: the reporter, or
  whoever manages leads);
* the rows an unsigned inspection can lose while it is worked on: a photo removed, an
  officer taken off, a re-drawn signature (``core.inspections``).

A draft inspection is never deleted: it has taken a document number, and a number is never
silently lost — it is voided (作废, ``core.void_register``) and stays in the register. A
signed inspection and every row of it can never be deleted (``core.guards`` and the
database's triggers refuse it), here or by a tombstone.

Whatever deletes a row of ``TOMBSTONE_TABLES`` through the ORM, a ``sync_tombstones`` row is
written in the same flush (``record_deletions``, installed by ``core.guards``) when the
record had been exchanged with a peer (it has a ``sync_base``): the export sends it (the
deletion's audit position is the tombstone's place in the export watermark). Deletions
applied by a sync import write their tombstones themselves (``core.sync.tombstones``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert, inspect as sa_inspect, select
from sqlalchemy.orm import Session

from core.errors import NotFound, WorkflowError
from core.users import require
from db.models import (
    AuditEntry, Base, GradeChange, InspectionTask, LeadPhoto, Setting, Subject, SyncBase, SyncMixin, SyncTombstone,
    TriggerEvent, utcnow,
)

if TYPE_CHECKING:
    from core.context import AppContext

# The tables whose rows a tombstone may delete (anything else in a package is refused).
TOMBSTONE_TABLES = ("subjects", "grade_changes", "trigger_events", "inspection_tasks", "task_reasons", "lead_photos",
                    "inspection_officers", "photos", "signatures")
SYNC_PREFIX = "同步"  # core.sync.spec.SYNC_ACTOR_PREFIX: an import writes its own tombstones
OPEN_LEAD = ("reported", "received", "assigned")


def delete_orphans(session: Session, _flush_context, _instances) -> None:
    """Before a flush: a row taken out of its parent's collection (a photo removed from a
    draft) is deleted explicitly, so the audit log and the tombstones see the deletion —
    the flush's own orphan cascade would delete it unseen."""
    for obj in list(session.dirty):
        state = sa_inspect(obj)
        if isinstance(obj, SyncMixin) and state.persistent and state.mapper._is_orphan(state):
            session.delete(obj)


def record_deletions(session: Session, _flush_context) -> None:
    """After a flush: a tombstone for every deleted row of ``TOMBSTONE_TABLES`` that had synced."""
    actor = session.info.get("actor", "系统")
    if actor.startswith(SYNC_PREFIX):
        return
    gone = [(obj.__tablename__, obj.id, obj.version) for obj in session.deleted
            if isinstance(obj, SyncMixin) and obj.__tablename__ in TOMBSTONE_TABLES]
    if not gone:
        return
    connection = session.connection()
    synced = [(t, i, v) for t, i, v in gone if connection.execute(select(SyncBase.version).where(
        SyncBase.table_name == t, SyncBase.record_id == i).limit(1)).first() is not None]
    if not synced:
        return
    device = connection.execute(select(Setting.value).where(Setting.key == "device_id")).scalar() or ""
    clock = session.info.get("clock")
    write_tombstones(connection, [{
        "table_name": t, "record_id": i, "version": v, "deleted_at": clock() if clock else utcnow(),
        "deleted_by": actor[:64], "device_id": device, "origin": None} for t, i, v in synced])


def write_tombstones(connection, rows: list[dict]) -> None:
    """Insert or replace tombstones; their audit position is the log's head (the deletions' entries)."""
    seq = connection.execute(select(func.max(AuditEntry.seq))).scalar() or 0
    for row in rows:
        connection.execute(delete(SyncTombstone.__table__).where(
            SyncTombstone.table_name == row["table_name"], SyncTombstone.record_id == row["record_id"]))
        connection.execute(insert(SyncTombstone.__table__), [{**row, "audit_seq": seq}])


def referring(session: Session, table: str, record_id: str, *, besides: tuple[str, ...] = ()) -> list[str]:
    """The tables (other than ``besides``) with a row that refers to ``table``'s record ``record_id``."""
    found = []
    for other in Base.metadata.sorted_tables:
        if other.name in besides:
            continue
        for column in other.columns:
            if any(fk.column.table.name == table for fk in column.foreign_keys):
                if session.execute(select(column).where(column == record_id).limit(1)).first() is not None:
                    found.append(other.name)
                    break
    return found


def delete_subject(ctx: AppContext, subject_id: str) -> None:
    """Delete a subject entered by mistake, with its grade history and trigger events."""
    require(ctx, "subjects")
    with ctx.transaction() as s:
        subject = s.get(Subject, subject_id)
        if subject is None:
            raise NotFound("找不到该监管对象")
        events = s.scalars(select(TriggerEvent).where(TriggerEvent.subject_id == subject_id)).all()
        used = referring(s, "subjects", subject_id, besides=("grade_changes", "trigger_events"))
        used += [t for e in events for t in referring(s, "trigger_events", e.id)]
        if used:
            raise WorkflowError(f"监管对象“{subject.name}”已有检查记录、任务或线索等关联记录，不能删除；"
                                "如已注销或停业，请修改其状态")
        for row in [*events, *s.scalars(select(GradeChange).where(GradeChange.subject_id == subject_id))]:
            s.delete(row)
        s.flush()
        s.delete(subject)


def delete_task(ctx: AppContext, task_id: str) -> None:
    """Delete a task withdrawn before anyone started it (with its reasons); a started one is cancelled."""
    require(ctx, "oversight")
    with ctx.transaction() as s:
        task = s.get(InspectionTask, task_id)
        if task is None:
            raise NotFound("找不到该检查任务")
        if task.status != "open" or task.inspection_id is not None:
            raise WorkflowError("该检查任务已开始或已结束，不能删除；如不再需要，请撤销（取消）任务")
        s.delete(task)


def remove_lead_photo(ctx: AppContext, photo_id: str) -> None:
    """Remove a photo from a lead that is still open: its reporter, or whoever manages leads."""
    require(ctx, "report_lead")
    with ctx.transaction() as s:
        photo = s.get(LeadPhoto, photo_id)
        if photo is None:
            raise NotFound("找不到该线索照片")
        lead = photo.lead
        if ctx.user is not None and ctx.user.id != lead.reporter_id:
            require(ctx, "manage_leads")
        if lead.status not in OPEN_LEAD:
            raise WorkflowError("该线索已处置，照片作为证据保留，不能删除")
        lead.photos.remove(photo)
