"""Trigger-based oversight: rules → tasks, merging, grades, the plan's draw, the re-inspection loop."""
from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from core import inspections as svc
from core.errors import InvalidInput
from core.inspectors import add_inspector
from core.plan import make_plan
from core.rules import default_rules, load_grade_table, load_trigger_rules, rules_dir
from core.subjects import SubjectData, add_subject
from core.grades import grade_history, set_grade
from core.tasks import import_events, list_tasks, record_event, start_task, subject_due
from core.workdays import add_calendar_days, add_working_days
from db.models import Rectification
from tests.integration.helpers import answer_all, sign_all, signed_inspection

DAY = date(2026, 3, 2)


def device(ctx, name="测试器械店", serial=1, grade=None, category="device_operator"):
    from core.demo import demo_code

    subject = add_subject(ctx, SubjectData(name=name, category=category, credit_code=demo_code(900 + serial),
                                           address="测试路", grid=f"网格{serial % 2}"))
    if grade:
        set_grade(ctx, subject.id, grade, reason="年度评定", changed_by="测试")
    return subject


RULES, GRADES = default_rules()
TRIGGER_TYPES = [code for code in RULES.event_types if code not in ("rectification_due",)]


@pytest.mark.parametrize("event_type", TRIGGER_TYPES)
def test_every_trigger_type_creates_the_task_its_rule_says(ctx, event_type):
    subject = device(ctx, grade=1)
    outcome = record_event(ctx, subject.id, event_type, DAY, source_ref=f"REF-{event_type}", details="测试")
    assert outcome.task_created
    [task] = list_tasks(ctx, subject_id=subject.id)
    rule = RULES.rule_for(event_type, "device_operator", 1)
    spec = rule.deadline
    expected = (add_working_days(DAY, spec["days"]) if spec.get("unit") == "working"
                else add_calendar_days(DAY, spec["days"])).due
    assert (task.priority, task.due, task.status) == (rule.priority, expected, "open")
    assert task.template_code == "device-operator"
    assert RULES.event_types[event_type].label in task.reasons[0] and "REF-" in task.reasons[0]
    if rule.grade_change:
        history = grade_history(ctx, subject.id)
        assert history[-1].changed_by == "系统（规则）" and history[-1].to_grade > 1


def test_a_second_trigger_joins_the_open_task(ctx):
    subject = device(ctx)
    record_event(ctx, subject.id, "self_report_missing", DAY)  # low, 30 days
    outcome = record_event(ctx, subject.id, "complaint", DAY, details="投诉")  # high, 15 working days
    assert not outcome.task_created
    [task] = list_tasks(ctx, subject_id=subject.id)
    assert task.priority == "high" and task.due == add_working_days(DAY, 15).due
    assert len(task.reasons) == 2


def test_compliant_grade_one_operator_not_drawn_has_no_task(ctx):
    for n in range(4):
        device(ctx, name=f"一级店{n}", serial=n, grade=1)
    add_inspector(ctx, "甲", "001")
    add_inspector(ctx, "乙", "002")
    plan = make_plan(ctx, 2026, seed=3)
    drawn = {e.subject_id for e in plan.entries}
    assert len(drawn) == 2  # ceil(4 / 3)
    for subject_row in __import__("core.subjects").subjects.search_subjects(ctx, "一级店"):
        due = subject_due(ctx, subject_row.id)
        if subject_row.id in drawn:
            assert due.due and "随机抽取" in due.text
        else:
            assert not due.due and due.text == "无触发，不检查"


