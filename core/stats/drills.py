"""The records behind the figures whose count is made in Python from the rows (failed items by
heading, the plan, the grades): each drill-down reuses the very function or rule the count used,
so the list has exactly the records counted (tests/integration/test_stats.py checks each)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.stats.common import DrillRow, headings, signed_in
from core.stats.oversight import grade_change_condition, grade_direction, grades_at_end, plan_sets
from core.stats.period import Period
from core.rules import GradeTable
from db.models import GradeChange, Inspection, ItemResult, Subject

HEADING_SEP = "\t"  # the key of a heading: template short title, tab, heading


def heading_key(template: str, heading: str) -> str:
    return f"{template}{HEADING_SEP}{heading}"


def failed_items(s: Session, period: Period, breakdown: str | None, key: str | None) -> list[DrillRow]:
    """One row per failed item result counted: all (``None``), ``by_heading`` (key: ``heading_key``),
    ``by_item`` (key: "template code"), or the ``advisory`` ones counted apart."""
    if breakdown not in (None, "by_heading", "by_item", "advisory"):
        raise InvalidInput(f"未知的分组“{breakdown}”")
    rows = s.execute(
        select(Inspection.id, Inspection.number, Subject.name, Inspection.signed_at, Inspection.template_sha,
               ItemResult.item_code)
        .select_from(Inspection).join(Subject, Subject.id == Inspection.subject_id)
        .join(ItemResult, ItemResult.inspection_id == Inspection.id)
        .where(signed_in(period), ItemResult.result == "fail")
        .order_by(Inspection.signed_at, Inspection.number, ItemResult.item_code)).all()
    where = headings(s, {r.template_sha for r in rows})
    out = []
    for r in rows:
        template, heading, advisory = where.get((r.template_sha, r.item_code), ("?", "?", False))
        if advisory != (breakdown == "advisory"):
            continue
        if breakdown == "by_heading" and key != heading_key(template, heading):
            continue
        if breakdown == "by_item" and key != f"{template} {r.item_code}":
            continue
        out.append(DrillRow("inspection", r.id, r.number, r.name, r.signed_at, f"{r.item_code}（{template}·{heading}）"))
    return out


def _subjects(s: Session, ids, when: dict | None = None, text: dict | None = None) -> list[DrillRow]:
    rows = s.execute(select(Subject.id, Subject.name, Subject.category).where(Subject.id.in_(list(ids)))
                     .order_by(Subject.name, Subject.id)).all() if ids else []
    return [DrillRow("subject", r.id, "", r.name, (when or {}).get(r.id), (text or {}).get(r.id, r.category))
            for r in rows]


def plan(s: Session, period: Period, breakdown: str | None, _key: str | None) -> list[DrillRow]:
    """The subjects behind a plan figure: ``drawn`` (also None), ``done``, ``outstanding``, ``overdue``, ``cancelled``."""
    _year, _seeds, sets = plan_sets(s, period)
    name = breakdown or "drawn"
    if name not in sets:
        raise InvalidInput(f"未知的分组“{breakdown}”")
    return _subjects(s, sets[name])


def grades(s: Session, period: Period, breakdown: str | None, key: str | None, table: GradeTable) -> list[DrillRow]:
    """``by_grade`` (key: the grade): subjects at that grade at period end; ``changes`` / ``raised`` /
    ``lowered``: the grade changes in the period, one row each."""
    if breakdown == "by_grade":
        current = grades_at_end(s, period, table)
        return _subjects(s, {sid for sid, grade in current.items() if str(grade) == str(key)})
    if breakdown not in ("changes", "raised", "lowered"):
        raise InvalidInput("风险分级请按等级（by_grade）或等级调整（changes、raised、lowered）列出")
    rows = s.execute(select(GradeChange.id, GradeChange.subject_id, Subject.name, GradeChange.changed_at,
                            GradeChange.from_grade, GradeChange.to_grade, GradeChange.reason)
                     .join(Subject, Subject.id == GradeChange.subject_id).where(grade_change_condition(period))
                     .order_by(GradeChange.changed_at, GradeChange.created_at)).all()
    return [DrillRow("subject", r.subject_id, "", r.name, r.changed_at,
                     f"{r.from_grade or '-'}级→{r.to_grade}级 {r.reason}".strip())
            for r in rows if breakdown == "changes" or grade_direction(r.from_grade, r.to_grade, table) == breakdown]


FIGURES = {"failed_items": failed_items, "plan": plan}  # and grades, which also takes the grade table
