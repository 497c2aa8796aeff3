"""The inspection workflow: draft → completed → signed.

Every answer is its own transaction (autosave). Signing stores a SHA-256 over a canonical
form of the record; from then on nothing may change it — not only these services but any
flush through any session (``core.guards``), and below the ORM the database itself.

``records`` (the record, its canonical form and hash, loading), ``drafts`` (start and
edit), ``photos``, ``workflow`` (completion, signatures, signing). Import from here.
"""
from __future__ import annotations

from core.inspections.records import (
    CANONICAL_VERSION,
    ORDER_ROLE,
    Answer,
    DETAIL_FIELDS,
    FailedItem,
    InspectionRecord,
    InspectionSummary,
    KIND_LABELS,
    MIN_OFFICERS,
    OfficerData,
    PARTY_ROLE,
    PHOTO_EXTS,
    PhotoRow,
    RectificationRow,
    STATUS_LABELS,
    SignatureRow,
    WITNESS_ROLE,
    canonical,
    canonical_version,
    content_hash,
    list_inspections,
    load_inspection,
    officer_role,
    photo_path,
    signature_path,
    record_from_rows,
    safe_attachment_name,
)
from core.inspections.drafts import (
    create_inspection,
    party_snapshot,
    set_answer,
    set_note,
    set_officers,
    set_rectification,
    start_inspection,
    update_details,
)
from core.inspections.legal import (
    DEFAULT_CONFIRMATION,
    LEGAL_FIELDS,
    PRODUCT_FIELDS,
    can_enforce,
    enforcement_problems,
    fact_text,
    item_detail,
    needs_witness,
    party_signs_order,
    party_signs_record,
    product_text,
    set_item_detail,
    set_legal,
)
from core.inspections.photos import (
    add_photo,
    attach_paper_scan,
    paper_scans,
    image_format,
    remove_photo,
    store_image,
)
from core.inspections.workflow import (
    add_signature,
    complete_inspection,
    completion_problems,
    draft_findings,
    draft_requirements,
    lock_for_wet_signing,
    officer_signers,
    reopen_inspection,
    sign_inspection,
    signature_roles,
    signer_labels,
    signing_problems,
)

__all__ = [
    "attach_paper_scan", "paper_scans",
    "CANONICAL_VERSION", "DEFAULT_CONFIRMATION", "LEGAL_FIELDS", "ORDER_ROLE", "PRODUCT_FIELDS", "can_enforce",
    "canonical_version", "enforcement_problems", "fact_text", "item_detail", "lock_for_wet_signing",
    "needs_witness", "party_signs_order", "party_signs_record", "product_text", "set_item_detail", "set_legal",
    "Answer", "DETAIL_FIELDS", "FailedItem", "InspectionRecord", "InspectionSummary", "KIND_LABELS",
    "MIN_OFFICERS", "OfficerData", "PARTY_ROLE", "PHOTO_EXTS", "PhotoRow", "RectificationRow", "STATUS_LABELS",
    "SignatureRow", "WITNESS_ROLE", "add_photo", "add_signature", "canonical", "complete_inspection",
    "completion_problems", "content_hash", "create_inspection", "draft_findings", "draft_requirements",
    "image_format", "list_inspections", "load_inspection", "officer_role", "officer_signers", "party_snapshot", "photo_path", "signature_path",
    "record_from_rows", "remove_photo", "reopen_inspection", "safe_attachment_name", "set_answer", "set_note", "set_officers", "set_rectification",
    "sign_inspection", "signature_roles", "signer_labels", "signing_problems", "start_inspection",
    "store_image", "update_details"
]
