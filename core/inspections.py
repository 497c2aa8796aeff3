"""The inspection workflow: draft → completed → signed.

Every answer is its own transaction (autosave). Signing stores a SHA-256 over a
canonical form of the record; from then on the core refuses any change to it — not
only these services but any flush through any session (``_refuse_changes_when_signed``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
import hashlib
from io import BytesIO
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.checklists import RESULTS, ChecklistItem, ChecklistSection, ChecklistTemplate, load_templates, template_from_snapshot
from core.errors import InvalidInput, NotFound, RecordLocked, WorkflowError
from core.events import InspectionSigned
from core.files import write_atomically
from core.numbering import next_number
from core.subjects import CATEGORIES, subject_in
from core.users import require
from db.models import (
    Inspection,
    InspectionOfficer,
    ItemResult,
    Photo,
    Rectification,
    Signature,
    Subject,
    TemplateSnapshot,
    utcnow,
)

if TYPE_CHECKING:
    from core.context import AppContext

STATUS_LABELS = {"draft": "草稿", "completed": "已完成", "signed": "已签名"}
KIND_LABELS = {"enforcement": "执法检查", "routine": "日常巡查"}
PARTY_ROLE, WITNESS_ROLE = "party", "witness"
MIN_OFFICERS = 2
DETAIL_FIELDS = (
    "place", "notified_by", "findings", "party_statement",
    "party_present_name", "party_refused", "witness_name", "ended_at",
)
_IMAGE_EXT = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "GIF": "gif", "TIFF": "tif", "WEBP": "webp"}


def officer_role(position: int) -> str:
    return f"officer{position + 1}"


@dataclass(frozen=True)
class OfficerData:
    name: str
    cert_no: str


@dataclass(frozen=True)
class Answer:
    result: str | None
    note: str


@dataclass(frozen=True)
class PhotoRow:
    id: str
    item_code: str
    sha256: str
    path: Path
    original_name: str


@dataclass(frozen=True)
class SignatureRow:
    role: str
    signer_name: str
    sha256: str
    png: bytes


@dataclass(frozen=True)
class RectificationRow:
    number: str
    deadline: date
    requirements: str
    status: str


@dataclass(frozen=True)
class FailedItem:
    section: ChecklistSection
    item: ChecklistItem
    note: str


@dataclass
class InspectionRecord:
    """Everything an inspection says, as the GUI, the printer and the hash see it."""

    id: str
    number: str
    status: str
    kind: str
    purpose: str
    subject_id: str
    template: ChecklistTemplate
    template_json: str
    party: dict
    officers: list[OfficerData]
    place: str
    notified_by: str
    started_at: datetime
    ended_at: datetime | None
    findings: str
    party_statement: str
    party_present_name: str
    party_refused: bool
    witness_name: str
    answers: dict[str, Answer]
    photos: list[PhotoRow]
    signatures: dict[str, SignatureRow]
    rectification: RectificationRow | None
    completed_at: datetime | None
    signed_at: datetime | None
    content_hash: str | None
    extra: dict = field(default_factory=dict)

    @property
    def locked(self) -> bool:
        return self.status == "signed"

    def answer(self, code: str) -> Answer:
        return self.answers.get(code, Answer(None, ""))

    def failed_items(self) -> list[FailedItem]:
        return [
            FailedItem(section, item, self.answer(item.code).note)
            for section in self.template.sections
            for item in section.items
            if self.answer(item.code).result == "fail"
        ]

    def order_items(self) -> list[FailedItem]:
        """The failed items a 责令改正通知书 may order corrected (advisory items are not)."""
        return [f for f in self.failed_items() if not f.item.advisory]

    def unanswered(self) -> list[str]:
        return [i.code for i in self.template.items if self.answer(i.code).result not in RESULTS]

    def photos_of(self, item_code: str) -> list[PhotoRow]:
        return [p for p in self.photos if p.item_code == item_code]

    def current_hash(self) -> str:
        return content_hash(self)


@dataclass(frozen=True)
class InspectionSummary:
    id: str
    number: str
    subject_id: str
    subject_name: str
    template_code: str
    template_title: str
    status: str
    started_at: datetime
    failed: int

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


# --- the canonical form and its hash ----------------------------------------------

def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def canonical(record: InspectionRecord) -> dict:
    """The content that a signature covers, in a stable form."""
    return {
        "id": record.id,
        "number": record.number,
        "kind": record.kind,
        "purpose": record.purpose,
        "template": {
            "code": record.template.code,
            "version": record.template.version,
            "sha256": hashlib.sha256(record.template_json.encode("utf-8")).hexdigest(),
        },
        "party": record.party,
        "officers": [[o.name, o.cert_no] for o in record.officers],
        "place": record.place,
        "notified_by": record.notified_by,
        "started_at": _iso(record.started_at),
        "ended_at": _iso(record.ended_at),
        "findings": record.findings,
        "party_statement": record.party_statement,
        "party_present_name": record.party_present_name,
        "party_refused": record.party_refused,
        "witness_name": record.witness_name,
        "answers": {code: [a.result, a.note] for code, a in sorted(record.answers.items())},
        "photos": sorted([p.item_code, p.sha256] for p in record.photos),
        "signatures": {r: [s.signer_name, s.sha256] for r, s in sorted(record.signatures.items())},
        "rectification": None if record.rectification is None else {
            "number": record.rectification.number,
            "deadline": _iso(record.rectification.deadline),
            "requirements": record.rectification.requirements,
        },
        "signed_at": _iso(record.signed_at),
    }


def content_hash(record: InspectionRecord) -> str:
    text = json.dumps(canonical(record), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- loading ---------------------------------------------------------------------

def _load_orm(session: Session, id_or_number: str) -> Inspection:
    options = (
        selectinload(Inspection.officers), selectinload(Inspection.results),
        selectinload(Inspection.photos), selectinload(Inspection.signatures),
        selectinload(Inspection.rectification),
    )
    inspection = session.get(Inspection, id_or_number, options=options)
    if inspection is None:
        inspection = session.scalar(select(Inspection).options(*options).where(Inspection.number == id_or_number))
    if inspection is None:
        raise NotFound(f"找不到检查记录“{id_or_number}”")
    return inspection


def _record(ctx: AppContext, i: Inspection) -> InspectionRecord:
    return InspectionRecord(
        id=i.id, number=i.number, status=i.status, kind=i.kind, purpose=i.purpose, subject_id=i.subject_id,
        template=template_from_snapshot(i.template_json), template_json=i.template_json,
        party=json.loads(i.party_json),
        officers=[OfficerData(o.name, o.cert_no) for o in i.officers],
        place=i.place, notified_by=i.notified_by, started_at=i.started_at, ended_at=i.ended_at,
        findings=i.findings, party_statement=i.party_statement,
        party_present_name=i.party_present_name, party_refused=i.party_refused,
        witness_name=i.witness_name,
        answers={r.item_code: Answer(r.result, r.note) for r in i.results},
        photos=[PhotoRow(p.id, p.item_code, p.sha256, photo_path(ctx, p.sha256, p.ext), p.original_name) for p in i.photos],
        signatures={s.role: SignatureRow(s.role, s.signer_name, s.sha256, s.png) for s in i.signatures},
        rectification=None if i.rectification is None else RectificationRow(
            i.rectification.number, i.rectification.deadline,
            i.rectification.requirements, i.rectification.status,
        ),
        completed_at=i.completed_at, signed_at=i.signed_at, content_hash=i.content_hash,
    )


def load_inspection(ctx: AppContext, id_or_number: str) -> InspectionRecord:
    with ctx.sessions() as s:
        return _record(ctx, _load_orm(s, id_or_number))


def list_inspections(ctx: AppContext, *, subject_id: str | None = None, limit: int = 500) -> list[InspectionSummary]:
    """Newest first. Reads only the listed columns (not the stored template snapshots)."""
    failed = (
        select(func.count(ItemResult.id))
        .where(ItemResult.inspection_id == Inspection.id, ItemResult.result == "fail")
        .scalar_subquery()
    )
    query = (
        select(Inspection.id, Inspection.number, Inspection.subject_id, Subject.name, Inspection.template_code,
               Inspection.template_version, Inspection.purpose, Inspection.status, Inspection.started_at, failed)
        .join(Subject)
        .order_by(Inspection.started_at.desc(), Inspection.number.desc())
        .limit(limit)
    )
    if subject_id:
        query = query.where(Inspection.subject_id == subject_id)
    titles = {(t.code, t.version): t.short_title for t in load_templates().values()}
    with ctx.sessions() as s:
        rows = s.execute(query).all()
        unknown = {r.id for r in rows if (r.template_code, r.template_version) not in titles}
        if unknown:  # an older template version: its title is in the stored snapshot
            for rid, text in s.execute(select(Inspection.id, TemplateSnapshot.json).join(TemplateSnapshot)
                                       .where(Inspection.id.in_(unknown))):
                titles[rid] = json.loads(text)["short_title"]
    summaries = []
    for r in rows:
        title = titles.get((r.template_code, r.template_version)) or titles[r.id]
        if r.purpose == "reinspection" and not title.endswith("复查"):
            title += "·复查"
        summaries.append(InspectionSummary(
            id=r.id, number=r.number, subject_id=r.subject_id, subject_name=r.name,
            template_code=r.template_code, template_title=title, status=r.status,
            started_at=r.started_at, failed=r[9] or 0,
        ))
    return summaries


# --- editing a draft ---------------------------------------------------------------

def _editable(session: Session, inspection_id: str) -> Inspection:
    inspection = _load_orm(session, inspection_id)
    if inspection.status == "signed":
        raise RecordLocked(f"检查记录 {inspection.number} 已签名锁定，不能再修改；如需更正请新建记录")
    return inspection


def _touch(inspection: Inspection, *, reopen: bool = False) -> None:
    """A row of the inspection changed: the inspection itself counts as changed (it syncs again)."""
    inspection.updated_at = utcnow()
    if reopen and inspection.status == "completed":
        # A changed answer, officer or photo sends a completed record back to draft: it
        # must be checked (and its rectification order drafted) again. The statement,
        # signatures and the order's deadline are what happens after completion.
        inspection.status = "draft"
        inspection.completed_at = None


def _party_snapshot(subject: Subject) -> str:
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


def start_inspection(
    ctx: AppContext,
    subject_id: str,
    template_code: str,
    officers: list[OfficerData],
    *,
    kind: str = "enforcement",
    place: str = "",
    notified_by: str = "",
    templates: dict[str, ChecklistTemplate] | None = None,
) -> str:
    """Open a draft inspection of a subject; returns its id. Takes a document number."""
    require(ctx, "inspect")
    templates = templates if templates is not None else load_templates()
    template = templates.get(template_code)
    if template is None:
        raise InvalidInput(f"没有检查表模板“{template_code}”")
    with ctx.transaction() as s:
        subject = subject_in(s, subject_id)
        inspection = create_inspection(
            s, ctx, subject, template, officers, kind=kind, place=place, notified_by=notified_by
        )
        return inspection.id


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
    now = ctx.clock()
    number = next_number(
        session, kind="inspection", prefix=ctx.setting("prefix.inspection"),
        year=now.year, device_no=int(ctx.setting("device_no")),
    )
    inspection = Inspection(
        device_id=ctx.device_id, number=number, subject_id=subject.id,
        template_code=template.code, template_version=template.version,
        snapshot=_snapshot(session, template), party_json=_party_snapshot(subject),
        kind=kind, purpose=purpose, place=place.strip() or subject.address, notified_by=notified_by,
        started_at=now, status="draft",
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
        inspection = _editable(s, inspection_id)
        existing = {o.position: o for o in inspection.officers}
        for position, officer in enumerate(officers):
            row = existing.pop(position, None)
            if row is None:
                inspection.officers.append(InspectionOfficer(
                    device_id=ctx.device_id, position=position, name=officer.name, cert_no=officer.cert_no))
            elif (row.name, row.cert_no) != (officer.name, officer.cert_no):
                row.name, row.cert_no = officer.name, officer.cert_no
                _drop_signature(s, inspection, officer_role(position))
        for position, row in existing.items():
            inspection.officers.remove(row)
            _drop_signature(s, inspection, officer_role(position))
        _touch(inspection, reopen=True)


def _drop_signature(session: Session, inspection: Inspection, role: str) -> None:
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
        inspection = _editable(s, inspection_id)
        _result_row(ctx, inspection, item_code).result = result
        _touch(inspection, reopen=True)


def set_note(ctx: AppContext, inspection_id: str, item_code: str, note: str) -> None:
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = _editable(s, inspection_id)
        _result_row(ctx, inspection, item_code).note = note
        _touch(inspection, reopen=True)


def update_details(ctx: AppContext, inspection_id: str, **fields) -> None:
    """Change the record's free fields (place, findings, statement, witness...)."""
    require(ctx, "inspect")
    unknown = set(fields) - set(DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"not detail fields: {sorted(unknown)}")
    with ctx.transaction() as s:
        inspection = _editable(s, inspection_id)
        changed = False
        for key, value in fields.items():
            if getattr(inspection, key) != value:
                setattr(inspection, key, value)
                changed = True
        if changed:
            _touch(inspection)


