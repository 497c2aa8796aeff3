"""更正 (correction) of a signed record: a new record that references the original.

A signed inspection never changes (``core.guards``). To correct it, ``request_correction``
makes a new draft inspection — its own document number, a copy of the original's content
(officers, answers and notes, photos, findings, the party's details) and no signatures —
and a ``Correction`` row on the copy naming the original, what is corrected (``statement``)
and why (``reason``). The copy is edited and completed like any draft; the station admin
approves it (``approve_correction``, permission ``approve_corrections``: what was approved is
held as a hash of the content without signatures, so a later edit needs approval again);
the party and the officers sign it again and it is locked with its own hash and QR code.
``verify`` of the original's QR then answers "已更正，见 …" (``core.verification``); both
records keep verifying and both keep their audit trail. The link lives on the correction.
"""
from __future__ import annotations

import json

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound, WorkflowError
from core.text import bounded_text
from core.inspections.approval import SIGNING_FACTS, approval_hash
from core.inspections.records import load_orm
from core.numbering import next_number
from core.users import require
from db.models import Correction, Inspection, InspectionOfficer, ItemResult, Photo

if TYPE_CHECKING:
    from core.context import AppContext

MAX_TEXT = 2000
# fields of the original copied to the correction as they are (the inspection's facts)
_COPIED = ("subject_id", "template_code", "template_version", "template_sha", "party_json", "kind", "purpose",
           "place", "notified_by", "started_at", "ended_at", "findings", "party_statement", "party_present_name",
           "party_refused", "witness_name")


@dataclass(frozen=True)
class CorrectionInfo:
    inspection_id: str      # the correcting record
    number: str             # its number
    status: str             # its status (draft / completed / signed)
    original_id: str
    original_number: str
    statement: str
    reason: str
    requested_by: str
    approved_by: str
    approved_at: datetime | None
    approval_current: bool = False  # approved, and the content is still what was approved

    @property
    def approved(self) -> bool:
        return self.approved_at is not None


def _actor(ctx: AppContext) -> str:
    return ctx.user.name if ctx.user is not None else "系统"


def _info(c: Correction, i: Inspection, current: bool = False) -> CorrectionInfo:
    return CorrectionInfo(i.id, i.number, i.status, c.original_id, c.original_number, c.statement, c.reason,
                          c.requested_by, c.approved_by, c.approved_at, current)


def request_correction(ctx: AppContext, of: str, *, statement: str, reason: str) -> str:
    """Start the correction of signed record ``of`` (id or number); returns the new record's id."""
    require(ctx, "inspect")
    statement, reason = (bounded_text(statement, "更正内容", MAX_TEXT, required=True),
                         bounded_text(reason, "更正原因", MAX_TEXT, required=True))
    with ctx.transaction() as s:
        original = load_orm(s, of)
        if original.status != "signed":
            raise WorkflowError(f"检查记录 {original.number} 尚未签名锁定，直接修改即可，不需要更正")
        for other in _corrections_of(s, original.id):
            if other.status == "signed":
                raise WorkflowError(f"检查记录 {original.number} 已更正，见 {other.number}；如需再更正，请更正该记录")
            if other.status != "voided":
                raise WorkflowError(f"检查记录 {original.number} 已有未完成的更正 {other.number}，请继续办理该记录")
        now = ctx.clock()
        copy = Inspection(
            device_id=ctx.device_id, status="draft",
            number=next_number(s, kind="inspection", prefix=ctx.setting("prefix.inspection"), year=now.year,
                               device_no=int(ctx.setting("device_no"))),
            **{name: getattr(original, name) for name in _COPIED},
        )
        # the legal facts travel (party identity, item facts, body camera); what belongs to the
        # signing (``SIGNING_FACTS``: confirmation or refusal, witness, paper mode) is asked again
        legal = {k: v for k, v in json.loads(original.legal_json or "{}").items() if k not in SIGNING_FACTS}
        copy.legal_json = json.dumps(legal, ensure_ascii=False, sort_keys=True)
        s.add(copy)
        for o in original.officers:
            copy.officers.append(InspectionOfficer(device_id=ctx.device_id, position=o.position, name=o.name,
                                                   cert_no=o.cert_no))
        for r in original.results:
            copy.results.append(ItemResult(device_id=ctx.device_id, item_code=r.item_code, result=r.result,
                                           note=r.note))
        for p in original.photos:
            copy.photos.append(Photo(device_id=ctx.device_id, item_code=p.item_code, sha256=p.sha256, ext=p.ext,
                                     original_name=p.original_name))
        s.flush()
        s.add(Correction(device_id=ctx.device_id, inspection_id=copy.id, original_id=original.id,
                         original_number=original.number, statement=statement, reason=reason,
                         requested_by=_actor(ctx)))
        return copy.id


def _corrections_of(session: Session, original_id: str) -> list[Inspection]:
    return list(session.scalars(
        select(Inspection).join(Correction, Correction.inspection_id == Inspection.id)
        .where(Correction.original_id == original_id).order_by(Inspection.started_at, Inspection.number)))


def approve_correction(ctx: AppContext, inspection_id: str) -> None:
    """The station admin approves a completed correction before it is signed."""
    require(ctx, "approve_corrections")
    with ctx.transaction() as s:
        inspection = load_orm(s, inspection_id)
        link = s.scalar(select(Correction).where(Correction.inspection_id == inspection.id))
        if link is None:
            raise NotFound(f"检查记录 {inspection.number} 不是更正记录")
        if inspection.status != "completed":
            raise WorkflowError("请先完成更正记录的检查内容，再批准更正"
                                if inspection.status == "draft" else f"更正记录 {inspection.number} 已{_label(inspection)}")
        link.approved_by, link.approved_at = _actor(ctx), ctx.clock()
        link.approved_hash = approval_hash(ctx, inspection)


def _label(inspection: Inspection) -> str:
    return {"signed": "签名锁定", "voided": "作废"}.get(inspection.status, inspection.status)


def correction_of(ctx: AppContext, inspection_id: str) -> CorrectionInfo | None:
    """The correction link of a correcting record (None if it corrects nothing)."""
    with ctx.sessions() as s:
        row = s.execute(select(Correction, Inspection).join(Inspection, Correction.inspection_id == Inspection.id)
                        .where(Correction.inspection_id == inspection_id)).first()
        if row is None:
            return None
        link, inspection = row
        current = link.approved_at is not None and link.approved_hash == approval_hash(ctx, inspection)
        return _info(link, inspection, current)


def corrected_by(ctx: AppContext, original_id: str) -> CorrectionInfo | None:
    """The signed correction of a record (the latest one), None if it stands as signed."""
    with ctx.sessions() as s:
        rows = s.execute(select(Correction, Inspection).join(Inspection, Correction.inspection_id == Inspection.id)
                         .where(Correction.original_id == original_id, Inspection.status == "signed")
                         .order_by(Inspection.signed_at.desc())).all()
        return _info(*rows[0]) if rows else None


def correction_notice(ctx: AppContext, inspection_id: str) -> list[str]:
    """The lines a correction prints in its header box (empty for a record that corrects nothing)."""
    info = correction_of(ctx, inspection_id)
    if info is None:
        return []
    approved = (f"经{info.approved_by}于{info.approved_at:%Y年%m月%d日}批准" if info.approved_at
                else "尚未经站所管理员批准")
    return [f"更正文书：本文书更正原 {info.original_number}，原文书内容不变、一并存档。",
            f"更正内容：{info.statement}", f"更正原因：{info.reason}", f"审批：{approved}。"]
