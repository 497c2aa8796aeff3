"""The workflow after the answers: findings drafted, completion, signatures, the lock."""
from __future__ import annotations

from datetime import timedelta
import json
import re
from typing import TYPE_CHECKING, Mapping

from core.errors import InvalidInput, WorkflowError
from core.events import InspectionSigned
from core.inspections.approval import correction_problems
from core.inspections.drafts import drop_signature, party_snapshot
from core.inspections.legal import (
    can_enforce,
    check_witness,
    enforcement_problems,
    fact_problems,
    fact_text,
    legal_of,
    legal_problems,
    needs_witness,
    party_signs_order,
    party_signs_record,
)
from core.inspections.photos import image_format
from core.inspections.signature_files import store_signature
from core.inspections.records import (
    CANONICAL_VERSION,
    ORDER_ROLE,
    PARTY_ROLE,
    WITNESS_ROLE,
    InspectionRecord,
    OfficerData,
    canonical_version,
    content_hash,
    editable,
    load_orm,
    officer_role,
    record_of,
    touch,
)
from core.numbering import next_number, register_void
from core.officer_keys import Signer, signers_of, sign_record, unlock_signers
from core.users import require
from db.models import (
    Rectification,
    Signature,
)

if TYPE_CHECKING:
    from core.context import AppContext


def signature_roles(record: InspectionRecord) -> list[str]:
    """The signatures this record needs before it can be signed (a record signed under
    canonical v1 keeps the roles it was signed with; one printed for wet signatures needs none)."""
    officers = [officer_role(i) for i in range(len(record.officers))]
    if record.locked and canonical_version(record) == 1:
        return [WITNESS_ROLE if record.party_refused else PARTY_ROLE, *officers]
    if record.legal.get("wet"):
        return []
    roles = [PARTY_ROLE] if party_signs_record(record) else []
    if needs_witness(record):
        roles.append(WITNESS_ROLE)
    if party_signs_order(record):
        roles.append(ORDER_ROLE)
    return roles + officers


def add_signature(ctx: AppContext, inspection_id: str, role: str, signer_name: str, png: bytes) -> None:
    """Store a signature drawn on screen; drawing again replaces it."""
    require(ctx, "inspect")
    if image_format(png) != "png":
        raise InvalidInput("签名图像无效")
    with ctx.sessions() as s:  # checked before the file is written: a refused signature leaves no file
        inspection = editable(s, inspection_id)
        allowed = {PARTY_ROLE, WITNESS_ROLE, ORDER_ROLE} | {officer_role(o.position) for o in inspection.officers}
        if role not in allowed:
            raise InvalidInput(f"未知的签名人角色“{role}”")
    sha = store_signature(ctx, png)  # the image is a file (fsynced) before the row names it
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        drop_signature(s, inspection, role)
        s.flush()
        inspection.signatures.append(Signature(
            device_id=ctx.device_id, role=role, signer_name=signer_name.strip(),
            sha256=sha, png=None, signed_at=ctx.clock(),
        ))
        touch(inspection)


def draft_findings(record: InspectionRecord) -> str:
    """The findings summary (现场情况) drafted from the failed items; the inspector edits it."""
    failed = record.failed_items()
    total = len(record.template.items)
    na = sum(1 for i in record.template.items if record.answer(i.code).result == "na")
    lines = [
        f"执法人员出示执法证件，依据《{record.template.title}》对当事人进行现场检查，"
        f"共检查 {total} 项，其中不适用 {na} 项。"
    ]
    if not failed:
        lines.append("现场检查未发现不符合项。")
    else:
        lines.append(f"发现以下 {len(failed)} 项不符合要求：")
        for n, f in enumerate(failed, 1):
            note = f"（{f.note.strip()}）" if f.note.strip() else ""
            advice = f"建议：{f.item.remedy}。" if f.item.advisory else ""
            lines.append(f"{n}. 【{f.section.title}】{fact_text(record, f)}{note}。{advice}")
    return "\n".join(lines)


def draft_requirements(record: InspectionRecord) -> str:
    return "\n".join(f"{n}. {f.item.remedy}。" for n, f in enumerate(record.order_items(), 1))


def completion_problems(record: InspectionRecord) -> list[str]:
    """Why this record cannot be completed yet (empty when it can)."""
    problems = []
    missing = record.unanswered()
    if missing:
        problems.append(f"还有 {len(missing)} 项未检查：{'、'.join(missing[:8])}{'…' if len(missing) > 8 else ''}")
    no_note = [f.item.code for f in record.failed_items() if not f.note.strip()]
    if no_note:
        problems.append(f"不符合项必须填写说明：{'、'.join(no_note)}")
    if record.locked and canonical_version(record) == 1:
        return problems  # completed under the rules of its time (before definite facts were asked)
    problems += fact_problems(record)
    stated = re.search(r"共检查 (\d+) 项，其中不适用 (\d+) 项", record.findings)
    na = sum(1 for i in record.template.items if record.answer(i.code).result == "na")
    if stated and (int(stated[1]), int(stated[2])) != (len(record.template.items), na):
        problems.append(f"现场情况写的检查项数或不适用项数（共 {stated[1]} 项，不适用 {stated[2]} 项）与检查结果"
                        f"（共 {len(record.template.items)} 项，不适用 {na} 项）不符，请改正或清空后重新生成")
    if record.kind == "enforcement":
        problems += enforcement_problems(record, too_few="执法检查至少需要两名执法人员")
    return problems


