"""What an inspection record is: its rows for the screens and forms, its canonical form and hash, loading."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
import hashlib
import json
from pathlib import Path
import re
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.checklists import (
    RESULTS,
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
    template_from_snapshot,
)
from core import published
from core.attachments import read_attachment
from core.errors import InvalidInput, NotFound, RecordLocked, WorkflowError
from db.models import (
    Inspection,
    ItemResult,
    Subject,
    TemplateSnapshot,
    utcnow,
)

if TYPE_CHECKING:
    from core.context import AppContext


STATUS_LABELS = {"draft": "草稿", "completed": "已完成", "signed": "已签名", "voided": "已作废"}


KIND_LABELS = {"enforcement": "执法检查", "routine": "日常巡查"}


PARTY_ROLE, WITNESS_ROLE = "party", "witness"
# the party's own signature for receiving the 责令改正通知书 (separate from the 笔录's)
ORDER_ROLE = "party_order"


MIN_OFFICERS = 2


DETAIL_FIELDS = (
    "place", "notified_by", "findings", "party_statement",
    "party_present_name", "party_refused", "witness_name", "ended_at",
)


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
    signed_at: datetime | None = None
    problem: str = ""  # the image could not be read (file missing or altered): printed in its place


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
    # the legal elements (core.inspections.legal): the 告知 answers, witness, camera, cases...
    legal: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def locked(self) -> bool:
        return self.status == "signed"

    @property
    def read_only(self) -> bool:
        """Signed (locked) or voided (作废): nothing may be edited any more."""
        return self.status in ("signed", "voided")

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


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


@lru_cache(maxsize=64)
def _text_sha256(text: str) -> str:
    """SHA-256 of a template's text; thousands of records share a few templates."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The version of the canonical form new signatures use. A record stores the version it was
# signed under in ``legal["canonical"]``; without it (every record signed before 0011) it is 1.
CANONICAL_VERSION = 2


def canonical_version(record: InspectionRecord) -> int:
    version = record.legal.get("canonical", 1)
    if version not in (1, 2):
        raise InvalidInput(f"检查记录 {record.number} 的内容格式版本 {version!r} 不能识别（来自更新版本的程序？）")
    return version


def canonical(record: InspectionRecord) -> dict:
    """The content that a signature covers, in a stable form, as of the record's version.

    v1 (records signed before the legal elements existed) is kept exactly as it was; v2 adds
    the legal elements and the time of each signature. A record printed for wet signatures
    has no drawn signatures: its hash covers everything else.
    """
    body = _canonical_v1(record)
    if canonical_version(record) == 1:
        return body
    body["canonical"] = 2
    body["legal"] = {k: v for k, v in sorted(record.legal.items()) if k != "canonical"}
    body["signatures"] = {r: [s.signer_name, s.sha256, _iso(s.signed_at)] for r, s in sorted(record.signatures.items())}
    return body


