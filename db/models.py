"""SQLAlchemy 2.x declarative models.

Every record that will sync carries a UUID primary key, created/updated times, a
version number and the id of the device that created it (``SyncMixin``).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_uuid() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    pass


class SyncMixin:
    """Columns every synced record carries."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    device_id: Mapped[str] = mapped_column(String(36), nullable=False)


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

    inspections: Mapped[list[Inspection]] = relationship(back_populates="subject")

    __table_args__ = (Index("ix_subjects_name", "name"),)


class Inspection(SyncMixin, Base):
    """One on-site inspection (现场检查) against a checklist template snapshot."""

    __tablename__ = "inspections"
    number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    template_code: Mapped[str] = mapped_column(String(64), nullable=False)
    template_version: Mapped[int] = mapped_column(Integer, nullable=False)
    # The template exactly as it was when the inspection began, so that the record
    # reads and prints as recorded even after the template file changes.
    template_json: Mapped[str] = mapped_column(Text, nullable=False)
    # The party's register details as recorded (name, code, address...): a later edit
    # of the register does not change what a signed record says.
    party_json: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), default="enforcement")
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

    subject: Mapped[Subject] = relationship(back_populates="inspections")
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
        back_populates="inspection", uselist=False, cascade="all, delete-orphan"
    )


class InspectionOfficer(SyncMixin, Base):
    """An enforcement officer on an inspection, with their certificate number (执法证号)."""

    __tablename__ = "inspection_officers"
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    cert_no: Mapped[str] = mapped_column(String(64), default="")

    inspection: Mapped[Inspection] = relationship(back_populates="officers")
    __table_args__ = (UniqueConstraint("inspection_id", "position"),)


class ItemResult(SyncMixin, Base):
    """The answer to one checklist item: pass / fail / na, with a note."""

    __tablename__ = "item_results"
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, index=True)
    item_code: Mapped[str] = mapped_column(String(32), nullable=False)
    result: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")

    inspection: Mapped[Inspection] = relationship(back_populates="results")
    __table_args__ = (UniqueConstraint("inspection_id", "item_code"),)


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
    png: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    signed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="signatures")
    __table_args__ = (UniqueConstraint("inspection_id", "role"),)


class Rectification(SyncMixin, Base):
    """An order to correct (责令改正通知书) issued for failed items; stays open until follow-up."""

    __tablename__ = "rectifications"
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), nullable=False, unique=True)
    number: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    deadline: Mapped[date] = mapped_column(Date, nullable=False)
    requirements: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)

    inspection: Mapped[Inspection] = relationship(back_populates="rectification")
