"""SQLAlchemy 2.x declarative models.

Every record that will sync carries a UUID primary key, created/updated times, a
version number and the id of the device that created it (``SyncMixin``).
"""
from __future__ import annotations

import os
import time
import uuid
from datetime import date, datetime, timezone

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_uuid() -> str:
    """A time-ordered UUID (version 7, RFC 9562): 48-bit milliseconds, then random bits.

    New rows land at the end of the primary-key and foreign-key indexes instead of on a
    random page each, which makes bulk inserts (sync imports) several times faster.
    """
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


class Base(DeclarativeBase):
    pass


class SyncMixin:
    """Columns every synced record carries."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    device_id: Mapped[str] = mapped_column(String(36), nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805 - a declarative directive, called with the class
        # Optimistic locking: the ORM updates or deletes a row only where its version is still the one
        # read (``WHERE id = ? AND version = ?``), else StaleDataError (``AppContext.transaction``:
        # ``ChangedMeanwhile``). A console's save that read a record before a sync import changed it
        # would otherwise write over the import, at the version number the import had given it. The
        # version itself is set by core.guards (+1 once per transaction) or by the sync import, never
        # by the mapper.
        return {"version_id_col": cls.version, "version_id_generator": False}


class Setting(Base):
    """Station and device settings (station name, document prefixes, device id)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class DocumentCounter(Base):
    """Per prefix and year, the last sequence number this device issued. Only grows."""

    __tablename__ = "document_counters"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Subject(SyncMixin, Base):
    """A supervised party (监管对象)."""

    __tablename__ = "subjects"
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    licence_no: Mapped[str] = mapped_column(String(64), default="")
    filing_no: Mapped[str] = mapped_column(String(64), default="")
    legal_rep: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    grid: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Risk grade (风险分级) 1–3 for graded categories; None where grading does not apply.
    grade: Mapped[int | None] = mapped_column(Integer)

    inspections: Mapped[list[Inspection]] = relationship(back_populates="subject")
    grade_changes: Mapped[list[GradeChange]] = relationship(
        back_populates="subject", order_by="GradeChange.changed_at"
    )

    __table_args__ = (
        Index("ix_subjects_name", "name"),
        # what the statistics read of a subject, by id (migration 0016)
        Index("ix_subjects_stats", "id", "category", "grid", "status", "created_at"),
    )


class TemplateSnapshot(Base):
    """A checklist template exactly as inspections used it, stored once, keyed by its SHA-256.

    Content-addressed and never changed: thousands of inspections share a few snapshots.
    """

    __tablename__ = "template_snapshots"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    json: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Inspection(SyncMixin, Base):
    """One on-site inspection (现场检查) against a checklist template snapshot."""

    __tablename__ = "inspections"
    number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    template_code: Mapped[str] = mapped_column(String(64), nullable=False)
    template_version: Mapped[int] = mapped_column(Integer, nullable=False)
    # The template exactly as it was when the inspection began, so that the record
    # reads and prints as recorded even after the template file changes.
    template_sha: Mapped[str] = mapped_column(ForeignKey("template_snapshots.sha256"), nullable=False, index=True)
    # The party's register details as recorded (name, code, address...): a later edit
    # of the register does not change what a signed record says.
    party_json: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), default="enforcement")
    # "regular", or "reinspection" (整改复查: only the failed items, no new order)
    purpose: Mapped[str] = mapped_column(String(16), default="regular")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    place: Mapped[str] = mapped_column(String(300), default="")
    notified_by: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    findings: Mapped[str] = mapped_column(Text, default="")
    party_statement: Mapped[str] = mapped_column(Text, default="")
    party_present_name: Mapped[str] = mapped_column(String(64), default="")
    party_refused: Mapped[bool] = mapped_column(default=False)
    witness_name: Mapped[str] = mapped_column(String(64), default="")
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # the legal elements of the printed forms (core.inspections.legal); {} = canonical v1
    legal_json: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")

    subject: Mapped[Subject] = relationship(back_populates="inspections")
    snapshot: Mapped[TemplateSnapshot] = relationship(lazy="joined")

    @property
    def template_json(self) -> str:
        return self.snapshot.json

    __table_args__ = (
        # the inspection list, newest first, and a subject's history
        Index("ix_inspections_started", "started_at", "number"),
        Index("ix_inspections_subject_started", "subject_id", "started_at"),
        # statistics (core.stats.scope): the period's signed inspections read from the index alone
        Index("ix_inspections_signed", "status", "signed_at", "id", "subject_id", "template_sha", "template_code",
              "kind", "purpose"),
        # the statistics summary's station_devices trigger (db/stats_summary.py): a device's signed records
        Index("ix_inspections_device_signed", "device_id", "status", "signed_at"),
    )
    officers: Mapped[list[InspectionOfficer]] = relationship(
        back_populates="inspection", order_by="InspectionOfficer.position",
        cascade="all, delete-orphan",
    )
    results: Mapped[list[ItemResult]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan"
    )
    photos: Mapped[list[Photo]] = relationship(
        back_populates="inspection", order_by="Photo.created_at", cascade="all, delete-orphan"
    )
    signatures: Mapped[list[Signature]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan"
    )
    rectification: Mapped[Rectification | None] = relationship(
        back_populates="inspection", uselist=False, cascade="all, delete-orphan",
        foreign_keys="Rectification.inspection_id",
    )


