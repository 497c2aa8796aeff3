"""What the figures share: the rule for "an inspection in the period", the breakdown
expressions (each figure's count and its drill-down use the same expression), labels."""
from __future__ import annotations

import json

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, case, cast, exists, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from core.station_filter import device_condition
from core.stats.period import Period
from db.models import (
    Inspection,
    InspectionOfficer,
    InspectionTask,
    ItemResult,
    StationDevice,
    Subject,
    TaskReason,
    TemplateSnapshot,
    TriggerEvent,
)

DOMAIN_LABELS = {"drugs": "药品", "devices": "医疗器械", "cosmetics": "化妆品", "other": "其他"}
ORIGIN_LABELS = {"plan": "双随机计划", "trigger": "触发事件", "lead": "网格线索", "reinspection": "整改复查",
                 "routine": "日常监管"}
KIND_LABELS = {"enforcement": "执法检查", "routine": "日常巡查"}
HANDLING_LABELS = {"event": "转为检查任务", "case": "并入案件", "unfounded": "经核查不属实", "pending": "尚未处置"}
GRADE_LABELS = {1: "一级", 2: "二级", 3: "三级"}

# 药 / 械 / 化: the checklist used decides; a template code not named here falls back to the category
_DOMAIN_BY_TEMPLATE = (("cosmetics", "cosmetics"), ("device", "devices"), ("drug", "drugs"))
_DOMAIN_BY_CATEGORY = {"drug_retailer": "drugs", "device_operator": "devices", "device_wholesaler": "devices",
                       "device_retailer": "devices", "device_cold_chain": "devices", "cosmetics_operator": "cosmetics",
                       "medical_beauty": "cosmetics"}

DOMAIN = case(
    *((Inspection.template_code.like(f"{prefix}%"), domain) for prefix, domain in _DOMAIN_BY_TEMPLATE),
    *((Subject.category == category, domain) for category, domain in _DOMAIN_BY_CATEGORY.items()),
    else_="other",
)


# the same 药/械/化, with the subject read only where the checklist does not decide (a sub-query evaluated
# for the rows it is needed for): lets a query start from the failed results and skip the subject join
_CATEGORY_DOMAIN = (select(case(*((Subject.category == category, domain)
                                  for category, domain in _DOMAIN_BY_CATEGORY.items()), else_="other"))
                    .where(Subject.id == Inspection.subject_id).scalar_subquery())
DOMAIN_BY_TEMPLATE_FIRST = case(
    *((Inspection.template_code.like(f"{prefix}%"), domain) for prefix, domain in _DOMAIN_BY_TEMPLATE),
    else_=func.coalesce(_CATEGORY_DOMAIN, "other"),
)


def _task_reason(condition) -> exists:
    return exists().where(InspectionTask.inspection_id == Inspection.id, TaskReason.task_id == InspectionTask.id,
                          condition)


# What led to the inspection, the first that applies: a re-inspection, a lead, a trigger, the plan; else routine.
# An inspection not started from a task is routine unless it is a re-inspection: one look-up settles most.
ORIGIN = case(
    (Inspection.purpose == "reinspection", "reinspection"),
    (~exists().where(InspectionTask.inspection_id == Inspection.id), "routine"),
    (exists().where(InspectionTask.inspection_id == Inspection.id, InspectionTask.rectification_id.is_not(None)),
     "reinspection"),
    (_task_reason(and_(TaskReason.event_id == TriggerEvent.id, TriggerEvent.source == "lead")), "lead"),
    (_task_reason(TaskReason.event_id.is_not(None)), "trigger"),
    (_task_reason(TaskReason.plan_id.is_not(None)), "plan"),
    else_="routine",
)

# the station a record belongs to: the station its creating device belongs to (table station_devices,
# a county's or city's database); '' for this database's own station (devices not listed there)
STATION = func.coalesce(select(StationDevice.station).where(StationDevice.device_id == Inspection.device_id)
                        .scalar_subquery(), "")


def station_condition(device_column, period: Period):
    """True for a record (by its creating device) of the stations ``period`` counts."""
    if not period.stations:
        return true()
    return device_condition(device_column, period.devices, period.exclude)


