"""A record's history for people (修改记录): one row per changed field, in Chinese, old → new.

The audit trail (``core.audit``) keeps every change as columns before and after; this reads
it the way an inspector or a reviewer asks: which kind of record (检查项结果, not
``item_results``), which field (结果, not ``result``), its old and new value as the screens
show them (不符合, not ``fail``). Bookkeeping columns (ids, versions, timestamps of the row
itself, hashes) are not shown, and an entry that changed nothing shown gives no row.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from core.audit import ACTION_LABELS, HistoryRow, record_history
from core.checklists import RESULT_LABELS, template_from_snapshot
from core.inspections.legal import BOOL_FIELDS, PRODUCT_FIELDS, TEXT_FIELDS
from core.inspections.records import KIND_LABELS, STATUS_LABELS
from core.subjects import CATEGORIES, STATUSES
from core.sync.conflicts import FIELD_LABELS
from core.sync.spec import TABLE_LABELS
from db.models import Inspection, ItemResult, Photo, TemplateSnapshot

if TYPE_CHECKING:
    from core.context import AppContext

HIDDEN = {"id", "device_id", "version", "created_at", "updated_at", "content_hash", "template_sha", "sha256",
          "png", "password_hash", "position", "subject_id", "inspection_id", "lead_id", "template_code", "template_version"}
# labels that differ by table from the shared ones
TABLE_FIELD_LABELS = {
    ("subjects", "status"): "经营状态", ("subjects", "grade"): "风险等级", ("subjects", "licence_no"): "许可证号",
    ("subjects", "filing_no"): "备案号", ("inspection_officers", "name"): "执法人员",
    ("inspection_officers", "cert_no"): "执法证号", ("inspection_officers", "position"): "顺序",
    ("photos", "original_name"): "照片文件", ("photos", "ext"): "格式", ("rectifications", "number"): "责令改正编号",
    ("rectifications", "reinspection_id"): "复查记录", ("rectifications", "closed_at"): "结案时间",
}
VALUE_LABELS: dict[tuple[str, str], dict] = {
    ("inspections", "status"): STATUS_LABELS,
    ("inspections", "kind"): KIND_LABELS,
    ("inspections", "purpose"): {"regular": "日常检查", "reinspection": "整改复查"},
    ("item_results", "result"): RESULT_LABELS,
    ("subjects", "category"): CATEGORIES,
    ("subjects", "status"): STATUSES,
    ("signatures", "role"): {"party": "当事人", "witness": "见证人", "officer1": "第一执法人员", "officer2": "第二执法人员"},
    ("rectifications", "status"): {"open": "整改中", "closed": "已结案", "case_recommended": "建议立案"},
}
EMPTY = "（空）"
PARTY_LABELS = {"name": "名称", "credit_code": "统一社会信用代码", "address": "地址", "legal_rep": "法定代表人",
                "phone": "电话", "licence_no": "许可证号", "filing_no": "备案号"}


@dataclass(frozen=True)
class ChangeRow:
    """One changed field of one audit entry."""

    seq: int
    at: datetime
    actor: str
    action: str  # 新建 / 修改 / 删除
    kind: str  # the record kind, in Chinese: 检查记录, 检查项结果 ...
    field: str
    before: str
    after: str


def field_label(table: str, column: str) -> str:
    return TABLE_FIELD_LABELS.get((table, column)) or FIELD_LABELS.get(column) or column


def value_text(table: str, column: str, value: Any) -> str:
    """A stored value as the screens show it."""
    if value is None or value == "":
        return EMPTY if (table, column) != ("item_results", "result") else RESULT_LABELS[None]
    labels = VALUE_LABELS.get((table, column))
    if labels is not None:
        return labels.get(value, str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if column == "party_json":
        try:
            party = json.loads(value)
        except (TypeError, ValueError):
            return str(value)
        return "；".join(f"{PARTY_LABELS.get(k, k)}：{v}" for k, v in party.items() if v and k in PARTY_LABELS)
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
        return value[:16].replace("T", " ")  # an ISO time, to the minute
    return str(value)


ITEM_TEXT = 24  # characters of an item's text shown beside its code


def _item_titles(ctx: AppContext, record_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """Item code → "A1 text…" for the record's checklist as it was recorded, and the ids of its
    answers and photos → their item code (an update's entry names only the row)."""
    with ctx.sessions() as s:
        snapshot = s.scalar(select(TemplateSnapshot.json)
                            .join(Inspection, Inspection.template_sha == TemplateSnapshot.sha256)
                            .where(Inspection.id == record_id))
        codes = {i: c for i, c in s.execute(select(ItemResult.id, ItemResult.item_code)
                                            .where(ItemResult.inspection_id == record_id))}
        codes.update({i: c for i, c in s.execute(select(Photo.id, Photo.item_code).where(Photo.inspection_id == record_id))})
    if snapshot is None:
        return {}, codes
    titles = {}
    for item in template_from_snapshot(snapshot).items:
        text = item.text if len(item.text) <= ITEM_TEXT else item.text[:ITEM_TEXT] + "…"
        titles[item.code] = f"{item.code} {text}"
    return titles, codes


# the legal elements (``inspections.legal_json``, core.inspections.legal), one field each
LEGAL_LABELS = {**{k: label for k, (label, _limit) in TEXT_FIELDS.items()}, **BOOL_FIELDS,
                "wet": "纸质签名文书", "items": "不符合项的具体情形与产品"}


def _legal_text(key: str, value: Any) -> str:
    if key == "items" and isinstance(value, dict):
        parts = []
        for code, detail in sorted(value.items()):
            product = detail.get("product") or {}
            said = [detail.get("case") or "", "，".join(f"{PRODUCT_FIELDS.get(k, k)}{v}" for k, v in product.items() if v)]
            parts.append(f"{code}：" + "；".join(x for x in said if x))
        return "。".join(parts) or EMPTY
    return value_text("inspections", key, value)


def _expand_legal(entry: HistoryRow) -> HistoryRow:
    """``legal_json`` as one column per legal element (the version of the canonical form hidden)."""
    if "legal_json" not in entry.before and "legal_json" not in entry.after:
        return entry

    def unpack(values: dict) -> dict:
        out = {k: v for k, v in values.items() if k != "legal_json"}
        try:
            legal = json.loads(values.get("legal_json") or "{}")
        except (TypeError, ValueError):
            legal = {}
        out.update({f"legal:{k}": v for k, v in legal.items() if k != "canonical"})
        return out

    before, after = unpack(entry.before), unpack(entry.after)
    for key in set(before) | set(after):  # an element added or removed reads as (空) on the other side
        if key.startswith("legal:") and entry.action == "update":
            before.setdefault(key, None)
            after.setdefault(key, None)
    return HistoryRow(entry.seq, entry.at, entry.actor, entry.action, entry.table, before, after, entry.record_id)


def _rows(entry: HistoryRow, items: dict[str, str], codes: dict[str, str]) -> list[ChangeRow]:
    table = entry.table
    entry = _expand_legal(entry)
    kind = TABLE_LABELS.get(table, table)
    action = ACTION_LABELS.get(entry.action, entry.action)
    keys = [k for k in (*entry.before, *[k for k in entry.after if k not in entry.before])
            if k not in HIDDEN and not (k.endswith("_id") and k not in ("reinspection_id",))]
    code = entry.after.get("item_code") or entry.before.get("item_code") or codes.get(entry.record_id)
    if table in ("item_results", "photos") and code:
        kind = f"{kind}（{items.get(code, code)}）"
        keys = [k for k in keys if k != "item_code"]
    rows = []
    for key in keys:
        shown = _legal_text if key.startswith("legal:") else (lambda k, v: value_text(table, k, v))
        name = key.removeprefix("legal:")
        before = shown(name, entry.before.get(key)) if entry.action != "insert" else ""
        after = shown(name, entry.after.get(key)) if entry.action != "delete" else ""
        if entry.action == "insert" and after in (EMPTY, RESULT_LABELS[None]):
            continue  # a new record's empty fields say nothing
        if entry.action == "delete" and before in (EMPTY, RESULT_LABELS[None]):
            continue
        if entry.action == "update" and before == after:
            continue
        label = LEGAL_LABELS.get(name, name) if key.startswith("legal:") else field_label(table, key)
        rows.append(ChangeRow(entry.seq, entry.at, entry.actor, action, kind, label, before, after))
    if not rows and entry.action != "update":  # a record added or removed with nothing to show but itself
        rows.append(ChangeRow(entry.seq, entry.at, entry.actor, action, kind, "", "", ""))
    return rows


def readable_history(ctx: AppContext, record_id: str) -> list[ChangeRow]:
    """The record's history (it and its answers, photos, signatures…), one row per changed field."""
    items, codes = _item_titles(ctx, record_id)
    return [row for entry in record_history(ctx, record_id) for row in _rows(entry, items, codes)]