class InspectionOfficer(SyncMixin, Base):
    """An enforcement officer on an inspection, with their certificate number (执法证号)."""

    __tablename__ = "inspection_officers"
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    cert_no: Mapped[str] = mapped_column(String(64), default="")

    inspection: Mapped[Inspection] = relationship(back_populates="officers")
    __table_args__ = (UniqueConstraint("inspection_id", "position"),
                      Index("ix_inspection_officers_names", "inspection_id", "name"))


class ItemResult(SyncMixin, Base):
    """The answer to one checklist item: pass / fail / na, with a note."""

    __tablename__ = "item_results"
    # indexed by the unique (inspection_id, item_code) below; no second index needed
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False)
    item_code: Mapped[str] = mapped_column(String(32), nullable=False)
    result: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")

    inspection: Mapped[Inspection] = relationship(back_populates="results")
    __table_args__ = (
        UniqueConstraint("inspection_id", "item_code"),
        # statistics: the failed results only (a few per cent of the rows), by inspection
        Index("ix_item_results_failed", "inspection_id", "item_code",
              sqlite_where=text("result = 'fail'"), postgresql_where=text("result = 'fail'")),
    )


class Photo(SyncMixin, Base):
    """Photo evidence, stored in the attachments folder under its SHA-256."""

    __tablename__ = "photos"
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, index=True)
    item_code: Mapped[str] = mapped_column(String(32), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    ext: Mapped[str] = mapped_column(String(8), nullable=False)
    original_name: Mapped[str] = mapped_column(String(260), default="")

    inspection: Mapped[Inspection] = relationship(back_populates="photos")


class Signature(SyncMixin, Base):
    """A signature drawn on screen (PNG), by role: party, witness, officer1, officer2..."""

    __tablename__ = "signatures"
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    signer_name: Mapped[str] = mapped_column(String(64), default="")
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # NULL: the image is a file in the attachments folder (0023); a PNG: a row of before, not moved yet
    png: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    signed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="signatures")
    __table_args__ = (UniqueConstraint("inspection_id", "role"),
                      # the rows whose PNG is still to be moved out (core.inspections.signature_files)
                      Index("ix_signatures_png_pending", "id", sqlite_where=text("png IS NOT NULL"),
                            postgresql_where=text("png IS NOT NULL")))