# breakdown name → the grouped expression (the inspector one needs the officers joined)
DIMENSIONS = {
    "by_domain": DOMAIN,
    "by_category": Subject.category,
    "by_grid": Subject.grid,
    "by_inspector": InspectionOfficer.name,
    "by_kind": Inspection.kind,
    "by_origin": ORIGIN,
    # YYYY-MM of the signing time (the stored text's first 7 characters on SQLite and PostgreSQL)
    "by_month": func.substr(cast(Inspection.signed_at, String), 1, 7),
    "by_station": STATION,  # filled only where the database holds several stations
}


def signed_in(period: Period):
    """The rule for every inspection figure: signed (locked), with its signing time in the period."""
    return and_(Inspection.status == "signed", Inspection.signed_at >= period.begins,
                Inspection.signed_at < period.ends, station_condition(Inspection.device_id, period))


def register_condition(period: Period):
    """The register the coverage divides by: subjects in business (在营) entered before the period ended."""
    return and_(Subject.status == "active", Subject.created_at < period.ends,
                station_condition(Subject.device_id, period))


def inspections_query(columns, period: Period, dimension: str | None = None):
    """SELECT columns FROM the period's signed inspections with their subjects (and officers if needed)."""
    query = select(*columns).select_from(Inspection).join(Subject, Subject.id == Inspection.subject_id)
    if dimension == "by_inspector":
        query = query.join(InspectionOfficer, InspectionOfficer.inspection_id == Inspection.id)
    return query.where(signed_in(period))


# sha256 → {item code: (template short title, heading, advisory)}; a snapshot is keyed by the SHA-256
# of its text, so what it says never changes: read once per process
_OUTLINES: dict[str, dict[str, tuple[str, str, bool]]] = {}


def _outline(text: str) -> dict[str, tuple[str, str, bool]]:
    """The headings and advisory flags of a stored snapshot, read without the full schema check
    (stored snapshots were checked when stored; a missing field here reads as empty, never fails)."""
    data = json.loads(text)
    title = str(data.get("short_title") or data.get("title") or data.get("code") or "?")
    out = {}
    for section in data.get("sections") or ():
        heading = str(section.get("group") or section.get("title") or "")
        for item in section.get("items") or ():
            out[str(item.get("code"))] = (title, heading, bool(item.get("advisory", False)))
    return out


def outlines(session: Session, shas) -> dict[str, dict[str, tuple[str, str, bool]]]:
    """sha → that snapshot's outline (``_outline``), the missing ones read in one query."""
    wanted = {sha for sha in shas if sha}
    missing = wanted - _OUTLINES.keys()
    if missing:
        for sha, text in session.execute(select(TemplateSnapshot.sha256, TemplateSnapshot.json)
                                         .where(TemplateSnapshot.sha256.in_(missing))).all():
            _OUTLINES[sha] = _outline(text)
    return {sha: _OUTLINES.get(sha, {}) for sha in wanted}


def advisory_condition(session: Session, period: Period):
    """True for an item result whose item is advisory in the template its inspection used."""
    shas = session.scalars(select(Inspection.template_sha).where(signed_in(period)).distinct()).all()
    parts = []
    for sha, outline in outlines(session, shas).items():
        codes = [code for code, (_t, _h, advisory) in outline.items() if advisory]
        if codes:
            parts.append(and_(Inspection.template_sha == sha, ItemResult.item_code.in_(codes)))
    return or_(*parts) if parts else false()


def failed_condition(advisory):
    """An item result that counts as a problem: failed, on an item that is not advisory."""
    return and_(ItemResult.inspection_id == Inspection.id, ItemResult.result == "fail", not_(advisory))


def headings(session: Session, shas) -> dict[tuple[str, str], tuple[str, str, bool]]:
    """(template sha, item code) → (template short title, heading, advisory); the heading is the
    section's group (5+3+1: 五查 / 三有 / 一要) or, without one, the section title."""
    return {(sha, code): value for sha, outline in outlines(session, shas).items() for code, value in outline.items()}


def share(part: int, whole: int) -> float | None:
    """part / whole to four places; None when nothing to divide by (shown as "—")."""
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class DrillRow:
    """One record behind a number; ``kind`` + ``id`` say what to open (an inspection, a subject, a lead, an event)."""

    kind: str
    id: str
    number: str
    subject: str
    at: datetime | None
    text: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "id": self.id, "number": self.number, "subject": self.subject,
                "at": self.at.isoformat() if self.at else None, "text": self.text}
