"""The rules every write obeys, installed on the session factory (``install``).

Whatever writes through the ORM — a GUI action, the CLI, a sync import, the hub — passes:

* the signed-record lock: a signed inspection and its rows (answers, officers, photos,
  signatures, what its 责令改正 ordered) are never changed or deleted;
* the version bump: a changed synced row gets ``version + 1`` once per transaction, unless
  the writer set the version itself (a sync import, a conflict resolution) — sync tells
  "changed since we last exchanged it" by the version;
* the audit trail: every insert, update and delete is chained into the audit log
  (``core.audit``), and the chain's head is sealed now and then (``core.anchors``);
* published checklists and rules (``published_resources``) are never changed or deleted: a
  new version is a new row (``core.published``);
* tombstones: a deleted row that had synced leaves a ``sync_tombstones`` row, so the
  deletion travels (``core.deletions``).

Below the ORM the database's own triggers hold the same lock (``db.signed_lock``); at
each commit the transaction's "signed here" markers are cleared, and the triggers'
refusal, whichever statement met it, surfaces as ``RecordLocked``.

``AppContext.open`` installs them; nothing depends on a module being imported first.
"""
from __future__ import annotations

import re

from sqlalchemy import Engine, event, inspect as sa_inspect
from sqlalchemy.orm import Session, sessionmaker

from core import anchors
from core.audit import note_versions, write_audit
from core.deletions import delete_orphans, record_deletions
from core.errors import RecordLocked
from db.models import (CaseDocument, Correction, Inspection, InspectionOfficer, ItemResult, OfficerSignature, Photo,
                       PublishedResource, Questioning, Rectification, ServiceReceipt, Signature, SyncMixin)
from db.signed_lock import FRESH_TABLE, LOCK_MARK

_BUMPED = "guards.bumped"  # session.info: rows whose version this transaction has moved
# The follow-up may close a rectification; what was ordered stays fixed.
_LOCKED_RECTIFICATION_FIELDS = ("number", "deadline", "requirements", "inspection_id")


def install(sessions: sessionmaker[Session]) -> None:
    """Attach the rules to every session this factory makes."""
    event.listen(sessions, "before_flush", delete_orphans)  # first: the lock and the audit see them
    event.listen(sessions, "before_flush", refuse_changes_when_signed)
    event.listen(sessions, "before_flush", bump_versions)
    event.listen(sessions, "before_flush", note_versions)  # after the bump: what the audit records
    event.listen(sessions, "after_flush", write_audit)
    event.listen(sessions, "after_flush", record_deletions)  # after the audit: its head places the tombstone
    event.listen(sessions, "before_commit", _before_commit)
    event.listen(sessions, "after_commit", _after_commit)
    event.listen(sessions, "after_soft_rollback", lambda session, _previous: _forget_bumps(session))
    engine = sessions.kw.get("bind")
    if isinstance(engine, Engine) and not event.contains(engine, "handle_error", refused_by_trigger):
        event.listen(engine, "handle_error", refused_by_trigger)


def _before_commit(session: Session) -> None:
    """The last flush, then: clear the lock's "signed here" markers and seal the audit head if due."""
    session.flush()
    connection = session.connection()
    if connection.exec_driver_sql(f"SELECT 1 FROM {FRESH_TABLE} LIMIT 1").first() is not None:
        connection.exec_driver_sql(f"DELETE FROM {FRESH_TABLE}")
    anchors.seal_before_commit(session, connection)


def _after_commit(session: Session) -> None:
    _forget_bumps(session)
    anchors.after_commit(session)


# --- the signed-record lock --------------------------------------------------------------------

def _was_signed(inspection: Inspection) -> bool:
    history = sa_inspect(inspection).attrs.status.history
    if history.deleted:
        return history.deleted[0] == "signed"
    return inspection.status == "signed" and not sa_inspect(inspection).pending


