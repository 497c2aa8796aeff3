"""The legal elements of an inspection's documents, beyond the original columns.

Stored as one JSON object in ``inspections.legal_json`` and covered by the content hash
(canonical v2): the party's answers to the 告知 (看清证件了吗 / 是否申请回避), the ID number
of the person present, the 记录人, the party's confirmation of the 笔录, the refusal reason,
"party absent", the witness's ID or unit and phone (《行政强制法》第十八条), the 执法记录仪
recording, the party's receipt or refusal of the 责令改正通知书, the 检查记录表's 处理措施
and the party's opinion on it, and for each failed item the case of an either-or wording
and the products concerned (a definite 违法事实). Also the rule that an enforcement document
needs two officers with 执法证号 (《化妆品监督管理条例》第四十七条, 《医疗器械经营监督管理办法》
第四十九条, 《行政处罚法》第四十二条) whatever the visit is called.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.inspections.records import CANONICAL_VERSION, MIN_OFFICERS, FailedItem, InspectionRecord, editable, touch
from core.users import require
from db.models import Inspection, InspectionTask, Lead, TaskReason, User

if TYPE_CHECKING:
    from core.context import AppContext

# key: (what the field is, in a message; the longest value)
TEXT_FIELDS = {
    "party_id_no": ("现场负责人身份证件号码", 32),
    "recorder": ("记录人", 64),
    "credentials_answer": ("当事人对“是否看清执法证件”的回答", 200),
    "recusal_answer": ("当事人对“是否申请回避”的回答", 200),
    "confirmation": ("当事人对笔录的确认意见", 200),
    "refusal_reason": ("当事人拒绝签字的理由", 500),
    "witness_id": ("见证人身份证件号码或工作单位", 100),
    "witness_phone": ("见证人联系电话", 32),
    "camera_device": ("执法记录仪编号", 64),
    "camera_file": ("执法记录仪文件名或录像时段", 200),
    "order_refusal_reason": ("当事人拒绝签收责令改正通知书的理由", 500),
    "checklist_opinion": ("当事人对检查记录表的意见", 500),
    "measures": ("处理措施", 2000),
}
BOOL_FIELDS = {"party_absent": "当事人不在场", "order_refused": "当事人拒绝签收责令改正通知书"}
LEGAL_FIELDS = (*TEXT_FIELDS, *BOOL_FIELDS)
PRODUCT_FIELDS = {"name": "产品名称", "spec": "规格", "batch": "批号", "quantity": "数量"}
DEFAULT_CONFIRMATION = "以上笔录我已看过，与事实相符。"


def legal_of(inspection: Inspection) -> dict:
    return json.loads(inspection.legal_json or "{}")


def _store(inspection: Inspection, legal: dict) -> None:
    legal["canonical"] = CANONICAL_VERSION
    inspection.legal_json = json.dumps(legal, ensure_ascii=False, sort_keys=True)


def set_legal(ctx: AppContext, inspection_id: str, **fields) -> None:
    """Change legal elements of a draft (text fields stripped; empty text removes the field)."""
    require(ctx, "inspect")
    unknown = set(fields) - set(LEGAL_FIELDS)
    if unknown:
        raise ValueError(f"not legal fields: {sorted(unknown)}")
    for key, value in fields.items():
        if key in BOOL_FIELDS and not isinstance(value, bool):
            raise InvalidInput(f"“{BOOL_FIELDS[key]}”应为是或否")
        if key in TEXT_FIELDS:
            if not isinstance(value, str):
                raise InvalidInput(f"“{TEXT_FIELDS[key][0]}”应为文字")
            if len(value.strip()) > TEXT_FIELDS[key][1]:
                raise InvalidInput(f"“{TEXT_FIELDS[key][0]}”过长（最多 {TEXT_FIELDS[key][1]} 字）")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        legal = legal_of(inspection)
        for key, value in fields.items():
            value = value.strip() if isinstance(value, str) else value
            if value in ("", False):
                legal.pop(key, None)
            else:
                legal[key] = value
        if legal.get("party_absent") and inspection.party_refused:
            raise InvalidInput("当事人不在场与当事人拒绝签字不能同时选择：不在场时由见证人见证，不记为拒绝签字")
        if legal != legal_of(inspection):
            _store(inspection, legal)
            touch(inspection)


def set_item_detail(ctx: AppContext, inspection_id: str, item_code: str, *, case: str | None = None,
                    product: dict | None = None) -> None:
    """Which case of an either-or item applies, and the products a finding concerns."""
    require(ctx, "inspect")
    with ctx.transaction() as s:
        inspection = editable(s, inspection_id)
        from core.checklists import template_from_snapshot

        item = template_from_snapshot(inspection.template_json).item(item_code)
        legal = legal_of(inspection)
        detail = dict(legal.get("items", {}).get(item_code, {}))
        if case is not None:
            if case and case not in item.cases:
                raise InvalidInput(f"检查项 {item_code} 没有“{case}”这一情形")
            detail["case"] = case
        if product is not None:
            if not item.product:
                raise InvalidInput(f"检查项 {item_code} 不涉及具体产品")
            unknown = set(product) - set(PRODUCT_FIELDS)
            if unknown:
                raise ValueError(f"not product fields: {sorted(unknown)}")
            for key, value in product.items():
                if not isinstance(value, str) or len(value.strip()) > 200:
                    raise InvalidInput(f"“{PRODUCT_FIELDS[key]}”应为 200 字以内的文字")
            detail["product"] = {k: product.get(k, "").strip() for k in PRODUCT_FIELDS}
        detail = {k: v for k, v in detail.items() if v and (k != "product" or any(v.values()))}
        items = dict(legal.get("items", {}))
        if detail:
            items[item_code] = detail
        else:
            items.pop(item_code, None)
        if items:
            legal["items"] = items
        else:
            legal.pop("items", None)
        if legal != legal_of(inspection):
            _store(inspection, legal)
            touch(inspection, reopen=True)


# --- reading -------------------------------------------------------------------------------
def enforcement_problems(record: InspectionRecord, *, too_few: str = "执法人员少于两名") -> list[str]:
    """Why this inspection cannot produce an enforcement document (笔录 as evidence, 责令改正):
    fewer than two officers (``too_few`` says so), or an officer without 执法证号."""
    problems = []
    if len(record.officers) < MIN_OFFICERS:
        problems.append(too_few)
    no_cert = [o.name for o in record.officers if not o.cert_no]
    if no_cert:
        problems.append(f"执法人员缺少执法证号：{'、'.join(no_cert)}")
    return problems


def can_enforce(record: InspectionRecord) -> bool:
    return not enforcement_problems(record)


def item_detail(record: InspectionRecord, code: str) -> dict:
    return record.legal.get("items", {}).get(code, {})


def product_text(record: InspectionRecord, code: str) -> str:
    product = item_detail(record, code).get("product") or {}
    parts = [f"{label}：{product[key]}" for key, label in PRODUCT_FIELDS.items() if product.get(key)]
    return "，".join(parts)


def fact_text(record: InspectionRecord, failed: FailedItem) -> str:
    """The definite 违法事实 of a failed item: the case that applies, the products concerned."""
    text = item_detail(record, failed.item.code).get("case") or failed.item.fail_text
    product = product_text(record, failed.item.code)
    return text + (f"（{product}）" if product else "")


def fact_problems(record: InspectionRecord) -> list[str]:
    """Failed items whose facts are not yet definite."""
    no_case = [f.item.code for f in record.failed_items()
               if f.item.cases and not item_detail(record, f.item.code).get("case")]
    no_product = [f.item.code for f in record.failed_items() if f.item.product and not all(
        (item_detail(record, f.item.code).get("product") or {}).get(k) for k in PRODUCT_FIELDS)]
    problems = []
    if no_case:
        problems.append(f"不符合项须选择适用的具体情形：{'、'.join(no_case)}")
    if no_product:
        problems.append(f"涉及产品的不符合项须填写产品名称、规格、批号和数量：{'、'.join(no_product)}")
    return problems


def needs_witness(record: InspectionRecord) -> bool:
    legal = record.legal
    return bool(record.party_refused or legal.get("party_absent")
                or (record.rectification is not None and legal.get("order_refused")))


def party_signs_record(record: InspectionRecord) -> bool:
    return not (record.party_refused or record.legal.get("party_absent"))


def party_signs_order(record: InspectionRecord) -> bool:
    legal = record.legal
    return record.rectification is not None and not legal.get("party_absent") and not legal.get("order_refused")


def legal_problems(record: InspectionRecord) -> list[str]:
    """What the signing of a canonical-v2 record needs beyond the drawn signatures."""
    legal = record.legal
    problems = []
    if record.rectification is not None:
        problems += [f"不能出具责令改正通知书：{p}" for p in enforcement_problems(record)]
    if needs_witness(record):
        missing = [label for label, value in (("姓名", record.witness_name), ("身份证件号码或工作单位", legal.get("witness_id")),
                                              ("联系电话", legal.get("witness_phone"))) if not (value or "").strip()]
        if missing:
            problems.append(f"须填写见证人的{'、'.join(missing)}")
    if record.party_refused and not legal.get("refusal_reason"):
        problems.append("当事人拒绝签字时须记录拒绝的理由（当事人未说明的，记“未说明理由”）")
    if record.rectification is not None and legal.get("order_refused") and not legal.get("order_refusal_reason"):
        problems.append("当事人拒绝签收责令改正通知书时须记录拒绝的理由")
    if party_signs_record(record) and not legal.get("wet") and not legal.get("confirmation"):
        problems.append(f"须记录当事人对笔录的确认意见（如“{DEFAULT_CONFIRMATION}”）")
    return problems


def reporter_names(session: Session, inspection_id: str) -> set[str]:
    """Who reported the leads this inspection follows up (lead → event → task → inspection)."""
    events = select(TaskReason.event_id).join(InspectionTask, TaskReason.task_id == InspectionTask.id).where(
        InspectionTask.inspection_id == inspection_id, TaskReason.event_id.is_not(None))
    query = select(User.name).join(Lead, Lead.reporter_id == User.id).where(Lead.event_id.in_(events))
    return set(session.scalars(query))


def check_witness(session: Session, inspection: Inspection, witness_name: str) -> None:
    """The reporter of a lead cannot witness the inspection of it: refused."""
    name = witness_name.strip()
    if name and any(name == r or r in name for r in reporter_names(session, inspection.id)):
        raise InvalidInput(f"见证人“{name}”是本次检查所涉线索的报告人，不能担任见证人；请另请与本案无利害关系的人见证")
