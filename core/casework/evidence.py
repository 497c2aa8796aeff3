"""先行登记保存证据通知书 (范本 19) and its 解除; 送达地址确认书 (范本 10).

先行登记保存 (《中华人民共和国行政处罚法》第五十六条): where evidence may be lost, with the
负责人's approval, the officers register goods and keep them for at most seven days, by which a
decision is due. The notice lists each item (name, specification, batch, quantity, where it is
kept); it is issued (locked) at once with its own number. The 解除 notice names the notice it
lifts and the items released, with its own number; a notice is lifted once.

送达地址确认书: where and how the party wants documents served (address, post code, phone, the
person to receive them, whether electronic service is agreed), recorded whole and locked.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.casework.store import CaseRecord, lock, new_row, record_of, row_of
from core.errors import InvalidInput
from core.inspections import enforcement_problems, load_inspection
from core.text import bounded_text
from core.users import require
from db.models import CaseDocument

if TYPE_CHECKING:
    from core.context import AppContext

HOLD_DAYS = 7  # 行政处罚法第五十六条: a decision within seven days
ITEM_FIELDS = {"name": "物品名称", "spec": "规格", "batch": "批号（生产日期）", "quantity": "数量", "kept_at": "存放地点"}
MAX_ITEMS = 200


def _text(value, label: str, *, required: bool = False, limit: int = 500) -> str:
    return bounded_text(value, label, limit, required=required)


def _items(items: list[dict]) -> list[dict]:
    if not items:
        raise InvalidInput("先行登记保存须列明至少一项物品")
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"物品不能超过 {MAX_ITEMS} 项")
    out = []
    for n, item in enumerate(items, 1):
        unknown = set(item) - set(ITEM_FIELDS)
        if unknown:
            raise InvalidInput(f"第 {n} 项物品有未知项目：{'、'.join(sorted(unknown))}")
        clean = {k: _text(item.get(k, ""), f"第 {n} 项物品的{label}") for k, label in ITEM_FIELDS.items()}
        missing = [ITEM_FIELDS[k] for k in ("name", "quantity", "kept_at") if not clean[k]]
        if missing:
            raise InvalidInput(f"第 {n} 项物品缺少{'、'.join(missing)}")
        out.append(clean)
    return out


def _signed_inspection(ctx: AppContext, inspection_id: str):
    record = load_inspection(ctx, inspection_id)
    if record.status != "signed":
        raise InvalidInput(f"检查记录 {record.number} 尚未签名锁定，不能出具该文书")
    problems = enforcement_problems(record)
    if problems:
        raise InvalidInput(f"检查记录 {record.number} 不能出具执法文书：{'；'.join(problems)}")
    return record


def hold_evidence(ctx: AppContext, inspection_id: str, *, cause: str, items: list[dict], place: str,
                  keeping: str = "就地封存，由当事人保管", approved_by: str = "",
                  start: datetime | None = None) -> CaseRecord:
    """Issue a 先行登记保存证据通知书 for the goods of a signed inspection (locked at once)."""
    require(ctx, "inspect")
    record = _signed_inspection(ctx, inspection_id)
    start = start or ctx.clock()
    content = {"party": dict(record.party), "cause": _text(cause, "涉嫌违法行为", required=True),
               "items": _items(items), "place": _text(place, "保存地点", required=True),
               "keeping": _text(keeping, "保存方式", required=True),
               "approved_by": _text(approved_by, "批准的负责人", required=True, limit=64),
               "from": start.isoformat(timespec="minutes"),
               "until": (start + timedelta(days=HOLD_DAYS)).date().isoformat(), "record_number": record.number,
               "officers": [[o.name, o.cert_no] for o in record.officers]}
    with ctx.transaction() as s:
        row = new_row(ctx, s, "evidence_hold", content, inspection_id=record.id, subject_id=record.subject_id)
        lock(ctx, row)
        s.flush()
        return record_of(row)


def release_evidence(ctx: AppContext, hold_id: str, *, reason: str,
                     released_at: datetime | None = None) -> CaseRecord:
    """Issue the 解除先行登记保存证据通知书 for an issued notice (once; locked at once)."""
    require(ctx, "inspect")
    reason = _text(reason, "解除理由", required=True)
    with ctx.transaction() as s:
        hold = row_of(s, hold_id, "evidence_hold")
        if hold.status != "signed":
            raise InvalidInput(f"先行登记保存证据通知书 {hold.number} 尚未出具，不能解除")
        done = s.scalar(select(CaseDocument.number).where(CaseDocument.parent_id == hold.id,
                                                         CaseDocument.kind == "evidence_release"))
        if done:
            raise InvalidInput(f"先行登记保存证据通知书 {hold.number} 已由 {done} 解除")
        held = record_of(hold).content
        when = released_at or ctx.clock()
        if when < datetime.fromisoformat(held["from"]):
            raise InvalidInput("解除时间不能早于先行登记保存的时间")
        content = {"party": held["party"], "hold_number": hold.number, "held_from": held["from"],
                   "items": held["items"], "reason": reason, "released_at": when.isoformat(timespec="minutes"),
                   "officers": held["officers"]}
        row = new_row(ctx, s, "evidence_release", content, inspection_id=hold.inspection_id,
                      subject_id=hold.subject_id, parent_id=hold.id)
        lock(ctx, row)
        s.flush()
        return record_of(row)


def hold_state(ctx: AppContext, hold_id: str) -> str:
    """What became of a notice: 已解除 (by which number), 保存中, or 逾期未处理."""
    with ctx.sessions() as s:
        hold = row_of(s, hold_id, "evidence_hold")
        release = s.scalar(select(CaseDocument.number).where(CaseDocument.parent_id == hold.id,
                                                            CaseDocument.kind == "evidence_release"))
        until = record_of(hold).content["until"]
    if release:
        return f"已解除（{release}）"
    if ctx.clock().date().isoformat() > until:
        return f"已逾期（应于 {until} 前作出处理决定）"
    return f"保存中（应于 {until} 前作出处理决定）"


def confirm_address(ctx: AppContext, inspection_id: str, *, recipient: str, address: str, phone: str,
                    postcode: str = "", addressee: str = "", electronic: str = "", matter: str = "",
                    consent: bool | None = None) -> CaseRecord:
    """Record the party's 送达地址确认书 (locked at once; the signatures are on the paper).

    ``consent``: the party's answer to electronic service when asked (the GUI's tick box); agreed
    needs the way (``electronic``), refused keeps none. ``None``: agreed exactly when a way is given.
    """
    require(ctx, "inspect")
    if consent is True and not str(electronic or "").strip():
        raise InvalidInput("同意电子送达的，须写明电子送达方式（如手机号码、电子邮箱）")
    if consent is False:
        electronic = ""
    record = _signed_inspection(ctx, inspection_id)
    content = {"party": dict(record.party), "recipient": _text(recipient, "受送达人", required=True),
               "address": _text(address, "送达地址", required=True), "phone": _text(phone, "联系电话", required=True),
               "postcode": _text(postcode, "邮政编码", limit=6), "addressee": _text(addressee, "收件人", limit=64),
               "electronic": _text(electronic, "电子送达方式"),
               "matter": _text(matter, "事项") or f"现场检查笔录 {record.number} 及其后续文书",
               "officers": [[o.name, o.cert_no] for o in record.officers]}
    if content["postcode"] and not (content["postcode"].isdigit() and len(content["postcode"]) == 6):
        raise InvalidInput("邮政编码应为 6 位数字")
    with ctx.transaction() as s:
        row = new_row(ctx, s, "address_confirm", content, inspection_id=record.id, subject_id=record.subject_id)
        lock(ctx, row)
        s.flush()
        return record_of(row)
