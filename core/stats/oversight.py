"""The oversight figures: 覆盖率, the year's 双随机 plan, 触发式监管, 网格线索, risk grades.

One function per figure (rules: docs/statistics.md). The trigger rules and the grade table are the ones in
force in the database (shipped, or a newer version published: core.published), passed in by ``core.stats``.
"""
from __future__ import annotations

import json
import statistics

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.rules import GradeTable, TriggerRules
from core.stats import summary
from core.stats.common import register_condition, share, station_condition
from core.stats.period import Period
from core.stats.scope import period_table
from core.workdays import working_days_between
from db.models import (
    GradeChange,
    Inspection,
    InspectionPlan,
    InspectionTask,
    Lead,
    Subject,
    TaskReason,
    TriggerEvent,
    User,
)


def coverage(session: Session, period: Period) -> dict:
    """覆盖率: register subjects with a signed inspection in the period / register subjects, by category."""
    register = dict(session.execute(
        select(Subject.category, func.count()).where(register_condition(period)).group_by(Subject.category)).all())
    inspected = summary.coverage_rows(session, period)  # over whole months, from the subject sets (SQLite)
    if inspected is None:
        table = period_table(session, period)  # the period's counted inspections, read once per report
        inspected = dict(session.execute(
            select(table.c.by_category, func.count(func.distinct(table.c.subject_key)))
            .where(table.c.in_register == 1).group_by(table.c.by_category)).all())
    by_category = {c: {"register": n, "inspected": inspected.get(c, 0), "rate": share(inspected.get(c, 0), n)}
                   for c, n in sorted(register.items(), key=lambda kv: -kv[1])}
    total, done = sum(register.values()), sum(inspected.values())
    return {"register": total, "inspected": done, "rate": share(done, total), "by_category": by_category}


def plan_sets(session: Session, period: Period) -> tuple[int, list[int], dict[str, set[str]]]:
    """The year, its plans' seeds, and the subjects behind each plan figure (the count and its drill-down)."""
    year = period.end.year
    plans = session.scalars(select(InspectionPlan).where(InspectionPlan.year == year,
                                                         station_condition(InspectionPlan.device_id, period))).all()
    drawn = {e["subject_id"] for p in plans for e in json.loads(p.entries_json)}
    tasks = session.execute(
        select(InspectionTask.subject_id, InspectionTask.status, InspectionTask.closed_at, InspectionTask.due)
        .join(TaskReason, TaskReason.task_id == InspectionTask.id)
        .where(TaskReason.plan_id.in_([p.id for p in plans]))
    ).all() if plans else []
    done, cancelled, overdue = set(), set(), set()
    for subject_id, status, closed_at, due in tasks:
        closed_by_end = closed_at is not None and closed_at < period.ends
        if status == "done" and closed_by_end:
            done.add(subject_id)
        elif status == "cancelled" and closed_by_end:
            cancelled.add(subject_id)
        elif due < period.end:
            overdue.add(subject_id)
    outstanding = drawn - done - cancelled
    sets = {"drawn": drawn, "done": done & drawn, "cancelled": cancelled & drawn - done, "outstanding": outstanding,
            "overdue": overdue & outstanding}
    return year, sorted({p.seed for p in plans}), sets


def plan(session: Session, period: Period) -> dict:
    """The 双随机 plan of the period's last year, as of the period's last day."""
    year, seeds, sets = plan_sets(session, period)
    return {"year": year, "seeds": seeds, **{name: len(ids) for name, ids in sets.items()}}


def event_condition(period: Period):
    return and_(TriggerEvent.occurred_on >= period.start, TriggerEvent.occurred_on <= period.end,
                station_condition(TriggerEvent.device_id, period))


def triggers(session: Session, period: Period, rules: TriggerRules) -> dict:
    """触发式监管: events in the period by type (labelled by ``rules``); tasks created / merged; event →
    signed inspection."""
    labels = {code: t.label for code, t in rules.event_types.items()}
    rows = session.execute(
        select(TriggerEvent.id, TriggerEvent.event_type, TriggerEvent.occurred_on, TaskReason.task_id,
               TaskReason.created_at, InspectionTask.due, Inspection.signed_at)
        .select_from(TriggerEvent)
        .outerjoin(TaskReason, TaskReason.event_id == TriggerEvent.id)
        .outerjoin(InspectionTask, InspectionTask.id == TaskReason.task_id)
        .outerjoin(Inspection, and_(Inspection.id == InspectionTask.inspection_id, Inspection.status == "signed",
                                    Inspection.signed_at < period.ends))
        .where(event_condition(period))
    ).all()
    task_ids = {r.task_id for r in rows if r.task_id}
    first = dict(session.execute(
        select(TaskReason.task_id, func.min(TaskReason.created_at)).where(TaskReason.task_id.in_(task_ids))
        .group_by(TaskReason.task_id)).all()) if task_ids else {}
    by_type: dict[str, int] = {}
    created = merged = within = 0
    days = []
    for r in rows:
        by_type[r.event_type] = by_type.get(r.event_type, 0) + 1
        if r.task_id:
            if r.created_at <= first[r.task_id]:
                created += 1
            else:
                merged += 1
        if r.signed_at is not None:
            days.append((r.signed_at.date() - r.occurred_on).days)
            within += r.signed_at.date() <= r.due
    return {"events": len(rows), "by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
            "type_labels": {k: labels.get(k, k) for k in by_type},
            "tasks_created": created, "tasks_merged": merged, "inspected": len(days),
            "median_days_to_inspection": statistics.median(days) if days else None,
            "within_deadline": within, "within_deadline_share": share(within, len(days))}


