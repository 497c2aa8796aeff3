"""A hand-built station with known counts for the statistics tests (tests/integration/test_stats.py,
tests/gui/test_stats_view.py). Period of interest: 2026年第四季度 (2026-10-01 … 2026-12-31).

What is in it (A, B cosmetics shops; C a device operator, grade 1; D a drug retailer never inspected):

* 2026-01-05 the 2026 plan is drawn (it picks graded C and D);
* 2026-09-20 A signed with B2, G1 failed → order R0 (deadline 10-05), *before* the period;
* 2026-10-08 A re-inspected, passes → R0 closed in the period (完成整改);
* 2026-10-10 B signed with B2 failed → order R1 (deadline 10-25), never re-inspected → overdue;
* 2026-10-12 A signed with only H1 (advisory) failed: no problem, no order;
* 2026-10-15 A signed again, all pass (a correction: a new record, the old one stays);
* 2026-11-01 C: a draft started and abandoned (never signed: not counted);
* 2026-11-03 complaint on C, 2026-11-04 failed sample on C (both join C's plan task);
  2026-11-06 C inspected from that task and signed, all pass;
* leads: one reported 11-02, handled 12-10 (late, unfounded); one reported 11-20, handled 11-21 (case);
* C's grade: 1 from January, 2 on 11-10 (in the period), 3 on 2027-01-05 (after it);
* 2027-01-05 B signed, all pass (after the period: not counted).
"""
from __future__ import annotations

from datetime import date, datetime

from core import inspections as svc
from core import leads
from core.grades import set_grade
from core.inspections import OfficerData
from core.plan import make_plan
from core.subjects import SubjectData, add_subject
from core.tasks import list_tasks, record_event, start_task
from core.users import add_user
from tests.integration.helpers import answer_all, sign_all

PASSWORD = "correct horse"
OFFICERS = [OfficerData("王建国", "41170021001"), OfficerData("李秀英", "41170021002")]


def _at(ctx, *parts) -> None:
    moment = datetime(*parts)
    ctx.clock = lambda: moment


def _sign(ctx, subject_id, failures, template="cosmetics-531", task_id=None) -> str:
    if task_id:
        inspection_id = start_task(ctx, task_id, OFFICERS)
    else:
        inspection_id = svc.start_inspection(ctx, subject_id, template, OFFICERS)
    answer_all(ctx, inspection_id, failures)
    svc.update_details(ctx, inspection_id, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(ctx, inspection_id)
    sign_all(ctx, inspection_id, password=PASSWORD)
    return inspection_id


def build(ctx) -> dict:
    """Fill ``ctx``'s database; returns the ids by name."""
    from core.demo import demo_code

    ids: dict = {}
    _at(ctx, 2026, 1, 2, 9, 0)
    people = {
        "admin": add_user(ctx, name="张所长", role="admin", password=PASSWORD),
        "inspector": add_user(ctx, name="王建国", role="inspector", password=PASSWORD, cert_no="41170021001"),
        "other": add_user(ctx, name="李秀英", role="inspector", password=PASSWORD, cert_no="41170021002"),
        "grid": add_user(ctx, name="马红", role="grid_worker", password=PASSWORD, grid="西园社区"),
    }
    ids["people"] = people
    subjects = {
        "A": SubjectData(name="甲化妆品店", category="cosmetics_operator", credit_code=demo_code(801), grid="东区"),
        "B": SubjectData(name="乙化妆品店", category="cosmetics_operator", credit_code=demo_code(802), grid="东区"),
        "C": SubjectData(name="丙医疗器械店", category="device_operator", credit_code=demo_code(803), grid="西区"),
        "D": SubjectData(name="丁大药房", category="drug_retailer", credit_code=demo_code(804), grid="西区"),
    }
    for key, data in subjects.items():
        ids[key] = add_subject(ctx, data).id
    set_grade(ctx, ids["C"], 1, reason="年度评定", changed_by="张所长")
    _at(ctx, 2026, 1, 5, 9, 0)
    ids["plan"] = make_plan(ctx, 2026, 7)

    _at(ctx, 2026, 9, 20, 10, 0)
    ids["A_sept"] = _sign(ctx, ids["A"], {"B2": "1批次无备案信息", "G1": "无进货查验记录"})
    _at(ctx, 2026, 10, 8, 10, 0)
    [task] = [t for t in list_tasks(ctx, status="open") if t.rectification_id]
    ids["A_reinspection"] = _sign(ctx, ids["A"], {}, task_id=task.id)
    _at(ctx, 2026, 10, 10, 10, 0)
    ids["B_oct"] = _sign(ctx, ids["B"], {"B2": "1批次无备案信息"})
    _at(ctx, 2026, 10, 12, 10, 0)
    ids["A_advisory"] = _sign(ctx, ids["A"], {"H1": "销售记录未按月汇总"})
    _at(ctx, 2026, 10, 15, 10, 0)
    ids["A_correction"] = _sign(ctx, ids["A"], {})
    _at(ctx, 2026, 11, 1, 10, 0)
    ids["C_draft"] = svc.start_inspection(ctx, ids["C"], "device-operator", OFFICERS)
    svc.set_answer(ctx, ids["C_draft"], "A1", "fail")

    _at(ctx, 2026, 11, 3, 9, 0)
    record_event(ctx, ids["C"], "complaint", date(2026, 11, 3), source_ref="TS-1")
    _at(ctx, 2026, 11, 4, 9, 0)
    record_event(ctx, ids["C"], "sampling_failed", date(2026, 11, 4), source_ref="CJ-1")
    _at(ctx, 2026, 11, 6, 10, 0)
    [c_task] = [t for t in list_tasks(ctx, status="open") if t.subject_id == ids["C"]]
    ids["C_nov"] = _sign(ctx, ids["C"], {}, template=None, task_id=c_task.id)

    _at(ctx, 2026, 11, 10, 9, 0)
    set_grade(ctx, ids["C"], 2, reason="投诉属实", changed_by="张所长")
    ids["lead_late"] = _lead(ctx, people, datetime(2026, 11, 2, 9, 0), datetime(2026, 12, 10, 9, 0), "unfounded")
    ids["lead_case"] = _lead(ctx, people, datetime(2026, 11, 20, 9, 0), datetime(2026, 11, 23, 9, 0), "case")

    _at(ctx, 2027, 1, 5, 10, 0)
    ids["B_next_year"] = _sign(ctx, ids["B"], {})
    set_grade(ctx, ids["C"], 3, reason="年度评定", changed_by="张所长")
    ctx.user = None
    return ids


def _lead(ctx, people, reported: datetime, handled: datetime, handling: str) -> str:
    ctx.clock = lambda: reported
    ctx.user = people["grid"]
    lead_id = leads.report_lead(ctx, category="expired_in_use", description="过期药品仍在使用", party_name="某诊所")
    ctx.user = people["admin"]
    leads.receive_lead(ctx, lead_id)
    leads.assign_lead(ctx, lead_id, people["inspector"].id)
    ctx.clock = lambda: handled
    ctx.user = people["inspector"]
    leads.handle_lead(ctx, lead_id, handling, "经核查" if handling == "unfounded" else "")
    leads.feed_back(ctx, lead_id, "已核查")
    ctx.user = people["admin"]
    leads.close_lead(ctx, lead_id)
    ctx.user = None
    return lead_id