def test_plan_is_reproducible_and_changes_with_the_seed(ctx):
    for n in range(12):
        device(ctx, name=f"器械店{n:02d}", serial=n, grade=(n % 3) + 1)
    for n in range(5):
        add_inspector(ctx, f"执法人员{n}", f"C{n}")
    first = make_plan(ctx, 2026, seed=11)
    again = make_plan(ctx, 2026, seed=11)
    assert first.created and not again.created
    assert [e.as_dict() for e in first.entries] == [e.as_dict() for e in again.entries]
    assert first.inputs_sha256 == again.inputs_sha256
    assert again.tasks_created == 0
    other = make_plan(ctx, 2026, seed=12, adopt=False)
    assert [e.as_dict() for e in other.entries] != [e.as_dict() for e in first.entries]
    with pytest.raises(InvalidInput, match="不能换种子"):
        make_plan(ctx, 2026, seed=12)  # no redrawing until a preferred result
    grades = [e.grade for e in first.entries]
    assert grades.count(3) == 4 and grades.count(2) == 4 and grades.count(1) == 2
    assert len(first.entries) == 10
    assert all(len(e.officers) == 2 and e.officers[0] != e.officers[1] for e in first.entries)


def test_plan_needs_two_inspectors(ctx):
    device(ctx, grade=3)
    with pytest.raises(InvalidInput, match="两名"):
        make_plan(ctx, 2026, seed=1)


def test_grade_changes_are_kept_with_reasons(ctx):
    subject = device(ctx, grade=1)
    set_grade(ctx, subject.id, 2, reason="升级为批发", changed_by="王所长")
    record_event(ctx, subject.id, "prior_penalty", DAY, details="2025年受到行政处罚")
    history = grade_history(ctx, subject.id)
    assert [(h.from_grade, h.to_grade) for h in history] == [(None, 1), (1, 2), (2, 3)]
    assert history[1].reason == "升级为批发" and history[1].changed_by == "王所长"
    assert "曾受行政处罚" in history[2].reason
    with pytest.raises(InvalidInput):
        set_grade(ctx, subject.id, 2, reason="", changed_by="x")


def test_cosmetics_shop_has_no_grade(ctx, subject):
    with pytest.raises(InvalidInput, match="不实行风险分级"):
        set_grade(ctx, subject.id, 3, reason="x", changed_by="y")


def _reinspect(ctx, officers, failures):
    [task] = [t for t in list_tasks(ctx, status="open") if t.rectification_id]
    inspection_id = start_task(ctx, task.id, officers)
    record = svc.load_inspection(ctx, inspection_id)
    assert record.purpose == "reinspection"
    answer_all(ctx, inspection_id, failures)
    svc.complete_inspection(ctx, inspection_id)
    sign_all(ctx, inspection_id)
    return task, record


def test_reinspection_loop_closes_the_rectification(ctx, subject, officers):
    original = signed_inspection(ctx, subject.id, officers, {"B2": "无备案", "G1": "无记录"})
    rect = svc.load_inspection(ctx, original).rectification
    [task] = list_tasks(ctx, status="open")
    assert task.rectification_id and task.due == rect.deadline and "整改复查" in task.reasons[0]
    task, record = _reinspect(ctx, officers, {})
    assert [i.code for i in record.template.items] == ["B2", "G1"]  # only what failed
    with ctx.sessions() as s:
        row = s.query(Rectification).one()
        assert row.status == "closed" and row.reinspection_id == record.id
    assert list_tasks(ctx, subject_id=subject.id)[0].status == "done"


def test_failing_again_recommends_a_case_and_raises_the_grade(ctx, officers):
    shop = device(ctx, grade=1)
    original = signed_inspection_device(ctx, shop.id, officers)
    assert svc.load_inspection(ctx, original).rectification is not None
    _task, record = _reinspect(ctx, officers, {"B1": "仍无进货记录"})
    with ctx.sessions() as s:
        assert s.query(Rectification).filter_by(inspection_id=original).one().status == "case_recommended"
    assert svc.load_inspection(ctx, record.id).rectification is None  # no second order: a case instead
    assert grade_history(ctx, shop.id)[-1].to_grade == 2
    follow_up = [t for t in list_tasks(ctx, status="open") if "复查仍不合格" in " ".join(t.reasons)]
    assert follow_up


