"""The kinds of case paperwork (table ``case_documents``): titles, number series, the content hash."""
from __future__ import annotations

import hashlib
import json

# kind → printed title (the 范本 number in docs/forms.md)
KIND_TITLES = {
    "case_source": "案件来源登记表",              # 范本 1
    "case_filing": "立案审批表",                  # 范本 7
    "evidence_hold": "先行登记保存证据通知书",     # 范本 19
    "evidence_release": "解除先行登记保存证据通知书",
    "address_confirm": "送达地址确认书",           # 范本 10
}
# kind → the 站所设置 key of its number prefix, and the default prefix
PREFIX_KEYS = {
    "case_source": ("prefix.case_source", "示市监案源"),
    "case_filing": ("prefix.case_filing", "示市监立"),
    "evidence_hold": ("prefix.evidence_hold", "示市监先保"),
    "evidence_release": ("prefix.evidence_release", "示市监解保"),
    "address_confirm": ("prefix.address_confirm", "示市监址"),
}
STATUS_LABELS = {"draft": "草稿", "submitted": "待审批", "signed": "已签发", "voided": "已作废"}


def content_hash(number: str, kind: str, inspection_id: str | None, parent_id: str | None, content: dict) -> str:
    """SHA-256 over what a case document says (the canonical JSON), as stored when it is locked."""
    data = json.dumps({"v": 1, "number": number, "kind": kind, "inspection_id": inspection_id,
                       "parent_id": parent_id, "content": content},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
