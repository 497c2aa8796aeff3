"""Starting an inspection and editing its draft: officers, answers, notes, details, the order.

Every answer is its own transaction (autosave)."""
from __future__ import annotations

from datetime import date
import hashlib
import json
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from core.checklists import RESULTS, ChecklistTemplate, template_from_snapshot
from core import published
from core.errors import InvalidInput, WorkflowError
from core.inspections.legal import check_witness, legal_of
from core.inspections.records import (
    CANONICAL_VERSION,
    DETAIL_FIELDS,
    KIND_LABELS,
    MIN_OFFICERS,
    OfficerData,
    editable,
    officer_role,
    touch,
)
from core.numbering import next_number
from core.subjects import CATEGORIES, subject_in
from core.users import require
from db.models import (
    Inspection,
    InspectionOfficer,
    ItemResult,
    Subject,
    TemplateSnapshot,
)

if TYPE_CHECKING:
    from core.context import AppContext

# an answer or a note changes one item's row: only the answers are loaded with the record
# (the other rows load if a rule reads them); a full load per click cost ~4 queries more
ANSWERS = ("results",)


def party_snapshot(subject: Subject) -> str:
    return json.dumps(
        {
            "name": subject.name, "credit_code": subject.credit_code or "",
            "category": CATEGORIES.get(subject.category, subject.category),
            "address": subject.address, "legal_rep": subject.legal_rep, "phone": subject.phone,
            "licence_no": subject.licence_no, "filing_no": subject.filing_no,
        },
        ensure_ascii=False, sort_keys=True,
    )


def _clean_officers(officers: list[OfficerData]) -> list[OfficerData]:
    cleaned = [OfficerData(o.name.strip(), o.cert_no.strip()) for o in officers if o.name.strip() or o.cert_no.strip()]
    for o in cleaned:
        if not o.name:
            raise InvalidInput(f"执法证号 {o.cert_no} 缺少执法人员姓名")
    return cleaned


def require_officers(kind: str, officers: list[OfficerData]) -> None:
    """An enforcement (执法) inspection is made by at least ``MIN_OFFICERS`` officers, chosen before it starts."""
    if kind == "enforcement" and len(officers) < MIN_OFFICERS:
        raise InvalidInput(f"执法检查至少需要{MIN_OFFICERS}名执法人员，请先选择执法人员"
                           f"（现有 {len(officers)} 名）；一名人员只能做日常巡查")


def start_inspection(ctx: AppContext, subject_id: str, template_code: str, officers: list[OfficerData], *,
                     templates: dict[str, ChecklistTemplate] | None = None, **details: str) -> str:
    """Open a draft inspection of a subject; returns its id. Takes a document number.

    ``details``: ``kind``, ``place``, ``notified_by`` as ``create_inspection`` takes them.
    """
    require(ctx, "inspect")
    templates = templates if templates is not None else published.templates(ctx)
    template = templates.get(template_code)
    if template is None:
        raise InvalidInput(f"没有检查表模板“{template_code}”")
    if "purpose" in details:
        raise InvalidInput("检查目的由任务决定，不能在这里指定")
    with ctx.transaction() as s:
        return create_inspection(s, ctx, subject_in(s, subject_id), template, officers, **details).id


def _snapshot(session: Session, template: ChecklistTemplate) -> TemplateSnapshot:
    """The stored snapshot of this exact template text, added the first time it is used."""
    text = template.to_json()
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    snapshot = session.get(TemplateSnapshot, sha)
    if snapshot is None:
        snapshot = TemplateSnapshot(sha256=sha, code=template.code, version=template.version, json=text)
        session.add(snapshot)
    return snapshot


def create_inspection(
    session: Session,
    ctx: AppContext,
    subject: Subject,
    template: ChecklistTemplate,
    officers: list[OfficerData],
    *,
    kind: str = "enforcement",
    purpose: str = "regular",
    place: str = "",
    notified_by: str = "",
) -> Inspection:
    """The draft inspection inside the caller's transaction (tasks start one this way)."""
    if kind not in KIND_LABELS:
        raise InvalidInput(f"未知的检查类型“{kind}”")
    officers = _clean_officers(officers)
    require_officers(kind, officers)
    now = ctx.clock()
    number = next_number(
        session, kind="inspection", prefix=ctx.setting("prefix.inspection"),
        year=now.year, device_no=int(ctx.setting("device_no")),
    )
    inspection = Inspection(
        device_id=ctx.device_id, number=number, subject_id=subject.id,
        template_code=template.code, template_version=template.version,
        snapshot=_snapshot(session, template), party_json=party_snapshot(subject),
        kind=kind, purpose=purpose, place=place.strip() or subject.address, notified_by=notified_by,
        started_at=now, status="draft", legal_json=json.dumps({"canonical": CANONICAL_VERSION}),
    )
    session.add(inspection)
    for position, officer in enumerate(officers):
        inspection.officers.append(
            InspectionOfficer(device_id=ctx.device_id, position=position, name=officer.name, cert_no=officer.cert_no)
        )
    session.flush()
    return inspection