def signed_inspection_device(ctx, subject_id, officers):
    inspection_id = svc.start_inspection(ctx, subject_id, "device-operator", officers)
    answer_all(ctx, inspection_id, {"B1": "无进货记录"})
    svc.complete_inspection(ctx, inspection_id)
    sign_all(ctx, inspection_id)
    return inspection_id


def test_task_inspection_signing_closes_the_task_both_ways(ctx, officers):
    from core.tasks import task_of_inspection

    shop = device(ctx)
    record_event(ctx, shop.id, "complaint", DAY)
    [task] = list_tasks(ctx)
    inspection_id = start_task(ctx, task.id, officers)
    assert list_tasks(ctx)[0].status == "in_progress"
    assert svc.load_inspection(ctx, inspection_id).template.code == "device-operator"
    answer_all(ctx, inspection_id, {})
    svc.complete_inspection(ctx, inspection_id)
    sign_all(ctx, inspection_id)
    done = task_of_inspection(ctx, inspection_id)
    assert done.status == "done" and done.inspection_id == inspection_id


EVENT_HEADER = ["统一社会信用代码", "名称", "事件类型", "发生日期", "来源编号", "详情"]


def write_events(path, rows):
    import csv

    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(EVENT_HEADER)
        writer.writerows(rows)
    return path


def test_events_import_reports_rows_and_skips_known_refs(ctx, tmp_path):
    a = device(ctx, name="甲器械", serial=1)
    device(ctx, name="乙器械", serial=2)
    rows = [
        [a.credit_code, "", "投诉举报", "2026-03-02", "TS-1", "无说明书"],
        ["", "乙器械", "抽检不合格", "2026/3/3", "CJ-9", "血糖仪"],
        [a.credit_code, "", "网络监测线索", "2026年3月4日", "WL-1", "网店"],
        ["91350100M000100Y43", "", "投诉举报", "2026-03-02", "TS-2", ""],
        ["", "丙器械", "投诉举报", "2026-03-02", "TS-3", ""],
        [a.credit_code, "", "天降陨石", "2026-03-02", "TS-4", ""],
        [a.credit_code, "", "投诉举报", "昨天", "TS-5", ""],
        [a.credit_code, "", "投诉举报", "2026-03-05", "TS-1", "重复"],
    ]
    summary = import_events(ctx, write_events(tmp_path / "events.csv", rows))
    assert (summary.imported, summary.skipped) == (3, 1)
    assert (summary.tasks_created, summary.tasks_updated) == (2, 1)
    assert [r["row"] for r in summary.rejected] == [5, 6, 7, 8]
    again = import_events(ctx, tmp_path / "events.csv")
    assert (again.imported, again.skipped, again.tasks_created) == (0, 4, 0)


def test_bad_events_file_changes_nothing(ctx, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("名称,备注\n甲,乙\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="事件类型"):
        import_events(ctx, path)
    assert list_tasks(ctx) == []


def test_bad_rule_file_is_a_clear_error(tmp_path):
    for name in ("schema.triggers.json", "schema.grades.json", "grades.v1.json", "triggers.v1.json"):
        shutil.copy(rules_dir() / name, tmp_path / name)
    data = json.loads((tmp_path / "triggers.v1.json").read_text(encoding="utf-8"))
    data["rules"][0]["priority"] = "urgent"
    (tmp_path / "triggers.v2.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"triggers\.v2\.json.*rules/0/priority"):
        load_trigger_rules(tmp_path)
    data["rules"][0]["priority"] = "high"
    data["rules"][0]["event_type"] = "meteor"
    (tmp_path / "triggers.v2.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InvalidInput, match="未定义的事件类型"):
        load_trigger_rules(tmp_path)
    (tmp_path / "grades.v2.json").write_text("{", encoding="utf-8")
    with pytest.raises(InvalidInput, match="无法读取规则文件 grades.v2.json"):
        load_grade_table(tmp_path)