def _canonical_v1(record: InspectionRecord) -> dict:
    """Canonical form v1: frozen, records signed under it must keep their hash."""
    return {
        "id": record.id,
        "number": record.number,
        "kind": record.kind,
        "purpose": record.purpose,
        "template": {
            "code": record.template.code,
            "version": record.template.version,
            "sha256": _text_sha256(record.template_json),
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


# the record's rows, loaded with it (``load_orm``); a write that touches only some passes those
RELATIONS = ("officers", "results", "photos", "signatures", "rectification")


def load_orm(session: Session, id_or_number: str, *, relations: tuple[str, ...] = RELATIONS) -> Inspection:
    """The inspection by id or number, with ``relations`` loaded at once (the others load when read)."""
    options = tuple(selectinload(getattr(Inspection, name)) for name in relations)
    inspection = session.get(Inspection, id_or_number, options=options)
    if inspection is None:
        inspection = session.scalar(select(Inspection).options(*options).where(Inspection.number == id_or_number))
    if inspection is None:
        raise NotFound(f"找不到检查记录“{id_or_number}”")
    return inspection


def record_of(ctx: AppContext, i: Inspection) -> InspectionRecord:
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
        signatures={s.role: _signature_row(ctx, s) for s in i.signatures},
        rectification=None if i.rectification is None else RectificationRow(
            i.rectification.number, i.rectification.deadline,
            i.rectification.requirements, i.rectification.status,
        ),
        completed_at=i.completed_at, signed_at=i.signed_at, content_hash=i.content_hash,
        legal=_legal(i.legal_json),
    )


def _legal(text: str | None) -> dict:
    value = json.loads(text or "{}")
    if not isinstance(value, dict):
        raise ValueError("legal_json is not an object")
    return value


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def record_from_rows(row: dict, template: ChecklistTemplate, template_json: str, *, officers: list[dict],
                     results: list[dict], photos: list[dict], signatures: list[dict],
                     rectification: dict | None) -> InspectionRecord:
    """An inspection record from its rows as plain values (a sync package's JSON: dates as ISO
    text, no images), as ``record_of`` builds it from the ORM — so ``content_hash`` can be
    recomputed for a record that is not in the database yet. Photo paths are left empty."""
    return InspectionRecord(
        id=row["id"], number=row["number"], status=row["status"], kind=row["kind"], purpose=row["purpose"],
        subject_id=row["subject_id"], template=template, template_json=template_json,
        party=json.loads(row["party_json"]),
        officers=[OfficerData(o["name"], o["cert_no"]) for o in sorted(officers, key=lambda o: o["position"])],
        place=row["place"], notified_by=row["notified_by"], started_at=_when(row["started_at"]),
        ended_at=_when(row["ended_at"]), findings=row["findings"], party_statement=row["party_statement"],
        party_present_name=row["party_present_name"], party_refused=row["party_refused"],
        witness_name=row["witness_name"],
        answers={r["item_code"]: Answer(r["result"], r["note"]) for r in results},
        photos=[PhotoRow(p["id"], p["item_code"], p["sha256"], Path(), p["original_name"]) for p in photos],
        signatures={s["role"]: SignatureRow(s["role"], s["signer_name"], s["sha256"], b"", _when(s.get("signed_at")))
                    for s in signatures},
        rectification=None if rectification is None else RectificationRow(
            rectification["number"], date.fromisoformat(rectification["deadline"]),
            rectification["requirements"], rectification["status"],
        ),
        completed_at=_when(row["completed_at"]), signed_at=_when(row["signed_at"]),
        content_hash=row["content_hash"], legal=_legal(row.get("legal_json")),
    )


def load_inspection(ctx: AppContext, id_or_number: str) -> InspectionRecord:
    with ctx.sessions() as s:
        return record_of(ctx, load_orm(s, id_or_number))


def list_inspections(ctx: AppContext, *, subject_id: str | None = None, limit: int = 500, offset: int = 0,
                     where: tuple = ()) -> list[InspectionSummary]:
    """Newest first, a page of ``limit`` from ``offset``, narrowed by the clauses ``where``
    (``core.inspections.search`` builds them). Reads only the listed columns (not the stored
    template snapshots)."""
    failed = (
        select(func.count(ItemResult.id))
        .where(ItemResult.inspection_id == Inspection.id, ItemResult.result == "fail")
        .scalar_subquery()
    )
    query = (
        select(Inspection.id, Inspection.number, Inspection.subject_id, Subject.name, Inspection.template_code,
               Inspection.template_version, Inspection.purpose, Inspection.status, Inspection.started_at, failed)
        .join(Subject)
        .order_by(Inspection.started_at.desc(), Inspection.number.desc(), Inspection.id)
        .where(*where)
        .limit(limit)
        .offset(offset)
    )
    if subject_id:
        query = query.where(Inspection.subject_id == subject_id)
    titles = {(t.code, t.version): t.short_title for t in published.templates(ctx).values()}
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


def editable(session: Session, inspection_id: str, *, relations: tuple[str, ...] = RELATIONS) -> Inspection:
    inspection = load_orm(session, inspection_id, relations=relations)
    if inspection.status == "signed":
        raise RecordLocked(f"检查记录 {inspection.number} 已签名锁定，不能再修改；如需更正请新建记录")
    if inspection.status == "voided":
        raise WorkflowError(f"检查记录 {inspection.number} 已作废，不能再修改")
    return inspection


def touch(inspection: Inspection, *, reopen: bool = False) -> None:
    """A row of the inspection changed: the inspection itself counts as changed (it syncs again)."""
    inspection.updated_at = utcnow()
    if reopen and inspection.status == "completed":
        # A changed answer, officer or photo sends a completed record back to draft: it
        # must be checked (and its rectification order drafted) again. The statement,
        # signatures and the order's deadline are what happens after completion.
        inspection.status = "draft"
        inspection.completed_at = None


# Photo files are named by content: <64 lowercase hex>.<one of these extensions>
# (what ``photos.image_format`` gives, plus "jpeg" from older versions or other tools).
PHOTO_EXTS = frozenset({"png", "jpg", "jpeg", "gif", "bmp", "tif", "webp"})
_SHA256 = re.compile(r"[0-9a-f]{64}")


def safe_attachment_name(sha256: object, ext: object) -> bool:
    """Whether (sha256, ext) names a photo file: 64 lowercase hex and an allowed extension."""
    return (isinstance(sha256, str) and isinstance(ext, str) and _SHA256.fullmatch(sha256) is not None
            and ext in PHOTO_EXTS)


def photo_path(ctx: AppContext, sha256: str, ext: str) -> Path:
    """Where a photo lives: always inside the attachments folder, whatever a record says."""
    if not safe_attachment_name(sha256, ext):
        raise InvalidInput("照片记录的文件名无效（应为 64 位十六进制摘要和图片扩展名），已拒绝")
    return ctx.attachments_dir / sha256[:2] / f"{sha256}.{ext}"


SIGNATURE_EXT = "png"


def signature_path(ctx: AppContext, sha256: str) -> Path:
    """Where a signature image lives: the attachments folder, under its SHA-256 (as photos)."""
    return photo_path(ctx, sha256, SIGNATURE_EXT)


def _signature_row(ctx: AppContext, s) -> SignatureRow:
    png, problem = signature_image(ctx, s.sha256, s.png)
    return SignatureRow(s.role, s.signer_name, s.sha256, png, s.signed_at, problem)


def signature_image(ctx: AppContext, sha256: str, png: bytes | None) -> tuple[bytes, str]:
    """(the PNG, "") of a signature row, or (b"", why not) when it cannot be read.

    A row of before 0023 may still hold its PNG (until ``move_signatures``); otherwise the file
    is read through ``core.attachments`` (decrypted, and checked against the name). Either way
    the bytes must hash to the row's ``sha256``: a missing or altered image is never drawn.
    """
    if png is not None:
        if hashlib.sha256(png).hexdigest() == sha256:
            return png, ""
        return b"", "签名图像与其摘要不符（数据库中的图像已被改动）"
    try:
        return read_attachment(ctx, signature_path(ctx, sha256)), ""
    except InvalidInput as exc:
        return b"", f"签名图像文件缺失或无法读取：{exc.message}"