class Rectification(SyncMixin, Base):
    """An order to correct (责令改正通知书) issued for failed items; stays open until follow-up."""

    __tablename__ = "rectifications"
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, unique=True)
    number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    deadline: Mapped[date] = mapped_column(Date, nullable=False)
    requirements: Mapped[str] = mapped_column(Text, default="")
    # open → closed (re-inspection passed) or case_recommended (立案建议: failed again)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    reinspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    inspection: Mapped[Inspection] = relationship(back_populates="rectification", foreign_keys=[inspection_id])
    # the statistics: completed in a period; unresolved at a period's end (migration 0016)
    __table_args__ = (Index("ix_rectifications_closed", "status", "closed_at"),
                      Index("ix_rectifications_closed_at", "closed_at"))


class VoidedNumber(SyncMixin, Base):
    """作废登记: a document number that was taken and will never be used (a voided draft,
    an order dropped when its inspection was reopened), with why, by whom and when."""

    __tablename__ = "voided_numbers"
    number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # "inspection" (现场检查笔录) or "rectification" (责令改正通知书)
    doc_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    voided_by: Mapped[str] = mapped_column(String(64), nullable=False)
    voided_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class Questioning(SyncMixin, Base):
    """询问笔录 (范本 14): a record of questioning, tied to an inspection or standalone for a
    subject. What was said (the person asked, time, place, officers, 告知, the questions and
    answers, the confirmation) is ``content_json``; the drawn signatures ``signatures_json``
    (role → name, time, PNG as base64). Locked once signed (``content_hash``, ``core.guards``)."""

    __tablename__ = "questionings"
    number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")  # draft | signed
    content_json: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    signatures_json: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    content_hash: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class ServiceReceipt(SyncMixin, Base):
    """送达回证 (范本 10): how one document (the 责令改正通知书, the 笔录, a later one) was served,
    to whom, where and when; for 留置送达 the reason, the witness and the photo/video reference.
    ``content_json`` holds it; recorded (status ``signed``) it is locked by ``content_hash``;
    the signatures are on the paper original."""

    __tablename__ = "service_receipts"
    number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="signed")
    content_json: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    content_hash: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class CaseDocument(SyncMixin, Base):
    """The paperwork after an inspection that one row holds whole (``core.casework``):
    案件来源登记表 (``case_source``), 立案审批表 (``case_filing``), 先行登记保存证据通知书
    (``evidence_hold``) and its 解除 (``evidence_release``), 送达地址确认书 (``address_confirm``).
    ``content_json`` holds what it says; ``parent_id`` names the document it follows (the
    registration a filing is approved on, the notice a release lifts). Locked once ``signed``
    (issued, or approved by the 所长) by ``content_hash``, ``core.guards`` and the triggers of
    ``db.document_lock``."""

    __tablename__ = "case_documents"
    number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("case_documents.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")  # draft|submitted|signed|voided
    content_json: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    content_hash: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class Correction(SyncMixin, Base):
    """更正: the link from a correcting inspection (a new record with its own number) to the
    signed original it corrects. The original is never changed; the link lives here."""

    __tablename__ = "corrections"
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, unique=True)
    original_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, index=True)
    original_number: Mapped[str] = mapped_column(String(64), nullable=False)
    statement: Mapped[str] = mapped_column(Text, nullable=False)  # what is corrected
    reason: Mapped[str] = mapped_column(Text, nullable=False)     # why
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)
    approved_by: Mapped[str] = mapped_column(String(64), default="")
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    # what the admin approved: the correction's content hash without its signatures
    approved_hash: Mapped[str] = mapped_column(String(64), default="")

    inspection: Mapped[Inspection] = relationship(foreign_keys=[inspection_id])


class User(SyncMixin, Base):
    """A person who uses the app: inspector (with 执法证号), grid worker (with grid) or admin.

    Inspectors are the station's list of enforcement officers (执法人员名录); one without a
    password is on the list but cannot log in yet.
    """

    __tablename__ = "users"
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    cert_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    grid: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(default=True)


