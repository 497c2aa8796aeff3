"""Trigger-based oversight (无事不扰、触线必查): trigger events and the task queue (grades: ``core.grades``).

A trigger event is matched to a rule (``resources/rules/triggers.v*.json``); the rule
gives the task's priority, deadline and checklist, and maybe a grade change. A trigger
for a subject that already has an open task adds its reason to that task. Signing the
inspection of a task closes it; a rectification creates its re-inspection task.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.checklists import ChecklistTemplate, parse_template, template_from_snapshot
from core import published
from core.events import InspectionSigned
from core.errors import InvalidInput, NotFound, WorkflowError
from core.grades import apply_grade_rule, effective_grade
from core.inspections import OfficerData, create_inspection
from core.rules import PRIORITY_LABELS, PRIORITY_ORDER, GradeTable, Rule, TriggerRules
from core.tables import cell, columns, parse_date, read_table
from core.workdays import add_calendar_days, add_working_days
from core.subjects import subject_in
from core.station_filter import station_clause
from core.users import require
from db.models import (
    InspectionTask,
    Rectification,
    Subject,
    TaskReason,
    TriggerEvent,
)

if TYPE_CHECKING:
    from core.context import AppContext

OPEN_STATUSES = ("open", "in_progress")
TASK_STATUS_LABELS = {"open": "待检查", "in_progress": "检查中", "done": "已完成", "cancelled": "已取消"}


# --- tasks ----------------------------------------------------------------------

@dataclass(frozen=True)
class TaskRow:
    id: str
    subject_id: str
    subject_name: str
    credit_code: str
    grid: str
    priority: str
    due: date
    status: str
    reasons: list[str]
    officers: list[OfficerData]
    template_code: str
    inspection_id: str | None
    rectification_id: str | None
    cancel_reason: str
    overdue: bool

    @property
    def priority_label(self) -> str:
        return PRIORITY_LABELS[self.priority]

    @property
    def status_label(self) -> str:
        return TASK_STATUS_LABELS[self.status]

    def as_dict(self) -> dict:
        return {
            "id": self.id, "subject": self.subject_name, "credit_code": self.credit_code,
            "priority": self.priority, "due": self.due.isoformat(), "reasons": self.reasons,
            "status": self.status,
        }


def _task_row(task: InspectionTask, today: date) -> TaskRow:
    return TaskRow(
        id=task.id, subject_id=task.subject_id, subject_name=task.subject.name,
        credit_code=task.subject.credit_code or "", grid=task.subject.grid, priority=task.priority,
        due=task.due, status=task.status, reasons=[r.text for r in task.reasons],
        officers=[OfficerData(n, c) for n, c in json.loads(task.officers_json)],
        template_code=task.template_code, inspection_id=task.inspection_id,
        rectification_id=task.rectification_id, cancel_reason=task.cancel_reason,
        overdue=task.status in OPEN_STATUSES and task.due < today,
    )


def list_tasks(ctx: AppContext, *, status: str | None = None, subject_id: str | None = None,
               today: date | None = None, station: str | None = None) -> list[TaskRow]:
    """Tasks, most urgent first: overdue and high priority at the top (``station``: a county's
    database, the tasks made by that station's devices)."""
    if status is not None and status not in TASK_STATUS_LABELS:
        raise InvalidInput(f"未知的任务状态“{status}”（可用：{'、'.join(TASK_STATUS_LABELS)}）")
    today = today or ctx.clock().date()
    query = select(InspectionTask).options(selectinload(InspectionTask.subject), selectinload(InspectionTask.reasons))
    if status:
        query = query.where(InspectionTask.status == status)
    if subject_id:
        query = query.where(InspectionTask.subject_id == subject_id)
    if station:
        query = query.where(station_clause(ctx, InspectionTask.device_id, station))
    with ctx.sessions() as s:
        rows = [_task_row(t, today) for t in s.scalars(query)]
    rows.sort(key=lambda r: (r.status not in OPEN_STATUSES, PRIORITY_ORDER[r.priority], r.due, r.subject_name))
    return rows


def _open_task(session: Session, subject_id: str) -> InspectionTask | None:
    return session.scalar(select(InspectionTask).where(
        InspectionTask.subject_id == subject_id, InspectionTask.status.in_(OPEN_STATUSES),
        InspectionTask.rectification_id.is_(None),
    ).order_by(InspectionTask.due))


def add_to_task(session: Session, ctx: AppContext, subject: Subject, *, priority: str, due: date,
                 template_code: str, reason: str, event: TriggerEvent | None = None,
                 plan_id: str | None = None, officers: list[OfficerData] | None = None,
                 rectification_id: str | None = None) -> bool:
    """Join the subject's open task (the earlier due date and higher priority win), or open one.

    Returns True when a task was created. Re-inspection tasks stay separate: they belong
    to one rectification.
    """
    task = None if rectification_id else _open_task(session, subject.id)
    created = task is None
    if created:
        task = InspectionTask(
            device_id=ctx.device_id, subject_id=subject.id, priority=priority, due=due, status="open",
            template_code=template_code, rectification_id=rectification_id,
            officers_json=json.dumps([[o.name, o.cert_no] for o in officers or []], ensure_ascii=False),
        )
        session.add(task)
    else:
        if PRIORITY_ORDER[priority] < PRIORITY_ORDER[task.priority]:
            task.priority = priority
        task.due = min(task.due, due)
        if officers and task.officers_json == "[]":
            task.officers_json = json.dumps([[o.name, o.cert_no] for o in officers], ensure_ascii=False)
    task.reasons.append(TaskReason(
        device_id=ctx.device_id, text=reason, event_id=event.id if event else None, plan_id=plan_id,
    ))
    session.flush()
    return created


def _deadline(rule: Rule, occurred_on: date) -> tuple[date, str]:
    spec = rule.deadline
    if "on" in spec:
        return occurred_on, ""
    if spec["unit"] == "working":
        deadline = add_working_days(occurred_on, spec["days"])
        note = "" if deadline.exact else "（节假日数据未覆盖该年份，按周一至周五计算）"
        return deadline.due, note
    return add_calendar_days(occurred_on, spec["days"]).due, ""


@dataclass(frozen=True)
class EventOutcome:
    event_id: str
    task_created: bool


def _event_reason(label: str, event: TriggerEvent) -> str:
    ref = f"，来源编号 {event.source_ref}" if event.source_ref else ""
    details = f"：{event.details}" if event.details else ""
    return f"{label}（{event.occurred_on.isoformat()}{ref}）{details}"


def apply_event(session: Session, ctx: AppContext, subject: Subject, event_type: str, occurred_on: date,
                 rules: TriggerRules, grades: GradeTable, *, source_ref: str | None, details: str,
                 source: str, rectification_id: str | None = None,
                 officers: list[OfficerData] | None = None) -> EventOutcome:
    """Record the event, apply its rule; the task gets ``officers`` when it has none yet."""
    event = TriggerEvent(
        device_id=ctx.device_id, subject_id=subject.id, event_type=event_type, occurred_on=occurred_on,
        source_ref=source_ref or None, details=details, source=source,
    )
    session.add(event)
    session.flush()
    rule = rules.rule_for(event_type, subject.category, effective_grade(subject, grades))
    label = rules.event_types[event_type].label
    apply_grade_rule(session, ctx, subject, rule, event, label, grades)
    due, note = _deadline(rule, occurred_on)
    created = add_to_task(
        session, ctx, subject, priority=rule.priority, due=due,
        template_code=rules.checklist_for(subject.category, rule),
        reason=_event_reason(label, event) + note, event=event, rectification_id=rectification_id,
        officers=officers,
    )
    return EventOutcome(event.id, created)


def record_event(ctx: AppContext, subject_id: str, event_type: str, occurred_on: date, *,
                 source_ref: str | None = None, details: str = "", source: str = "manual",
                 rules: tuple[TriggerRules, GradeTable] | None = None) -> EventOutcome:
    """A trigger event entered by hand: it creates or joins the subject's task."""
    require(ctx, "oversight")
    trigger_rules, grades = rules or published.rules(ctx)
    known = trigger_rules.event_type(event_type)
    if known is None:
        raise InvalidInput(f"未知的事件类型“{event_type}”")
    with ctx.transaction() as s:
        subject = subject_in(s, subject_id)
        if source_ref and s.scalar(select(TriggerEvent.id).where(TriggerEvent.source_ref == source_ref)):
            raise InvalidInput(f"来源编号 {source_ref} 的事件已登记")
        return apply_event(s, ctx, subject, known.code, occurred_on, trigger_rules, grades,
                            source_ref=source_ref, details=details.strip(), source=source)


EVENT_COLUMNS = {"统一社会信用代码": "credit_code", "名称": "name", "事件类型": "event_type",
                 "发生日期": "occurred_on", "来源编号": "source_ref", "详情": "details"}


@dataclass
class EventImportSummary:
    imported: int = 0
    skipped: int = 0
    rejected: list[dict] = field(default_factory=list)
    tasks_created: int = 0
    tasks_updated: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def import_events(ctx: AppContext, path: Path, *, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None,
                  rules: tuple[TriggerRules, GradeTable] | None = None) -> EventImportSummary:
    """Import the event lists stations receive (complaints, sampling results...).

    Unknown subjects and types are reported by row; a row whose 来源编号 was already
    imported is skipped. All good rows go in one transaction.
    """
    require(ctx, "oversight")
    trigger_rules, grades = rules or published.rules(ctx)
    rows = read_table(Path(path))
    cols = columns(rows[0], EVENT_COLUMNS)
    for needed in ("event_type", "occurred_on"):
        if needed not in cols:
            label = next(k for k, v in EVENT_COLUMNS.items() if v == needed)
            raise InvalidInput(f"文件 {Path(path).name} 缺少“{label}”列（表头应含：{'、'.join(EVENT_COLUMNS)}）")
    if "credit_code" not in cols and "name" not in cols:
        raise InvalidInput(f"文件 {Path(path).name} 缺少“统一社会信用代码”或“名称”列")
    summary = EventImportSummary()
    body = rows[1:]
    with ctx.transaction() as s:
        by_code = {c: sid for sid, c in s.execute(select(Subject.id, Subject.credit_code)) if c}
        by_name: dict[str, list[str]] = {}
        for sid, name in s.execute(select(Subject.id, Subject.name)):
            by_name.setdefault(name, []).append(sid)
        seen_refs = set(s.scalars(select(TriggerEvent.source_ref).where(TriggerEvent.source_ref.is_not(None))))
        for index, row in enumerate(body):
            if cancelled and cancelled():
                raise InvalidInput("导入已取消，未做任何更改")
            if progress and index % 50 == 0:
                progress(index, len(body))
            row_no = index + 2
            values = {key: cell(row, i) for key, i in cols.items()}
            if not any(values.values()):
                continue

            def reject(reason: str) -> None:
                summary.rejected.append({"row": row_no, "reason": reason})

            code, name = values.get("credit_code", "").upper(), values.get("name", "")
            subject_id = by_code.get(code) if code else None
            if subject_id is None:
                matches = by_name.get(name, []) if name else []
                if len(matches) == 1 and not code:
                    subject_id = matches[0]
                elif code:
                    reject(f"找不到统一社会信用代码为 {code} 的监管对象")
                    continue
                elif len(matches) > 1:
                    reject(f"名称“{name}”对应多个监管对象，请填写统一社会信用代码")
                    continue
                else:
                    reject(f"找不到名称为“{name}”的监管对象" if name else "缺少统一社会信用代码和名称")
                    continue
            event_type = trigger_rules.event_type(values.get("event_type", ""))
            if event_type is None:
                labels = "、".join(e.label for e in trigger_rules.event_types.values())
                reject(f"未知的事件类型“{values.get('event_type', '')}”（可用：{labels}）")
                continue
            occurred_on = parse_date(values.get("occurred_on", ""))
            if occurred_on is None:
                reject(f"发生日期“{values.get('occurred_on', '')}”无法识别（例：2026-03-01）")
                continue
            ref = values.get("source_ref", "")
            if ref and ref in seen_refs:
                summary.skipped += 1
                continue
            if ref:
                seen_refs.add(ref)
            outcome = apply_event(
                s, ctx, s.get(Subject, subject_id), event_type.code, occurred_on, trigger_rules, grades,
                source_ref=ref or None, details=values.get("details", ""), source="import",
            )
            summary.imported += 1
            if outcome.task_created:
                summary.tasks_created += 1
            else:
                summary.tasks_updated += 1
        if progress:
            progress(len(body), len(body))
    return summary


def assign_task(ctx: AppContext, task_id: str, officers: list[OfficerData]) -> None:
    require(ctx, "oversight")
    with ctx.transaction() as s:
        task = _get_task(s, task_id)
        if task.status not in OPEN_STATUSES:
            raise WorkflowError("该任务已结束，不能再分派")
        task.officers_json = json.dumps([[o.name.strip(), o.cert_no.strip()] for o in officers if o.name.strip()],
                                        ensure_ascii=False)


def cancel_task(ctx: AppContext, task_id: str, reason: str) -> None:
    require(ctx, "oversight")
    if not reason.strip():
        raise InvalidInput("取消任务必须填写理由")
    with ctx.transaction() as s:
        task = _get_task(s, task_id)
        if task.status not in OPEN_STATUSES:
            raise WorkflowError("该任务已结束")
        if task.inspection_id:
            raise WorkflowError("该任务的检查已经开始，不能取消")
        task.status, task.cancel_reason, task.closed_at = "cancelled", reason.strip(), ctx.clock()


def _get_task(session: Session, task_id: str) -> InspectionTask:
    task = session.get(InspectionTask, task_id)
    if task is None:
        raise NotFound("找不到该检查任务")
    return task


def reinspection_template(original: ChecklistTemplate, failed_codes: set[str]) -> ChecklistTemplate:
    """The original checklist cut down to the items that failed (整改复查 shows only those)."""
    data = json.loads(original.to_json())
    sections = []
    for section in data["sections"]:
        items = [i for i in section["items"] if i["code"] in failed_codes]
        if items:
            sections.append({**section, "items": items})
    data["sections"] = sections
    data["title"] = f"{original.title}（整改复查）"
    data["short_title"] = f"{original.short_title}·复查"
    return parse_template(data, source="reinspection")


def start_task(ctx: AppContext, task_id: str, officers: list[OfficerData] | None = None, *,
               kind: str = "enforcement", place: str = "", notified_by: str = "",
               templates: dict[str, ChecklistTemplate] | None = None) -> str:
    """Open the task's inspection with the right checklist and officers; returns its id."""
    require(ctx, "inspect")
    with ctx.transaction() as s:
        task = _get_task(s, task_id)
        if task.inspection_id:
            return task.inspection_id
        if task.status not in OPEN_STATUSES:
            raise WorkflowError("该任务已结束")
        officers = officers or [OfficerData(n, c) for n, c in json.loads(task.officers_json)]
        if task.rectification_id:
            rect = s.get(Rectification, task.rectification_id)
            original = rect.inspection
            template = template_from_snapshot(original.template_json)
            failed = {r.item_code for r in original.results
                      if r.result == "fail" and not template.item(r.item_code).advisory}
            inspection = create_inspection(s, ctx, task.subject, reinspection_template(template, failed),
                                           officers, kind=kind, purpose="reinspection", place=place,
                                           notified_by=notified_by)
        else:
            templates = templates if templates is not None else published.templates(ctx, s)
            template = templates.get(task.template_code)
            if template is None:
                raise InvalidInput(f"没有检查表模板“{task.template_code}”")
            inspection = create_inspection(s, ctx, task.subject, template, officers,
                                           kind=kind, place=place, notified_by=notified_by)
        task.inspection_id = inspection.id
        task.status = "in_progress"
        # the queue shows who is doing it, not only who was drawn
        task.officers_json = json.dumps([[o.name, o.cert_no] for o in inspection.officers], ensure_ascii=False)
        return inspection.id


def get_task(ctx: AppContext, task_id: str) -> TaskRow:
    """One task, as the queue shows it."""
    with ctx.sessions() as s:
        task = s.get(InspectionTask, (task_id or "").strip())
        if task is None:
            raise NotFound(f"找不到检查任务“{task_id}”")
        return _task_row(task, ctx.clock().date())


def task_of_inspection(ctx: AppContext, inspection_id: str) -> TaskRow | None:
    with ctx.sessions() as s:
        task = s.scalar(select(InspectionTask).where(InspectionTask.inspection_id == inspection_id))
        return _task_row(task, ctx.clock().date()) if task else None


def after_signing(signed: InspectionSigned) -> None:
    """On ``InspectionSigned``, in the signing transaction: close the task, follow up the rectification."""
    session, ctx, inspection = signed.session, signed.ctx, signed.inspection
    trigger_rules, grades = published.rules(ctx, session)
    task = session.scalar(select(InspectionTask).where(InspectionTask.inspection_id == inspection.id))
    if task is not None:
        task.status, task.closed_at = "done", ctx.clock()
        if task.rectification_id:
            rect = session.get(Rectification, task.rectification_id)
            failed = any(r.result == "fail" for r in inspection.results)
            rect.reinspection_id = inspection.id
            rect.closed_at = ctx.clock()
            rect.status = "case_recommended" if failed else "closed"
            if failed:
                apply_event(session, ctx, inspection.subject, "rectification_failed", ctx.clock().date(),
                             trigger_rules, grades, source_ref=None, source="system",
                             details=f"复查 {inspection.number} 仍有不符合项，建议立案")
    rect = inspection.rectification
    if rect is not None and inspection.purpose == "regular":
        apply_event(session, ctx, inspection.subject, "rectification_due", rect.deadline, trigger_rules, grades,
                     source_ref=None, source="system", rectification_id=rect.id,
                     details=f"{rect.number} 责令于 {rect.deadline.isoformat()} 前改正")


@dataclass(frozen=True)
class DueStatus:
    """What a subject page says: due and why, or 无触发，不检查."""

    due: bool
    text: str
    tasks: list[TaskRow]


def subject_due(ctx: AppContext, subject_id: str) -> DueStatus:
    open_tasks = [t for t in list_tasks(ctx, subject_id=subject_id) if t.status in OPEN_STATUSES]
    if not open_tasks:
        return DueStatus(False, "无触发，不检查", [])
    first = open_tasks[0]
    overdue = "（已逾期）" if first.overdue else ""
    return DueStatus(True, f"应于 {first.due.isoformat()} 前检查{overdue}：" + "；".join(first.reasons), open_tasks)


def rectification_status_label(status: str) -> str:
    return {"open": "整改中", "closed": "已整改", "case_recommended": "立案建议"}.get(status, status)