def set_rectification(ctx: AppContext, inspection_id: str, *, deadline: date, requirements: str) -> None:
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = _editable(s, inspection_id)
        rect = inspection.rectification
        if rect is None:
            raise WorkflowError("该检查没有责令改正通知书（没有不符合项，或检查尚未完成）")
        if deadline < inspection.started_at.date():
            raise InvalidInput("改正期限不能早于检查日期")
        rect.deadline, rect.requirements = deadline, requirements
        _touch(inspection)


# --- attachments ---------------------------------------------------------------------

def photo_path(ctx: AppContext, sha256: str, ext: str) -> Path:
    return ctx.attachments_dir / sha256[:2] / f"{sha256}.{ext}"


def image_format(data: bytes) -> str | None:
    """The file extension for an image Pillow can read, or None for anything else."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as img:
            fmt = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return _IMAGE_EXT.get(fmt or "")


def store_image(ctx: AppContext, source: Path) -> tuple[str, str, Path]:
    """Copy an image into the attachments folder under its SHA-256: (sha256, ext, path).

    Anything that is not an image is refused with a message; the file is kept whole.
    """
    source = Path(source)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"无法读取文件 {source.name}：{exc.strerror or exc}") from exc
    ext = image_format(data)
    if ext is None:
        raise InvalidInput(f"文件 {source.name} 不是可识别的图片（支持 JPG、PNG、BMP、GIF、TIFF、WEBP）")
    sha = hashlib.sha256(data).hexdigest()
    target = photo_path(ctx, sha, ext)
    if not target.exists():
        write_atomically(target, data)
    return sha, ext, target


def add_photo(ctx: AppContext, inspection_id: str, item_code: str, source: Path) -> PhotoRow:
    """Copy a photo into the attachments folder under its SHA-256 and link it to the item."""
    require(ctx, "inspect")
    source = Path(source)
    with ctx.transaction() as s:
        inspection = _editable(s, inspection_id)
        template_from_snapshot(inspection.template_json).item(item_code)
        sha, ext, target = store_image(ctx, source)
        photo = Photo(device_id=ctx.device_id, item_code=item_code, sha256=sha, ext=ext, original_name=source.name)
        inspection.photos.append(photo)
        _touch(inspection, reopen=True)
        s.flush()
        return PhotoRow(photo.id, item_code, sha, target, source.name)


def remove_photo(ctx: AppContext, inspection_id: str, photo_id: str) -> None:
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = _editable(s, inspection_id)
        for photo in list(inspection.photos):
            if photo.id == photo_id:
                inspection.photos.remove(photo)
                _touch(inspection, reopen=True)
                return
        raise NotFound("找不到该照片")


def signature_roles(record: InspectionRecord) -> list[str]:
    """The signatures this record needs before it can be signed."""
    roles = [officer_role(i) for i in range(len(record.officers))]
    roles.insert(0, WITNESS_ROLE if record.party_refused else PARTY_ROLE)
    return roles


def add_signature(ctx: AppContext, inspection_id: str, role: str, signer_name: str, png: bytes) -> None:
    """Store a signature drawn on screen; drawing again replaces it."""
    require(ctx, "inspect")
    if image_format(png) != "png":
        raise InvalidInput("签名图像无效")
    with ctx.transaction() as s:
        inspection = _editable(s, inspection_id)
        allowed = {PARTY_ROLE, WITNESS_ROLE} | {officer_role(o.position) for o in inspection.officers}
        if role not in allowed:
            raise InvalidInput(f"未知的签名人角色“{role}”")
        _drop_signature(s, inspection, role)
        s.flush()
        inspection.signatures.append(Signature(
            device_id=ctx.device_id, role=role, signer_name=signer_name.strip(),
            sha256=hashlib.sha256(png).hexdigest(), png=png, signed_at=ctx.clock(),
        ))
        _touch(inspection)


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
            lines.append(f"{n}. 【{f.section.title}】{f.item.fail_text}{note}。{advice}")
    return "\n".join(lines)


def draft_requirements(record: InspectionRecord) -> str:
    return "\n".join(f"{n}. {f.item.remedy}。" for n, f in enumerate(record.order_items(), 1))


# --- the workflow ---------------------------------------------------------------------

def completion_problems(record: InspectionRecord) -> list[str]:
    """Why this record cannot be completed yet (empty when it can)."""
    problems = []
    missing = record.unanswered()
    if missing:
        problems.append(f"还有 {len(missing)} 项未检查：{'、'.join(missing[:8])}{'…' if len(missing) > 8 else ''}")
    no_note = [f.item.code for f in record.failed_items() if not f.note.strip()]
    if no_note:
        problems.append(f"不符合项必须填写说明：{'、'.join(no_note)}")
    if record.kind == "enforcement":
        if len(record.officers) < MIN_OFFICERS:
            problems.append("执法检查至少需要两名执法人员")
        no_cert = [o.name for o in record.officers if not o.cert_no]
        if no_cert:
            problems.append(f"执法人员缺少执法证号：{'、'.join(no_cert)}")
    return problems


def complete_inspection(ctx: AppContext, inspection_id: str) -> InspectionRecord:
    """Check the record is whole, draft what is blank, issue the rectification order if needed."""
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = _editable(s, inspection_id)
        if inspection.status == "completed":
            return _record(ctx, inspection)
        inspection.party_json = _party_snapshot(inspection.subject)
        record = _record(ctx, inspection)
        problems = completion_problems(record)
        if problems:
            raise WorkflowError("；".join(problems))
        now = ctx.clock()
        if not inspection.findings.strip():
            inspection.findings = draft_findings(record)
        if inspection.ended_at is None or inspection.ended_at < inspection.started_at:
            inspection.ended_at = now
        failed = record.order_items()
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
            # Answers changed after a reopen: no order is due any more. Its number stays used.
            inspection.rectification = None
        inspection.status = "completed"
        inspection.completed_at = now
        s.flush()
        return _record(ctx, inspection)


def reopen_inspection(ctx: AppContext, inspection_id: str) -> None:
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = _editable(s, inspection_id)
        if inspection.status == "completed":
            _touch(inspection, reopen=True)


def signing_problems(record: InspectionRecord) -> list[str]:
    problems = []
    if record.status != "completed":
        problems.append("请先完成检查")
    labels = signer_labels(record)
    missing = [labels[r] for r in signature_roles(record) if r not in record.signatures]
    if missing:
        problems.append(f"还缺少签名：{'、'.join(missing)}")
    if record.party_refused and not record.witness_name.strip():
        problems.append("当事人拒绝签字时须填写见证人姓名")
    return problems


def signer_labels(record: InspectionRecord) -> dict[str, str]:
    labels = {PARTY_ROLE: "当事人", WITNESS_ROLE: "见证人"}
    for i, officer in enumerate(record.officers):
        labels[officer_role(i)] = f"执法人员{officer.name}"
    return labels


def sign_inspection(ctx: AppContext, inspection_id: str) -> str:
    """Lock the record: store its content hash. Returns the hash."""
    require(ctx, "sign")
    with ctx.transaction() as s:
        inspection = _editable(s, inspection_id)
        problems = signing_problems(_record(ctx, inspection))
        if problems:
            raise WorkflowError("；".join(problems))
        inspection.signed_at = ctx.clock()
        inspection.status = "signed"
        inspection.content_hash = content_hash(_record(ctx, inspection))
        ctx.events.publish(InspectionSigned(s, ctx, inspection))
        return inspection.content_hash