class Lead(SyncMixin, Base):
    """A grid worker's finding (线索): reported → received → assigned → handled → fed back → closed."""

    __tablename__ = "leads"
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    # an unregistered party: what the grid worker saw
    party_name: Mapped[str] = mapped_column(String(200), default="")
    party_address: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, nullable=False)
    place: Mapped[str] = mapped_column(String(300), default="")
    reporter_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    reported_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="reported", index=True)
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_by: Mapped[str] = mapped_column(String(64), default="")
    due: Mapped[date | None] = mapped_column(Date)
    assigned_to: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    handled_by: Mapped[str] = mapped_column(String(64), default="")
    handling: Mapped[str] = mapped_column(String(16), default="")  # event | case | unfounded
    handling_note: Mapped[str] = mapped_column(Text, default="")
    event_id: Mapped[str | None] = mapped_column(ForeignKey("trigger_events.id"), index=True)
    feedback: Mapped[str] = mapped_column(Text, default="")
    fed_back_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    photos: Mapped[list[LeadPhoto]] = relationship(back_populates="lead", cascade="all, delete-orphan")


class LeadPhoto(SyncMixin, Base):
    __tablename__ = "lead_photos"
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), nullable=False, index=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    ext: Mapped[str] = mapped_column(String(8), nullable=False)
    original_name: Mapped[str] = mapped_column(String(260), default="")

    lead: Mapped[Lead] = relationship(back_populates="photos")


class PaperScan(SyncMixin, Base):
    """A scan or photo of the signed paper original of a record printed for wet signatures,
    attached after it was locked (not part of its content hash; the file is named by its hash)."""

    __tablename__ = "paper_scans"
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, index=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    ext: Mapped[str] = mapped_column(String(8), nullable=False)
    original_name: Mapped[str] = mapped_column(String(260), default="")
    attached_by: Mapped[str] = mapped_column(String(64), default="")
    attached_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class AuditEntry(Base):
    """Append-only audit log (执法全过程记录): every change, chained by SHA-256.

    ``hash = sha256(prev_hash + canonical entry)``, so an edited, removed or reordered
    entry breaks the chain at that point.
    """

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(8), nullable=False)
    table_name: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    before_json: Mapped[str] = mapped_column(Text, nullable=False)
    after_json: Mapped[str] = mapped_column(Text, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class GradeChange(SyncMixin, Base):
    """One change of a subject's risk grade: who, when, why."""

    __tablename__ = "grade_changes"
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    from_grade: Mapped[int | None] = mapped_column(Integer)
    to_grade: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    event_id: Mapped[str | None] = mapped_column(ForeignKey("trigger_events.id"), index=True)

    subject: Mapped[Subject] = relationship(back_populates="grade_changes")


class TriggerEvent(SyncMixin, Base):
    """Something that makes an inspection due (触发事件): a complaint, a failed sample..."""

    __tablename__ = "trigger_events"
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    event_type: Mapped[str] = mapped_column(String(32), nullable=False)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    # 来源编号 from the upper platform; a row already imported is skipped
    source_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    details: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="manual")


class InspectionTask(SyncMixin, Base):
    """An inspection that is due (检查任务): open → in_progress → done / cancelled."""

    __tablename__ = "inspection_tasks"
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    priority: Mapped[str] = mapped_column(String(8), nullable=False)
    due: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    template_code: Mapped[str] = mapped_column(String(64), nullable=False)
    officers_json: Mapped[str] = mapped_column(Text, default="[]")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"), unique=True)
    rectification_id: Mapped[str | None] = mapped_column(ForeignKey("rectifications.id"), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    subject: Mapped[Subject] = relationship()
    reasons: Mapped[list[TaskReason]] = relationship(
        back_populates="task", order_by="TaskReason.created_at", cascade="all, delete-orphan"
    )


class TaskReason(SyncMixin, Base):
    """Why a task exists: each event or plan entry that caused it."""

    __tablename__ = "task_reasons"
    task_id: Mapped[str] = mapped_column(ForeignKey("inspection_tasks.id"), nullable=False, index=True)
    event_id: Mapped[str | None] = mapped_column(ForeignKey("trigger_events.id"), index=True)
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("inspection_plans.id"), index=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)

    task: Mapped[InspectionTask] = relationship(back_populates="reasons")