def lead_condition(period: Period):
    return and_(Lead.reported_at >= period.begins, Lead.reported_at < period.ends,
                station_condition(Lead.device_id, period))


def lead_handling_days(received_at, handled_at) -> int:
    return working_days_between(received_at.date(), handled_at.date())


def leads(session: Session, period: Period, *, show_reporters: bool = True) -> dict:
    """网格线索 reported in the period: per grid and worker, handling time, the 15-day share, outcomes."""
    rows = session.execute(
        select(Lead.id, User.grid, User.name, Lead.received_at, Lead.handled_at, Lead.due, Lead.handling)
        .join(User, User.id == Lead.reporter_id).where(lead_condition(period))
    ).all()
    by_grid: dict[str, int] = {}
    by_worker: dict[str, int] = {}
    outcomes = {key: 0 for key in ("event", "case", "unfounded", "pending")}
    days, on_time, late = [], 0, 0
    for r in rows:
        by_grid[r.grid or ""] = by_grid.get(r.grid or "", 0) + 1
        by_worker[r.name] = by_worker.get(r.name, 0) + 1
        handled = r.handled_at is not None and r.handled_at < period.ends
        outcomes[r.handling if handled and r.handling else "pending"] += 1
        if handled and r.received_at is not None:
            days.append(lead_handling_days(r.received_at, r.handled_at))
            if r.handled_at.date() <= r.due:
                on_time += 1
            else:
                late += 1
        elif r.due is not None and r.due < period.end:
            late += 1  # still unhandled at period end, its 15 working days over
    result = {"reported": len(rows), "by_grid": dict(sorted(by_grid.items(), key=lambda kv: -kv[1])),
              "handled": len(days), "handling_days": {str(d): days.count(d) for d in sorted(set(days))},
              "median_working_days": statistics.median(days) if days else None,
              "within_15_working_days": on_time, "late": late, "within_share": share(on_time, on_time + late),
              "outcomes": outcomes}
    if show_reporters:  # who reported is for the station admin only (core.leads)
        result["by_worker"] = dict(sorted(by_worker.items(), key=lambda kv: -kv[1]))
    return result


def grades_at_end(session: Session, period: Period, table: GradeTable) -> dict[str, int]:
    """Register subjects graded by ``table`` → their grade on the period's last day (the count and its drill-down)."""
    current = dict(session.execute(
        select(Subject.id, Subject.grade).where(Subject.category.in_(table.graded_categories),
                                                register_condition(period))).all())
    later = session.execute(
        select(GradeChange.subject_id, GradeChange.from_grade, GradeChange.changed_at)
        .where(GradeChange.changed_at >= period.ends, GradeChange.subject_id.in_(select(Subject.id).where(
            Subject.category.in_(table.graded_categories), register_condition(period))))
        .order_by(GradeChange.changed_at, GradeChange.created_at)).all()
    seen: set[str] = set()
    for subject_id, from_grade, _at in later:  # the first change after the period tells the grade it had
        if subject_id not in seen:
            current[subject_id] = from_grade
            seen.add(subject_id)
    return {subject_id: grade or table.default_grade for subject_id, grade in current.items()}


def grade_change_condition(period: Period):
    return and_(GradeChange.changed_at >= period.begins, GradeChange.changed_at < period.ends,
                station_condition(GradeChange.device_id, period))


def grade_direction(from_grade, to_grade, table: GradeTable) -> str:
    """``raised``, ``lowered`` or ``same`` (no grade before: the table's default)."""
    before = from_grade or table.default_grade
    return "raised" if to_grade > before else "lowered" if to_grade < before else "same"


def grades(session: Session, period: Period, table: GradeTable) -> dict:
    """Subjects graded by ``table`` per risk grade on the period's last day, and grade changes in the period."""
    current = grades_at_end(session, period, table)
    per_grade = {str(g): 0 for g in sorted(table.grades)}
    for grade in current.values():
        per_grade[str(grade)] = per_grade.get(str(grade), 0) + 1
    changes = session.execute(
        select(GradeChange.from_grade, GradeChange.to_grade, func.count())
        .where(grade_change_condition(period)).group_by(GradeChange.from_grade, GradeChange.to_grade)).all()
    up = sum(n for f, t, n in changes if grade_direction(f, t, table) == "raised")
    down = sum(n for f, t, n in changes if grade_direction(f, t, table) == "lowered")
    return {"subjects_by_grade": per_grade, "graded_subjects": len(current), "changes": sum(n for *_, n in changes),
            "raised": up, "lowered": down,
            "by_change": {f"{f or '-'}->{t}": n for f, t, n in changes}}
