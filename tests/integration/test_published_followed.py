"""What follows a published version (core.published): the statistics' oversight figures and their
drill-downs, the graded categories (``is_graded``, ``set_grade``), and checklist fit. Each test
checks the shipped behaviour first, then publishes and checks it changed."""
from __future__ import annotations

import json
from datetime import date

import pytest

from core import published
from core.checklist_fit import fit_warning, proposed_checklist
from core.errors import InvalidInput
from core.grades import grade_table, is_graded, set_grade
from core.stats import drill, parse_period, report
from core.tasks import record_event
from tests.integration.test_published import revision

YEAR = parse_period(str(date.today().year))


def publish_grades(ctx, tmp_path, extra: str):
    table = grade_table(ctx)
    published.publish(ctx, revision(tmp_path, "grades", table.version + 1,
                                    graded_categories=[*table.graded_categories, extra]))


def test_a_published_grade_table_is_what_grading_and_the_statistics_follow(ctx, subject, tmp_path):
    assert not is_graded(subject.category, grade_table(ctx))  # cosmetics: not graded by the shipped table
    with pytest.raises(InvalidInput, match="不实行风险分级"):
        set_grade(ctx, subject.id, 2, reason="上级通报", changed_by="所长")
    before = report(ctx, YEAR)["grades"]
    assert before["graded_subjects"] == 0

    publish_grades(ctx, tmp_path, subject.category)
    assert is_graded(subject.category, grade_table(ctx))
    after = report(ctx, YEAR)["grades"]
    assert after["graded_subjects"] == 1 and after["subjects_by_grade"]["1"] == 1  # the table's default grade
    set_grade(ctx, subject.id, 2, reason="上级通报", changed_by="所长")
    graded = report(ctx, YEAR)["grades"]
    assert graded["subjects_by_grade"] == {"1": 0, "2": 1, "3": 0}
    assert (graded["changes"], graded["raised"]) == (1, 1)
    assert [r.id for r in drill(ctx, YEAR, "grades", "by_grade", "2")] == [subject.id]
    assert [r.id for r in drill(ctx, YEAR, "grades", "raised")] == [subject.id]


def test_published_trigger_rules_label_the_statistics_and_map_the_checklists(ctx, subject, tmp_path):
    shipped = published.rules(ctx)[0]
    record_event(ctx, subject.id, "complaint", date.today())
    assert report(ctx, YEAR)["triggers"]["type_labels"] == {"complaint": "投诉举报"}
    assert proposed_checklist(ctx, "other") == "cosmetics-531"
    assert fit_warning(ctx, "other", "device-user").startswith("注意：")

    data = json.loads(revision(tmp_path, "triggers", shipped.version + 1).read_text(encoding="utf-8"))
    for event_type in data["event_types"]:
        if event_type["code"] == "complaint":
            event_type["label"] = "投诉举报（12315）"
    revision(tmp_path, "triggers", shipped.version + 1, event_types=data["event_types"],
             checklists={**shipped.checklists, "other": "device-user"})
    published.publish(ctx, tmp_path / f"triggers.v{shipped.version + 1}.json")
    assert report(ctx, YEAR)["triggers"]["type_labels"] == {"complaint": "投诉举报（12315）"}
    assert proposed_checklist(ctx, "other") == "device-user"
    assert fit_warning(ctx, "other", "device-user") == ""
    assert fit_warning(ctx, "other", "drug-retail").endswith("应使用《" + published.templates(ctx)["device-user"].title + "》。")


def test_a_published_checklist_version_is_what_checklist_fit_checks(ctx, tmp_path):
    assert "不适用于药品零售企业" in fit_warning(ctx, "drug_retailer", "cosmetics-531")
    shipped = published.templates(ctx)["cosmetics-531"]
    published.publish(ctx, revision(tmp_path, version=shipped.version + 1, title="化妆品检查表（含药店化妆品专柜）",
                                    subject_categories=[*shipped.subject_categories, "drug_retailer"]))
    assert fit_warning(ctx, "drug_retailer", "cosmetics-531") == ""
    assert "《化妆品检查表（含药店化妆品专柜）》不适用于养老机构" in fit_warning(ctx, "elderly_care", "cosmetics-531")


def test_events_and_the_plan_grade_by_the_published_table(ctx, subject, tmp_path):
    from core.plan import make_plan
    from core.subjects import get_subject
    from tests.integration.helpers import register_officers

    register_officers(ctx, password=None)
    year = date.today().year
    record_event(ctx, subject.id, "prior_penalty", date.today())  # 曾受行政处罚: to 三级, where graded
    assert get_subject(ctx, subject.id).grade is None
    assert subject.id not in {e.subject_id for e in make_plan(ctx, year, 7, adopt=False).entries}

    publish_grades(ctx, tmp_path, subject.category)
    record_event(ctx, subject.id, "prior_penalty", date.today())
    assert get_subject(ctx, subject.id).grade == 3
    drawn = {e.subject_id: e.reason for e in make_plan(ctx, year, 7, adopt=False).entries}
    assert drawn[subject.id].startswith("三级")  # 三级: every year


def test_published_register_synonyms_are_what_the_register_import_reads(ctx, tmp_path):
    from core.register_import import load_synonyms

    assert load_synonyms(ctx).category("社区康养驿站") != "elderly_care"
    shipped = json.loads(revision(tmp_path, "register-synonyms", 2).read_text(encoding="utf-8"))
    categories = {**shipped["categories"], "elderly_care": [*shipped["categories"].get("elderly_care", []),
                                                            "社区康养驿站"]}
    published.publish(ctx, revision(tmp_path, "register-synonyms", 3, categories=categories))
    synonyms = load_synonyms(ctx)
    assert synonyms.category("社区康养驿站") == "elderly_care"
    assert synonyms.files[0] == "register-synonyms.v3（上级发布）"
