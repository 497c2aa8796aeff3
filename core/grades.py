"""Risk grades (风险分级) of the graded categories: set by a person or by a trigger rule, with history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import published
from core.errors import InvalidInput
from core.rules import GRADE_LABELS, GradeTable, Rule
from core.subjects import subject_in
from core.users import require
from db.models import GradeChange, Subject, TriggerEvent

if TYPE_CHECKING:
    from core.context import AppContext

SYSTEM_ACTOR = "系统（规则）"


@dataclass(frozen=True)
class GradeChangeRow:
    from_grade: int | None
    to_grade: int
    reason: str
    changed_by: str
    changed_at: datetime

    @property
    def text(self) -> str:
        before = GRADE_LABELS.get(self.from_grade, "未分级") if self.from_grade else "未分级"
        return f"{before} → {GRADE_LABELS[self.to_grade]}"


def is_graded(category: str, grades: GradeTable) -> bool:
    """Whether subjects of ``category`` are graded by ``grades`` (the table in force: ``grade_table(ctx)``)."""
    return category in grades.graded_categories


def grade_table(ctx: AppContext, session: Session | None = None) -> GradeTable:
    """The grade table in force here: the shipped one, or a newer one published (core.published)."""
    return published.rules(ctx, session)[1]


def _change_grade(session: Session, ctx: AppContext, subject: Subject, to_grade: int, reason: str,
                  changed_by: str, event: TriggerEvent | None = None) -> bool:
    if subject.grade == to_grade:
        return False
    session.add(GradeChange(
        device_id=ctx.device_id, subject_id=subject.id, from_grade=subject.grade, to_grade=to_grade,
        reason=reason, changed_by=changed_by, changed_at=ctx.clock(),
        event_id=event.id if event is not None else None,
    ))
    subject.grade = to_grade
    return True


def set_grade(ctx: AppContext, subject_id: str, grade: int, *, reason: str, changed_by: str) -> None:
    """A person sets a subject's grade; the reason and the person are kept in its history."""
    require(ctx, "oversight")
    if grade not in GRADE_LABELS:
        raise InvalidInput("风险等级只能是一级、二级或三级")
    if not reason.strip():
        raise InvalidInput("调整风险等级必须填写理由")
    if not changed_by.strip():
        raise InvalidInput("请填写调整人")
    with ctx.transaction() as s:
        subject = subject_in(s, subject_id)
        if not is_graded(subject.category, grade_table(ctx, s)):
            raise InvalidInput("该类别的监管对象不实行风险分级")
        _change_grade(s, ctx, subject, grade, reason.strip(), changed_by.strip())


def grade_history(ctx: AppContext, subject_id: str) -> list[GradeChangeRow]:
    with ctx.sessions() as s:
        rows = s.scalars(select(GradeChange).where(GradeChange.subject_id == subject_id)
                         .order_by(GradeChange.changed_at, GradeChange.created_at))
        return [GradeChangeRow(r.from_grade, r.to_grade, r.reason, r.changed_by, r.changed_at) for r in rows]


def effective_grade(subject: Subject, grades: GradeTable) -> int | None:
    if subject.category not in grades.graded_categories:
        return None
    return subject.grade or grades.default_grade


def apply_grade_rule(session, ctx, subject, rule: Rule, event: TriggerEvent, label: str, grades: GradeTable) -> None:
    if not rule.grade_change or subject.category not in grades.graded_categories:
        return
    current = effective_grade(subject, grades)
    if "to" in rule.grade_change:
        target = max(current, rule.grade_change["to"])
    else:
        target = min(3, current + rule.grade_change["raise"])
    if subject.grade is None or target != subject.grade:
        _change_grade(session, ctx, subject, target, f"{label}（{event.occurred_on.isoformat()}）：按规则调整", SYSTEM_ACTOR, event)
