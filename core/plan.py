"""The yearly baseline plan and its random draw (双随机、一公开).

Which graded subjects the grade table's frequencies require this year, and two
inspectors drawn at random for each. The draw is reproducible: it uses only the seed
and the inputs, in a fixed order, and stores both (seed and an input digest), so anyone
can re-run it and get the same list.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
import hashlib
import json
import math
import random
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.errors import InvalidInput
from core.inspections import OfficerData
from core.rules import GRADE_LABELS, GradeTable, TriggerRules
from core import published
from core.grades import effective_grade
from core.tasks import add_to_task
from core.users import require
from db.models import Inspection, InspectionPlan, Subject, User

if TYPE_CHECKING:
    from core.context import AppContext

PLAN_PRIORITY = "low"


@dataclass(frozen=True)
class PlanEntry:
    subject_id: str
    subject: str
    credit_code: str
    grade: int
    reason: str
    officers: list[OfficerData]

    def as_dict(self) -> dict:
        return {"subject_id": self.subject_id, "subject": self.subject, "credit_code": self.credit_code,
                "grade": self.grade, "reason": self.reason,
                "officers": [{"name": o.name, "cert_no": o.cert_no} for o in self.officers]}


@dataclass(frozen=True)
class Plan:
    year: int
    seed: int
    inputs_sha256: str
    entries: list[PlanEntry]
    created: bool
    tasks_created: int = 0
    tasks_updated: int = 0

    def as_dict(self) -> dict:
        return {"year": self.year, "seed": self.seed, "inputs_sha256": self.inputs_sha256,
                "entries": [e.as_dict() for e in self.entries], "created": self.created,
                "tasks_created": self.tasks_created, "tasks_updated": self.tasks_updated}


def _inputs(session, year: int, grades: GradeTable) -> dict:
    """Everything the draw depends on, in a fixed order."""
    last = dict(session.execute(
        select(Inspection.subject_id, func.max(Inspection.started_at))
        .where(Inspection.status == "signed", Inspection.started_at < date(year, 1, 1))
        .group_by(Inspection.subject_id)
    ).all())
    subjects = []
    for s in session.scalars(select(Subject).where(
            Subject.category.in_(grades.graded_categories), Subject.status == "active").order_by(Subject.id)):
        seen = last.get(s.id)
        subjects.append([s.id, s.name, s.credit_code or "", effective_grade(s, grades), seen.year if seen else None])
    inspectors = [[u.name, u.cert_no] for u in session.scalars(
        select(User).where(User.role == "inspector", User.active.is_(True)).order_by(User.cert_no))]
    return {"year": year, "grades_version": grades.version, "subjects": subjects, "inspectors": inspectors}


def _digest(inputs: dict) -> str:
    text = json.dumps(inputs, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def draw(inputs: dict, seed: int, grades: GradeTable) -> list[PlanEntry]:
    """The plan for these inputs and this seed. Pure: same inputs and seed, same plan."""
    year = inputs["year"]
    rng = random.Random(seed)
    chosen: list[tuple[list, str]] = []
    by_grade: dict[int, list[list]] = {1: [], 2: [], 3: []}
    for row in inputs["subjects"]:
        by_grade[row[3]].append(row)
    for grade in (3, 2, 1):
        info = grades.grades[grade]
        rows = by_grade[grade]
        if "every_years" in info.baseline:
            every = info.baseline["every_years"]
            for row in rows:
                last = row[4]
                if last is None or last <= year - every:
                    since = f"上次检查 {last} 年" if last else "此前未检查"
                    chosen.append((row, f"{GRADE_LABELS[grade]}：{info.baseline_text}（{since}）"))
        else:
            share = max(info.baseline["random_share"], 1 / info.baseline["cover_years"])
            count = math.ceil(share * len(rows))
            # subjects not inspected within the cover period come first, so all are covered in time
            window = year - info.baseline["cover_years"] + 1
            uncovered = [r for r in rows if r[4] is None or r[4] < window]
            covered = [r for r in rows if not (r[4] is None or r[4] < window)]
            picked = rng.sample(uncovered, min(count, len(uncovered)))
            if count > len(picked):
                picked += rng.sample(covered, count - len(picked))
            for row in sorted(picked, key=lambda r: r[0]):
                chosen.append((row, f"{GRADE_LABELS[grade]}：随机抽取（抽取比例 {share:.0%}，{info.baseline_text}）"))
    inspectors = inputs["inspectors"]
    if chosen and len(inspectors) < 2:
        raise InvalidInput("执法人员名录中至少需要两名在岗执法人员才能随机分派")
    entries = []
    for row, reason in chosen:
        pair = rng.sample(inspectors, 2)
        entries.append(PlanEntry(row[0], row[1], row[2], row[3], reason, [OfficerData(n, c) for n, c in pair]))
    return entries


def make_plan(ctx: AppContext, year: int, seed: int, *, adopt: bool = True,
              rules: tuple[TriggerRules, GradeTable] | None = None) -> Plan:
    """Draw the year's plan and put its tasks in the queue (once: re-running it changes nothing).

    With ``adopt=False`` it only shows the draw. Once a year's plan is adopted, another
    seed for that year is refused: redrawing until a preferred result would defeat the
    one public draw (一公开). The same seed may run again when the data changed (new
    subjects): the draw is then re-done on the new inputs and new entries join the queue.
    """
    require(ctx, "oversight")
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"年份 {year} 不合理")
    if seed < 0:
        raise InvalidInput("随机种子应为非负整数")
    trigger_rules, grades = rules or published.rules(ctx)
    with ctx.transaction() as s:
        inputs = _inputs(s, year, grades)
        digest = _digest(inputs)
        entries = draw(inputs, seed, grades)
        if not adopt:
            return Plan(year, seed, digest, entries, created=False)
        other_seed = s.scalar(select(InspectionPlan.seed).where(InspectionPlan.year == year,
                                                                InspectionPlan.seed != seed).limit(1))
        if other_seed is not None:
            raise InvalidInput(f"{year} 年度计划已用随机种子 {other_seed} 抽取并生成任务；"
                               "为保证抽取公开公正，不能换种子重新抽取")
        existing = s.scalar(select(InspectionPlan).where(
            InspectionPlan.year == year, InspectionPlan.seed == seed, InspectionPlan.inputs_sha256 == digest))
        if existing is not None:
            return Plan(year, seed, digest, entries, created=False)
        plan = InspectionPlan(device_id=ctx.device_id, year=year, seed=seed, inputs_sha256=digest,
                              entries_json=json.dumps([e.as_dict() for e in entries], ensure_ascii=False))
        s.add(plan)
        s.flush()
        created = updated = 0
        for entry in entries:
            subject = s.get(Subject, entry.subject_id)
            was_created = add_to_task(
                s, ctx, subject, priority=PLAN_PRIORITY, due=date(year, 12, 31),
                template_code=trigger_rules.checklist_for(subject.category),
                reason=f"{year}年度基线检查计划（随机种子 {seed}）：{entry.reason}",
                plan_id=plan.id, officers=entry.officers,
            )
            created += was_created
            updated += not was_created
        return Plan(year, seed, digest, entries, created=True, tasks_created=created, tasks_updated=updated)
