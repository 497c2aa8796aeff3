"""What syncs, in what order and format: the facts every part of ``core.sync`` shares."""
from __future__ import annotations

from core.checklists import RESULTS
from core.inspections import KIND_LABELS, PHOTO_EXTS, STATUS_LABELS
from core.leads import CATEGORIES as LEAD_CATEGORIES, HANDLINGS, STATUS_LABELS as LEAD_STATUS_LABELS
from core.rules import GRADE_LABELS, PRIORITY_LABELS
from core.subjects import CATEGORIES as SUBJECT_CATEGORIES, STATUSES as SUBJECT_STATUSES
from core.tasks import TASK_STATUS_LABELS
from core.users import ROLES
from core.numbering import DOC_KIND_LABELS
from core.published import KIND_LABELS as PUBLISHED_KINDS
from db.models import (
    CaseDocument,
    Correction,
    GradeChange,
    Inspection,
    InspectionOfficer,
    InspectionPlan,
    InspectionTask,
    ItemResult,
    Lead,
    LeadPhoto,
    OfficerKey,
    OfficerSignature,
    PaperScan,
    PublishedResource,
    Photo,
    Questioning,
    Rectification,
    ServiceReceipt,
    Signature,
    Subject,
    TaskReason,
    TemplateSnapshot,
    TriggerEvent,
    User,
    VoidedNumber,
)

FORMAT = "yxjc-sync"
FORMAT_VERSION = 2  # 2: tombstones (deletions travel)
ENROLMENT_FORMAT = "yxjc-enrolment"
# Audit entries written while importing carry this actor prefix ("同步:<sender>"), so an
# export never echoes back what it received.
SYNC_ACTOR_PREFIX = "同步"
DEFAULT_MAX_MB = 50
MAX_DEVICE_NO = 99

# Every synced table, parents before children (the order records are written and applied).
MODELS: tuple[type, ...] = (
    TemplateSnapshot, PublishedResource, Subject, User, OfficerKey, TriggerEvent, GradeChange, InspectionPlan, Inspection,
    InspectionOfficer, ItemResult, Photo, Signature, OfficerSignature, Rectification, Correction, VoidedNumber,
    InspectionTask, TaskReason, Lead, LeadPhoto, PaperScan, Questioning, ServiceReceipt, CaseDocument,
)
# One-row documents (询问笔录, 送达回证, case papers): a row signed here is never overwritten,
# one arriving signed must prove its content hash (``core.sync.documents``).
DOCUMENT_TABLES = ("questionings", "service_receipts", "case_documents")
# Tables whose rows name a file in the attachments folder (``<sha256>.<ext>``), sent along.
ATTACHMENT_TABLES: dict[str, type] = {"photos": Photo, "lead_photos": LeadPhoto, "paper_scans": PaperScan}
BY_TABLE: dict[str, type] = {m.__tablename__: m for m in MODELS}
# Tables whose changes are found in the audit log (template snapshots are immutable and
# not audited: they travel with the inspections that use them).
AUDITED_TABLES = tuple(name for name in BY_TABLE if name != "template_snapshots")
# The station keeps its own list of users, passwords and officers' keys; laptops never change it.
STATION_REFUSES = {"users", "officer_keys"}
# Checklists and rules a hub published (``core.published``): they only go down, and a database
# accepts them only from the level above (a laptop from its station, a station from its county).
PUBLISHED = "published_resources"
# Rows that belong to an inspection: never overwritten once it is signed.
INSPECTION_CHILDREN = {"inspection_officers", "item_results", "photos", "signatures", "rectifications",
                       "corrections", "officer_signatures"}
# An inspection and its rows: flushed together on PostgreSQL (see ``apply.import_package``).
INSPECTION_GROUP = {"inspections", *INSPECTION_CHILDREN}
# Child rows that also have a natural key: re-drawing a signature (or re-entering an
# officer) makes a new row, with a new UUID, in the same place as the old one.
NATURAL_KEYS = {"signatures": ("inspection_id", "role"), "officer_signatures": ("inspection_id", "position"), "inspection_officers": ("inspection_id", "position"),
                "item_results": ("inspection_id", "item_code")}