class InspectionPlan(SyncMixin, Base):
    """A year's baseline plan with its random draw (双随机), reproducible from seed and inputs."""

    __tablename__ = "inspection_plans"
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    seed: Mapped[int] = mapped_column(Integer, nullable=False)
    inputs_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    entries_json: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (UniqueConstraint("year", "seed", "inputs_sha256"),)


# --- batch sync bookkeeping (core/sync.py, docs/sync-format.md) --------------------------
# These tables never travel in a package themselves.


class StationDevice(Base):
    """Which station a device's records belong to, in a database that holds several stations (a county's
    or a city's): a record's station is its creating device's (``device_id``). Devices not listed are this
    database's own station's. Read by the statistics (``stats --station``, docs/statistics.md)."""

    __tablename__ = "station_devices"
    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    station: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Device(Base):
    """A device registered here for sync: its Ed25519 public key and number block. ``kind``: a
    "laptop" (a station's), or a "station" (a county's member station, or a city's member county:
    docs/levels.md)."""

    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    public_key: Mapped[str] = mapped_column(String(64), nullable=False)
    device_no: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # set by ``devices revoke``: its packages and hub requests are refused from then on
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="laptop", server_default="laptop")


class HubRequest(Base):
    """A signed hub request already accepted: the same signature or nonce again is a replay.

    Kept while its timestamp is inside the hub's clock window (older ones are refused for
    their age anyway, and purged).
    """

    __tablename__ = "hub_requests"
    # SHA-256 of the decoded signature bytes (so neither case nor spacing makes it new)
    signature_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36), nullable=False)
    nonce: Mapped[str] = mapped_column(String(32), nullable=False)
    request_time: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)

    __table_args__ = (UniqueConstraint("device_id", "nonce"),)


class SyncBatch(Base):
    """One package written (direction "out") or imported ("in"), per peer and sequence number."""

    __tablename__ = "sync_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)
    peer_id: Mapped[str] = mapped_column(String(36), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # out: the newest audit entry this batch covers (the next watermark once acknowledged)
    audit_upto: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("direction", "peer_id", "seq"),)


class SyncPeer(Base):
    """Per peer: the highest batch we imported from it, and the highest of ours it acknowledged."""

    __tablename__ = "sync_peers"
    peer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_imported_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    acked_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class SyncBase(Base):
    """The version of a record last sent to or received from a peer: the base for conflicts."""

    __tablename__ = "sync_base"
    peer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class SyncConflict(Base):
    """Two different edits of the same record: the local row was kept, the remote one is here."""

    __tablename__ = "sync_conflicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    local_json: Mapped[str] = mapped_column(Text, nullable=False)
    remote_json: Mapped[str] = mapped_column(Text, nullable=False)
    from_device: Mapped[str] = mapped_column(String(36), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    # which side deleted the record: "remote" (a tombstone came in), "local" (deleted here,
    # edited there), "" (both edited it) — migration 0019
    deleted: Mapped[str] = mapped_column(String(8), nullable=False, default="", server_default="")


class SyncTombstone(Base):
    """A deleted record that had been exchanged with a peer: travels as a tombstone (migration 0019)."""

    __tablename__ = "sync_tombstones"
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)  # the record's version when deleted
    deleted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    deleted_by: Mapped[str] = mapped_column(String(64), nullable=False)
    device_id: Mapped[str] = mapped_column(String(36), nullable=False)  # where it was deleted
    origin: Mapped[str | None] = mapped_column(String(36))  # the peer it came from (None: deleted here)
    audit_seq: Mapped[int] = mapped_column(Integer, nullable=False, index=True)  # the export's watermark