def _parent(session: Session, obj) -> Inspection | None:
    if isinstance(obj, Inspection):
        return obj
    if isinstance(obj, (ItemResult, Photo, Signature, InspectionOfficer, Rectification, Correction,
                        OfficerSignature)):
        if obj.inspection is not None:
            return obj.inspection
        with session.no_autoflush:
            return session.get(Inspection, obj.inspection_id)
    return None


# One row is the whole document: locked once its stored status is "signed".
DOCUMENT_MODELS = (Questioning, ServiceReceipt, CaseDocument)


def document_label(row) -> str:
    if isinstance(row, CaseDocument):
        from core.casework.kinds import KIND_TITLES  # the titles live with the service
        return KIND_TITLES.get(row.kind, "文书")
    return "询问笔录" if isinstance(row, Questioning) else "送达回证"


def _questioning_was_signed(row) -> bool:
    history = sa_inspect(row).attrs.status.history
    if history.deleted:
        return history.deleted[0] == "signed"
    return row.status == "signed" and not sa_inspect(row).pending


def refuse_changes_when_signed(session: Session, _context, _instances) -> None:
    """Refuse the flush if it would change a signed inspection or one of its rows."""
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, PublishedResource):
            if obj in session.deleted or (obj in session.dirty and session.is_modified(obj)):
                raise RecordLocked(f"已发布的检查表或规则（{obj.name} 第 {obj.resource_version} 版）不能修改或删除；"
                                   "请发布新的版本")
            continue
        if isinstance(obj, DOCUMENT_MODELS):  # 询问笔录, 送达回证, case papers: one row is the whole record
            if _questioning_was_signed(obj) and (obj in session.deleted or session.is_modified(obj)):
                raise RecordLocked(f"{document_label(obj)} {obj.number} 已签名锁定，不能再修改")
            continue
        parent = _parent(session, obj)
        if parent is None or not _was_signed(parent):
            continue
        if isinstance(obj, Rectification) and obj not in session.deleted and obj not in session.new:
            state = sa_inspect(obj)
            if not any(state.attrs[name].history.has_changes() for name in _LOCKED_RECTIFICATION_FIELDS):
                continue
        if obj in session.dirty and not session.is_modified(obj):
            continue
        raise RecordLocked(f"检查记录 {parent.number} 已签名锁定，不能再修改；如需更正请新建记录")


_TABLE_LABELS = {"inspections": "检查记录", "inspection_officers": "检查人员", "item_results": "检查项结果",
                 "photos": "照片", "signatures": "签名", "rectifications": "责令改正",
                 "corrections": "更正", "template_snapshots": "检查表模板",
                 "questionings": "询问笔录", "service_receipts": "送达回证", "case_documents": "案件文书"}


def refused_by_trigger(context) -> None:
    """Engine ``handle_error``: the database's lock refused a statement → ``RecordLocked``."""
    text = str(context.original_exception)
    if LOCK_MARK not in text:
        return
    found = re.search(re.escape(LOCK_MARK) + r" \((\w+)\)", text)
    label = _TABLE_LABELS.get(found.group(1), found.group(1)) if found else "检查记录"
    if found and found.group(1) in ("questionings", "service_receipts", "case_documents"):
        raise RecordLocked(f"已签名锁定的{label}不能修改或删除（数据库拒绝了这一更改）")
    raise RecordLocked(f"已签名锁定的检查记录不能修改或删除（数据库拒绝了对{label}的更改）；如需更正请新建记录")


# --- the version bump ------------------------------------------------------------------------

def bump_versions(session: Session, _context, _instances) -> None:
    """``version + 1`` for each changed synced row, once per transaction, unless set explicitly."""
    bumped = session.info.setdefault(_BUMPED, set())
    for obj in session.dirty:
        if not isinstance(obj, SyncMixin) or not session.is_modified(obj, include_collections=False):
            continue
        state = sa_inspect(obj)
        key = (obj.__tablename__, state.identity)
        if key in bumped:
            continue
        bumped.add(key)
        if not state.attrs.version.history.has_changes():
            obj.version = (obj.version or 0) + 1


def _forget_bumps(session: Session) -> None:
    session.info.pop(_BUMPED, None)