def complete_inspection(ctx: AppContext, inspection_id: str) -> InspectionRecord:
    """Check the record is whole, draft what is blank, issue the rectification order if needed."""
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        if inspection.status == "completed":
            return record_of(ctx, inspection)
        inspection.party_json = party_snapshot(inspection.subject)
        record = record_of(ctx, inspection)
        problems = completion_problems(record)
        if problems:
            raise WorkflowError("；".join(problems))
        now = ctx.clock()
        if not inspection.findings.strip():
            inspection.findings = draft_findings(record)
        if inspection.ended_at is None or inspection.ended_at < inspection.started_at:
            inspection.ended_at = now
        # an order only from an inspection that can issue enforcement documents (two officers
        # with 执法证号); a one-officer visit is a 巡查记录 that orders nothing
        failed = record.order_items() if can_enforce(record) else []
        if failed and inspection.rectification is None and inspection.purpose == "regular":
            days = int(ctx.setting("rectification_days"))
            inspection.rectification = Rectification(
                device_id=ctx.device_id,
                number=next_number(
                    s, kind="rectification", prefix=ctx.setting("prefix.rectification"),
                    year=now.year, device_no=int(ctx.setting("device_no")),
                ),
                deadline=inspection.started_at.date() + timedelta(days=days),
                requirements=draft_requirements(record),
                status="open",
            )
        elif not failed and inspection.rectification is not None:
            # Answers or officers changed after a reopen: no order is due any more. Its number stays used,
            # entered in the void register (作废登记).
            register_void(s, number=inspection.rectification.number, doc_kind="rectification",
                          inspection_id=inspection.id, reason="检查重新完成后已无应责令改正的不符合项，通知书未发出",
                          voided_by=ctx.user.name if ctx.user is not None else "系统", voided_at=now,
                          device_id=ctx.device_id)
            inspection.rectification = None
        inspection.status = "completed"
        inspection.completed_at = now
        s.flush()
        return record_of(ctx, inspection)


def reopen_inspection(ctx: AppContext, inspection_id: str) -> None:
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        if inspection.status == "completed":
            touch(inspection, reopen=True)


def signing_problems(record: InspectionRecord) -> list[str]:
    problems = []
    if record.status != "completed":
        problems.append("请先完成检查")
    labels = signer_labels(record)
    missing = [labels[r] for r in signature_roles(record) if r not in record.signatures]
    if missing:
        problems.append(f"还缺少签名：{'、'.join(missing)}")
    problems += legal_problems(record)
    return problems


def signer_labels(record: InspectionRecord) -> dict[str, str]:
    labels = {PARTY_ROLE: "当事人（现场检查笔录）", WITNESS_ROLE: "见证人", ORDER_ROLE: "当事人（签收责令改正通知书）"}
    for i, officer in enumerate(record.officers):
        labels[officer_role(i)] = f"执法人员{officer.name}"
    return labels


def officer_signers(ctx: AppContext, inspection_id: str) -> list[Signer]:
    """The record's officers as the signing step asks them: who has a signing key here (enters
    their password) and who signs by drawn signature only (an officer from elsewhere)."""
    with ctx.sessions() as s:
        return signers_of(s, record_of(ctx, load_orm(s, inspection_id)).officers)


def sign_inspection(ctx: AppContext, inspection_id: str, passwords: Mapping[str, str] | None = None) -> str:
    """Lock the record: store its content hash, signed by the key of each officer present
    (``passwords``: 执法证号 → the password that officer typed). Returns the hash."""
    require(ctx, "sign")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        _upgrade(inspection)
        problems = signing_problems(record_of(ctx, inspection))
        problems += correction_problems(ctx, s, inspection)
        if problems:
            raise WorkflowError("；".join(problems))
        return _lock(ctx, s, inspection, passwords or {})


def _upgrade(inspection) -> None:
    """A record signed now is signed under the current canonical form."""
    legal = legal_of(inspection)
    if legal.get("canonical") != CANONICAL_VERSION:
        legal["canonical"] = CANONICAL_VERSION
        inspection.legal_json = json.dumps(legal, ensure_ascii=False, sort_keys=True)


def _lock(ctx: AppContext, s, inspection, passwords: Mapping[str, str]) -> str:
    check_witness(s, inspection, inspection.witness_name)
    signers = signers_of(s, [OfficerData(o.name, o.cert_no) for o in inspection.officers])
    if not any(signer.has_key for signer in signers):
        raise WorkflowError("本次检查的执法人员在本机都没有签名密钥，不能签名锁定：至少一名本所执法人员须用本人密码签名"
                            "（请先从站所同步用户）")
    opened = unlock_signers(s, signers, passwords)  # every password checked before anything changes
    inspection.signed_at = ctx.clock()
    inspection.status = "signed"
    inspection.content_hash = content_hash(record_of(ctx, inspection))
    sign_record(s, inspection, signers, opened, device_id=ctx.device_id)
    ctx.events.publish(InspectionSigned(s, ctx, inspection))
    return inspection.content_hash


def lock_for_wet_signing(ctx: AppContext, inspection_id: str, passwords: Mapping[str, str] | None = None) -> str:
    """Lock the record to print it with blank lines for handwritten signatures (stations that
    keep paper originals). The content hash covers everything but signature images; drawn
    signatures, if any, are not part of it. A scan of the signed paper is attached afterwards.
    The officers' keys sign it as ``sign_inspection``'s do (``passwords``)."""
    require(ctx, "sign")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        legal = legal_of(inspection)
        legal["wet"] = True
        legal["canonical"] = CANONICAL_VERSION
        inspection.legal_json = json.dumps(legal, ensure_ascii=False, sort_keys=True)
        record = record_of(ctx, inspection)
        problems = [p for p in signing_problems(record) if not p.startswith("还缺少签名")]
        if problems:
            raise WorkflowError("；".join(problems))
        if inspection.signatures:
            raise WorkflowError("本记录已有在屏幕上手写的签名，不能再改为打印纸质文书签名；请直接签名锁定")
        return _lock(ctx, s, inspection, passwords or {})