# Settings (table ``settings``) that make a database a station or an enrolled laptop.
S_ROLE, S_STATION_ID, S_STATION_NAME = "sync.role", "sync.station_id", "sync.station_name"
S_STATION_DEVICE, S_STATION_PUB, S_PRIVATE = "sync.station_device_id", "sync.station_public_key", "sync.private_key"
S_DEVICE_NAME = "sync.device_name"
# Settings that make a database a member of the level above (a station enrolled at its county, a
# county at its city: docs/levels.md), besides being the hub of its own laptops or stations. The
# hub above knows this database by its own device id and key pair, given in the enrolment file.
S_UP_STATION_ID, S_UP_NAME = "sync.up.station_id", "sync.up.name"
S_UP_HUB_DEVICE, S_UP_HUB_PUB = "sync.up.hub_device_id", "sync.up.hub_public_key"
S_UP_DEVICE, S_UP_PRIVATE, S_UP_DEVICE_NAME = "sync.up.device_id", "sync.up.private_key", "sync.up.device_name"
# Audit entries written while importing from the level above: "同步:上级:<name>". They go on down
# (to laptops or member stations), where other imports' entries do not.
FROM_ABOVE = f"{SYNC_ACTOR_PREFIX}:上级:"
DEVICE_KINDS = ("laptop", "station")

# What people call each synced table (status panel, conflicts).
TABLE_LABELS = {
    "template_snapshots": "检查表模板", "subjects": "监管对象", "users": "用户", "trigger_events": "触发事件",
    "grade_changes": "风险等级调整", "inspection_plans": "检查计划", "inspections": "检查记录",
    "inspection_officers": "检查人员", "item_results": "检查项结果", "photos": "照片", "signatures": "签名",
    "rectifications": "责令改正", "inspection_tasks": "检查任务", "task_reasons": "任务原因", "leads": "线索",
    "lead_photos": "线索照片", "corrections": "更正", "voided_numbers": "作废登记", "paper_scans": "纸质原件扫描件",
    "questionings": "询问笔录", "service_receipts": "送达回证", "case_documents": "案件文书",
    "officer_keys": "执法人员签名密钥", "officer_signatures": "执法人员密钥签名",
    "published_resources": "发布的检查表和规则",
}

# The values a status-like column may hold, per (table, column): an incoming record with
# any other value is refused (``core.sync.validate``). One place for the lists; each comes
# from the service that owns the value where there is one.
GRADES = tuple(sorted(GRADE_LABELS))
ENUMS: dict[tuple[str, str], tuple] = {
    ("inspections", "status"): tuple(STATUS_LABELS),            # draft, completed, signed
    ("inspections", "kind"): tuple(KIND_LABELS),                # enforcement, routine
    ("inspections", "purpose"): ("regular", "reinspection"),
    ("item_results", "result"): RESULTS,                        # pass, fail, na (or null: not answered)
    ("rectifications", "status"): ("open", "closed", "case_recommended"),
    ("users", "role"): tuple(ROLES),                            # inspector, grid_worker, admin
    ("subjects", "category"): tuple(SUBJECT_CATEGORIES),
    ("subjects", "status"): tuple(SUBJECT_STATUSES),
    ("subjects", "grade"): GRADES,
    ("grade_changes", "from_grade"): GRADES,
    ("grade_changes", "to_grade"): GRADES,
    ("trigger_events", "source"): ("manual", "import", "system", "lead"),
    ("inspection_tasks", "status"): tuple(TASK_STATUS_LABELS),  # open, in_progress, done, cancelled
    ("inspection_tasks", "priority"): tuple(PRIORITY_LABELS),   # high, medium, low
    ("leads", "status"): tuple(LEAD_STATUS_LABELS),
    ("leads", "category"): tuple(LEAD_CATEGORIES),
    ("leads", "handling"): ("", *HANDLINGS),                   # "" until handled
    ("photos", "ext"): tuple(sorted(PHOTO_EXTS)),
    ("lead_photos", "ext"): tuple(sorted(PHOTO_EXTS)),
    ("voided_numbers", "doc_kind"): tuple(DOC_KIND_LABELS),     # inspection, rectification
    ("paper_scans", "ext"): tuple(sorted(PHOTO_EXTS)),
    ("questionings", "status"): ("draft", "signed", "voided"),
    ("service_receipts", "status"): ("signed",),                # recorded whole, locked at once
    ("case_documents", "status"): ("draft", "submitted", "signed", "voided"),
    ("published_resources", "kind"): tuple(PUBLISHED_KINDS),  # checklist, triggers, grades, register-synonyms
    ("case_documents", "kind"): ("case_source", "case_filing", "evidence_hold", "evidence_release", "address_confirm"),
}