# --- the signed-record lock and the audit anchors (migration 0008) --------------------------


class SignedLockFresh(Base):
    """Inspections signed by the current transaction (``db.signed_lock``): empty outside one.

    ``cleared`` references a key that never exists, checked at commit: a transaction that
    still holds a marker cannot commit (``core.guards`` deletes them before every commit).
    """

    __tablename__ = "signed_lock_fresh"
    inspection_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cleared: Mapped[str] = mapped_column(
        String(36), ForeignKey("signed_lock_fresh.inspection_id", deferrable=True, initially="DEFERRED"),
        nullable=False, index=True)


class AuditAnchor(Base):
    """A sealed head of an audit chain (``core.anchors``): its own (source "self") or a peer's.

    ``kind`` "seal": the chain had ``seq`` entries, the last with ``hash``; "restore": the
    database was replaced by a backup whose chain ends there (older anchors above ``seq``
    no longer apply). Signed (Ed25519, ``public_key``) over the canonical payload.
    """

    __tablename__ = "audit_anchors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(8), nullable=False)
    device_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[str] = mapped_column(String(32), nullable=False)
    public_key: Mapped[str] = mapped_column(String(64), nullable=False)
    signature: Mapped[str] = mapped_column(String(128), nullable=False)
    stored_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class OfficerKey(SyncMixin, Base):
    """An officer's own Ed25519 signing key (可靠电子签名): the public half for everyone, the
    private half wrapped by the officer's password (``core.officer_keys``).

    A key is never deleted: a password reset or an officer who leaves revokes it
    (``revoked_at``) for new signatures; signatures made while it was valid stay valid.
    ``wrapped_key`` (JSON of ``core.keywrap.wrap_with_password``) travels only to the laptops
    where the officer may log in, and is cleared when the key is revoked.
    """

    __tablename__ = "officer_keys"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    # the 执法证号 the key was made for: its signatures name that officer whatever the user becomes
    cert_no: Mapped[str] = mapped_column(String(64), nullable=False)
    public_key: Mapped[str] = mapped_column(String(64), nullable=False)
    wrapped_key: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class OfficerSignature(SyncMixin, Base):
    """One officer's signature of a signed inspection, by position: their key's Ed25519
    signature over the content hash (``core.officer_keys.signing_message``), or — an officer
    with no key here (a joint inspection's officer from elsewhere) — ``key_id`` and
    ``signature`` null: signed by drawn signature only."""

    __tablename__ = "officer_signatures"
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    cert_no: Mapped[str] = mapped_column(String(64), default="")
    key_id: Mapped[str | None] = mapped_column(String(36))
    signature: Mapped[str | None] = mapped_column(String(128))
    signed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    inspection: Mapped[Inspection] = relationship()
    __table_args__ = (UniqueConstraint("inspection_id", "position"),)


class PublishedResource(SyncMixin, Base):
    """A checklist, trigger rules, grade table or register synonyms a hub (station, county, city)
    published for the levels below (docs/levels.md "What goes down"): the file's JSON as
    ``body``, its SHA-256, and the (``name``, ``resource_version``) read from it. Never changed
    once written (a new version is a new row); only a hub publishes, and a database accepts such
    rows only from the level above (``core.published``, ``core.sync.apply``)."""

    __tablename__ = "published_resources"
    kind: Mapped[str] = mapped_column(String(24), nullable=False)  # checklist | triggers | grades | register-synonyms
    name: Mapped[str] = mapped_column(String(64), nullable=False)  # a checklist's code; the kind for the others
    resource_version: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    published_by: Mapped[str] = mapped_column(String(200), nullable=False)

    __table_args__ = (Index("ix_published_resources_kind_name", "kind", "name", "resource_version"),)
