"""整改复查意见书: what a re-inspection (``core.tasks.start_task`` on a 责令改正's follow-up task)
found for each item the original order named, the conclusion (整改到位 / 未整改到位) and what
follows (the order closed, or 立案建议 as ``core.tasks.after_signing`` marks it)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from core.errors import NotFound
from core.inspections import InspectionRecord, fact_text, load_inspection
from db.models import InspectionTask, Rectification

if TYPE_CHECKING:
    from core.context import AppContext


def original_order(ctx: AppContext, record: InspectionRecord) -> dict:
    """The order this re-inspection follows up, its ordered items and what the re-inspection found."""
    if record.purpose != "reinspection":
        raise NotFound(f"检查记录 {record.number} 不是整改复查，没有整改复查意见书")
    with ctx.sessions() as s:
        task = s.scalar(select(InspectionTask).where(InspectionTask.inspection_id == record.id))
        rect = s.get(Rectification, task.rectification_id) if task is not None and task.rectification_id else None
        if rect is None:
            rect = s.scalar(select(Rectification).where(Rectification.reinspection_id == record.id))
        if rect is None:
            raise NotFound(f"找不到复查 {record.number} 所依据的责令改正通知书")
        original_id, status = rect.inspection_id, rect.status
    original = load_inspection(ctx, original_id)
    items = []
    for failed in original.order_items():
        answer = record.answer(failed.item.code)
        outcome = {"pass": "已改正", "fail": "未改正", "na": "不适用"}.get(answer.result or "", "未复查")
        items.append({"code": failed.item.code, "fact": fact_text(original, failed),
                      "outcome": outcome, "note": answer.note})
    done = bool(items) and all(i["outcome"] in ("已改正", "不适用") for i in items)
    return {"number": original.rectification.number, "deadline": original.rectification.deadline.isoformat(),
            "record_number": original.number, "items": items, "status": status,
            "conclusion": "整改到位" if done else "未整改到位"}
