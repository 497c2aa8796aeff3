"""Lists to Excel: the register (subjects), the inspection list, the year's 双随机 plan and its
draw (for 公示), the lead list — each one sheet laid out like the statistics report (core/xlsx.py):
title, station, what was chosen, borders, frozen panes, numbers as numbers, dates as dates.

``export_xlsx(ctx, what, path, filters)`` checks the filters (one clear message on bad input,
nothing written), reads the rows with the permissions of the list they come from and writes
the workbook; returns ``Exported(path, rows)``. No Qt here; the GUI runs it on a worker.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from sqlalchemy import func, select

from core.errors import InvalidInput
from core.stats.common import KIND_LABELS, outlines
from core.stats.period import Period
from core.stats.scope import FAILED
from core.subjects import CATEGORIES, STATUSES
from core.users import require
from core.xlsx import write_sheet
from db.models import (
    Inspection,
    InspectionOfficer,
    InspectionPlan,
    InspectionTask,
    ItemResult,
    Subject,
    TaskReason,
)

if TYPE_CHECKING:
    from core.context import AppContext

WHAT = {"subjects": "监管对象名册", "inspections": "检查记录清单", "plan": "双随机抽查计划", "leads": "网格线索清单"}
INSPECTION_STATUSES = {"draft": "草稿", "completed": "已完成", "signed": "已签名"}
TASK_STATUSES = {"open": "待检查", "done": "已完成", "cancelled": "已取消"}
PURPOSES = {"regular": "", "reinspection": "整改复查"}


@dataclass(frozen=True)
class ExportFilter:
    """What to export. ``period``: inspections by their date (开始检查的日期), leads by the time reported;
    the plan by the year of its last day (or ``year``). The register takes no period."""

    period: Period | None = None
    category: str | None = None
    grid: str | None = None
    status: str | None = None
    kind: str | None = None
    year: int | None = None

    def describe(self, what: str) -> str:
        parts = []
        if self.period is not None and what != "plan":
            parts.append(f"{'上报' if what == 'leads' else '检查'}日期 {self.period.start} 至 {self.period.end}")
        if self.category:
            parts.append(f"类别 {CATEGORIES.get(self.category, self.category)}")
        if self.grid:
            parts.append(f"网格 {self.grid}")
        if self.status:
            parts.append(f"状态 {_statuses(what).get(self.status, self.status)}")
        if self.kind:
            parts.append(f"检查类型 {KIND_LABELS.get(self.kind, self.kind)}")
        return "筛选：" + ("；".join(parts) if parts else "全部")


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int


def _statuses(what: str) -> dict[str, str]:
    from core.leads import STATUS_LABELS

    return {"subjects": STATUSES, "inspections": INSPECTION_STATUSES, "leads": STATUS_LABELS}.get(what, {})


def check_filter(what: str, f: ExportFilter) -> None:
    """Refuse what this list cannot be filtered by, with one message naming the allowed values."""
    if what not in WHAT:
        raise InvalidInput(f"未知的导出内容“{what}”（可用：{'、'.join(WHAT)}）")
    allowed = {"subjects": {"category", "grid", "status"}, "inspections": {"period", "category", "grid", "status", "kind"},
               "plan": {"period", "year"}, "leads": {"period", "status"}}[what]
    for name in ("period", "category", "grid", "status", "kind", "year"):
        if getattr(f, name) not in (None, "") and name not in allowed:
            label = {"period": "期间（--from/--to）", "category": "类别", "grid": "网格", "status": "状态",
                     "kind": "检查类型", "year": "年度"}[name]
            raise InvalidInput(f"{WHAT[what]}不能按{label}筛选")
    if f.category and f.category not in CATEGORIES:
        raise InvalidInput(f"未知的监管对象类别“{f.category}”（可用：{'、'.join(CATEGORIES)}）")
    if f.status and f.status not in _statuses(what):
        raise InvalidInput(f"未知的状态“{f.status}”（可用：{'、'.join(_statuses(what))}）")
    if f.kind and f.kind not in KIND_LABELS:
        raise InvalidInput(f"未知的检查类型“{f.kind}”（可用：{'、'.join(KIND_LABELS)}）")
    if f.year is not None and not 2000 <= f.year <= 2100:
        raise InvalidInput(f"年份 {f.year} 不合理")


def export_xlsx(ctx: AppContext, what: str, path: Path | str, filters: ExportFilter = ExportFilter(), *,
                progress: Callable[[int, int], None] | None = None) -> Exported:
    """Write the list ``what`` (subjects | inspections | plan | leads) to ``path`` (.xlsx)."""
    from openpyxl import Workbook

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InvalidInput(f"Excel 文件名应以 .xlsx 结尾：{path.name}")
    check_filter(what, filters)
    title, lines, headers, rows = {"subjects": _subjects, "inspections": _inspections, "plan": _plan,
                                   "leads": _leads}[what](ctx, filters)
    if progress is not None:
        progress(1, 2)
    station = ctx.setting("station_name")
    made = ctx.clock().strftime("%Y-%m-%d %H:%M")
    lines = [f"填报单位：{station}", *lines, f"共 {len(rows)} 条    导出时间：{made}"]
    book = Workbook()
    book.remove(book.active)
    write_sheet(book, title, lines, headers, rows, sheet_title=WHAT[what])
    book.properties.title = f"{station}{title}"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    if progress is not None:
        progress(2, 2)
    return Exported(path, len(rows))


# --- the lists ------------------------------------------------------------------------------

def _subjects(ctx: AppContext, f: ExportFilter):
    require(ctx, "subjects")
    query = select(Subject).order_by(Subject.category, Subject.name, Subject.id)
    if f.category:
        query = query.where(Subject.category == f.category)
    if f.grid:
        query = query.where(Subject.grid == f.grid)
    if f.status:
        query = query.where(Subject.status == f.status)
    with ctx.sessions() as s:
        rows = [[n, x.name, x.credit_code or "", CATEGORIES.get(x.category, x.category), x.licence_no, x.filing_no,
                 x.legal_rep, x.address, x.phone, x.grid, STATUSES.get(x.status, x.status), x.grade,
                 x.created_at.date()] for n, x in enumerate(s.scalars(query), 1)]
    headers = ("序号", "名称", "统一社会信用代码", "类别", "许可证号", "备案号", "法定代表人", "地址", "联系电话", "网格",
               "经营状态", "风险等级", "登记日期")
    return "监管对象名册", [f.describe("subjects")], headers, rows


def _inspections(ctx: AppContext, f: ExportFilter):
    require(ctx, "inspect")
    chosen = select(Inspection.id).join(Subject, Subject.id == Inspection.subject_id)
    if f.period is not None:
        chosen = chosen.where(Inspection.started_at >= f.period.begins, Inspection.started_at < f.period.ends)
    for column, value in ((Subject.category, f.category), (Subject.grid, f.grid), (Inspection.status, f.status),
                          (Inspection.kind, f.kind)):
        if value:
            chosen = chosen.where(column == value)
    ids = chosen.subquery()
    with ctx.sessions() as s:
        records = s.execute(
            select(Inspection.id, Inspection.number, Subject.name, Subject.credit_code, Subject.category, Subject.grid,
                   Inspection.template_sha, Inspection.template_code, Inspection.kind, Inspection.purpose,
                   Inspection.status, Inspection.started_at, Inspection.signed_at)
            .join(ids, ids.c.id == Inspection.id).join(Subject, Subject.id == Inspection.subject_id)
            .order_by(Inspection.started_at, Inspection.number)).all()
        officers: dict[str, list[str]] = {}
        for inspection_id, name in s.execute(
                select(InspectionOfficer.inspection_id, InspectionOfficer.name)
                .join(ids, ids.c.id == InspectionOfficer.inspection_id).order_by(InspectionOfficer.position)):
            officers.setdefault(inspection_id, []).append(name)
        failed = dict(s.execute(select(ItemResult.inspection_id, func.count()).join(ids, ids.c.id == ItemResult.inspection_id)
                                .where(FAILED).group_by(ItemResult.inspection_id)).all())
        titles = outlines(s, {r.template_sha for r in records})
    rows = []
    for n, r in enumerate(records, 1):
        outline = titles.get(r.template_sha) or {}
        template = next(iter(outline.values()), (r.template_code,))[0]
        if r.purpose == "reinspection" and not template.endswith("复查"):  # as the inspection list shows it
            template += "·复查"
        rows.append([n, r.number, r.name, r.credit_code or "", CATEGORIES.get(r.category, r.category), r.grid, template,
                     KIND_LABELS.get(r.kind, r.kind), INSPECTION_STATUSES.get(r.status, r.status), r.started_at,
                     r.signed_at, "、".join(officers.get(r.id, [])), failed.get(r.id, 0)])
    headers = ("序号", "文书编号", "监管对象", "统一社会信用代码", "类别", "网格", "检查表", "检查类型", "状态",
               "检查时间", "签名时间", "执法人员", "不符合项数")
    return "检查记录清单", [f.describe("inspections")], headers, rows


def _plan(ctx: AppContext, f: ExportFilter):
    require(ctx, "oversight")
    year = f.year or (f.period.end.year if f.period is not None else ctx.clock().year)
    with ctx.sessions() as s:
        plans = s.scalars(select(InspectionPlan).where(InspectionPlan.year == year)
                          .order_by(InspectionPlan.created_at)).all()
        if not plans:
            raise InvalidInput(f"{year}年尚未抽取双随机抽查计划")
        entries = [(p, e) for p in plans for e in json.loads(p.entries_json)]
        subjects = {x.id: x for x in s.scalars(select(Subject).where(
            Subject.id.in_({e["subject_id"] for _p, e in entries})))}
        tasks = dict(s.execute(select(InspectionTask.subject_id, InspectionTask.status)
                               .join(TaskReason, TaskReason.task_id == InspectionTask.id)
                               .where(TaskReason.plan_id.in_([p.id for p in plans]))).all())
    rows = []
    for n, (p, e) in enumerate(entries, 1):
        subject = subjects.get(e["subject_id"])
        rows.append([n, e["subject"], e.get("credit_code", ""), CATEGORIES.get(subject.category, subject.category)
                     if subject else "", subject.address if subject else "", e.get("grade"), e.get("reason", ""),
                     "、".join(o["name"] for o in e.get("officers", [])),
                     TASK_STATUSES.get(tasks.get(e["subject_id"], ""), "未建任务")])
    draws = "；".join(f"随机种子 {p.seed}，抽取于 {p.created_at:%Y-%m-%d}，输入摘要 SHA-256 {p.inputs_sha256}"
                     for p in plans)
    headers = ("序号", "监管对象名称", "统一社会信用代码", "类别", "地址", "风险等级", "抽取依据", "检查人员", "执行情况")
    return f"{year}年度双随机抽查计划及抽取结果", [draws], headers, rows


def _leads(ctx: AppContext, f: ExportFilter):
    from core.leads import CATEGORIES as LEAD_CATEGORIES
    from core.leads import STATUS_LABELS, list_leads

    today = ctx.clock().date()
    leads = list_leads(ctx, status=f.status or None, today=today)  # whom a lead's reporter is shown to: as there
    if f.period is not None:
        leads = [x for x in leads if f.period.begins <= x.reported_at < f.period.ends]
    leads.sort(key=lambda x: x.reported_at)
    handling = {"event": "转为检查任务", "case": "并入案件", "unfounded": "经核查不属实"}
    rows = [[n, x.reported_at, LEAD_CATEGORIES.get(x.category, x.category), x.subject, x.address, x.description,
             x.reporter, STATUS_LABELS.get(x.status, x.status), x.due, "是" if x.overdue else "", x.assigned_to,
             handling.get(x.handling, x.handling or ""), x.handling_note] for n, x in enumerate(leads, 1)]
    headers = ("序号", "上报时间", "类别", "当事人", "地址", "问题描述", "上报人", "状态", "处置期限", "逾期",
               "承办人", "处置结果", "处置说明")
    return "网格线索清单", [f.describe("leads")], headers, rows


def period_of(date_from: date | None, date_to: date | None) -> Period | None:
    """The range --from/--to give: both, one (open on the other side within 2000–2100), or none."""
    if date_from is None and date_to is None:
        return None
    return Period.range(date_from or date(2000, 1, 1), date_to or date(2100, 12, 31))