def set_officers(ctx: AppContext, inspection_id: str, officers: list[OfficerData]) -> None:
    require(ctx, "inspect")
    officers = _clean_officers(officers)
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        require_officers(inspection.kind, officers)
        existing = {o.position: o for o in inspection.officers}
        for position, officer in enumerate(officers):
            row = existing.pop(position, None)
            if row is None:
                inspection.officers.append(InspectionOfficer(
                    device_id=ctx.device_id, position=position, name=officer.name, cert_no=officer.cert_no))
            elif (row.name, row.cert_no) != (officer.name, officer.cert_no):
                row.name, row.cert_no = officer.name, officer.cert_no
                drop_signature(s, inspection, officer_role(position))
        for position, row in existing.items():
            inspection.officers.remove(row)
            drop_signature(s, inspection, officer_role(position))
        touch(inspection, reopen=True)


def drop_signature(session: Session, inspection: Inspection, role: str) -> None:
    for signature in list(inspection.signatures):
        if signature.role == role:
            inspection.signatures.remove(signature)


def _result_row(ctx: AppContext, inspection: Inspection, item_code: str) -> ItemResult:
    template_from_snapshot(inspection.template_json).item(item_code)  # refuses unknown codes
    for row in inspection.results:
        if row.item_code == item_code:
            return row
    row = ItemResult(device_id=ctx.device_id, item_code=item_code, result=None, note="")
    inspection.results.append(row)
    return row


def set_answer(ctx: AppContext, inspection_id: str, item_code: str, result: str | None) -> None:
    """Record 符合 / 不符合 / 不适用 (``pass``/``fail``/``na``) for one item, or clear it."""
    require(ctx, "inspect")
    if result is not None and result not in RESULTS:
        raise InvalidInput(f"未知的检查结论“{result}”")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id, relations=ANSWERS)
        _result_row(ctx, inspection, item_code).result = result
        touch(inspection, reopen=True)


def answer_remaining(ctx: AppContext, inspection_id: str, result: str = "pass") -> int:
    """其余全部符合: ``result`` for every item not answered yet, in one transaction; how many."""
    require(ctx, "inspect")
    if result not in RESULTS:
        raise InvalidInput(f"未知的检查结论“{result}”")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id, relations=ANSWERS)
        template = template_from_snapshot(inspection.template_json)
        answered = {r.item_code for r in inspection.results if r.result is not None}
        remaining = [item.code for item in template.items if item.code not in answered]
        for code in remaining:
            _result_row(ctx, inspection, code).result = result
        if remaining:
            touch(inspection, reopen=True)
        return len(remaining)


def set_note(ctx: AppContext, inspection_id: str, item_code: str, note: str) -> None:
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id, relations=ANSWERS)
        _result_row(ctx, inspection, item_code).note = note
        touch(inspection, reopen=True)


def update_details(ctx: AppContext, inspection_id: str, **fields) -> None:
    """Change the record's free fields (place, findings, statement, witness...)."""
    require(ctx, "inspect")
    unknown = set(fields) - set(DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"not detail fields: {sorted(unknown)}")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        changed = False
        if fields.get("witness_name"):
            check_witness(s, inspection, fields["witness_name"])
        if fields.get("party_refused") and legal_of(inspection).get("party_absent"):
            raise InvalidInput("当事人不在场与当事人拒绝签字不能同时选择：不在场时由见证人见证，不记为拒绝签字")
        for key, value in fields.items():
            if getattr(inspection, key) != value:
                setattr(inspection, key, value)
                changed = True
        if changed:
            touch(inspection)


def set_rectification(ctx: AppContext, inspection_id: str, *, deadline: date, requirements: str) -> None:
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        rect = inspection.rectification
        if rect is None:
            raise WorkflowError("该检查没有责令改正通知书（没有不符合项，或检查尚未完成）")
        if deadline < inspection.started_at.date():
            raise InvalidInput("改正期限不能早于检查日期")
        rect.deadline, rect.requirements = deadline, requirements
        touch(inspection)
