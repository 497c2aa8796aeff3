"""Device operators told apart (issue 12): 批发 / 零售 / 冷链 categories through the register import,
sync validation, grades and statistics (药/械/化: all of them 械)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import InvalidInput
from core.register_import import import_subjects, load_synonyms
from core.subjects import CATEGORIES, SubjectData, add_subject, search_subjects

NEW = ("device_wholesaler", "device_retailer", "device_cold_chain")


@pytest.mark.parametrize("text, category", [
    ("医疗器械批发企业", "device_wholesaler"), ("第三类医疗器械批发", "device_wholesaler"),
    ("医疗器械经营（批发）", "device_wholesaler"), ("二类器械批发（含三类）", "device_wholesaler"),
    ("医疗器械零售企业", "device_retailer"), ("医疗器械经营（零售）", "device_retailer"),
    ("助听器店", "device_retailer"), ("社区器械店", "device_retailer"),
    ("体外诊断试剂", "device_cold_chain"), ("医疗器械（冷链）经营", "device_cold_chain"),
    ("体外诊断试剂批发", "device_cold_chain"), ("经营需冷链管理的体外诊断试剂等的企业", "device_cold_chain"),
    ("医疗器械批零兼营", "device_operator"), ("医疗器械批发、零售", "device_operator"),
    ("医疗器械经营企业", "device_operator"), ("医疗器械", "device_operator"),
    ("药品零售企业", "drug_retailer"), ("化妆品", "cosmetics_operator"),
])
def test_register_wordings_map_to_the_category(text, category):
    synonyms = load_synonyms()
    assert synonyms.files[0] == "register-synonyms.v2.json"
    assert synonyms.category(text) == category


def test_import_puts_wholesalers_retailers_and_cold_chain_in_their_categories(ctx, tmp_path):
    from openpyxl import Workbook

    from core.demo import demo_code

    workbook = Workbook()
    workbook.active.append(["企业名称", "统一社会信用代码", "经营类别"])
    rows = [("安泰医疗器械批发公司", demo_code(71), "医疗器械批发"), ("康复之家器械店", demo_code(72), "医疗器械零售"),
            ("瑞康诊断试剂公司", demo_code(73), "体外诊断试剂（冷链）"), ("康宁医疗器械公司", demo_code(74), "批零兼营")]
    for row in rows:
        workbook.active.append(list(row))
    workbook.save(tmp_path / "名册.xlsx")
    summary = import_subjects(ctx, tmp_path / "名册.xlsx")
    assert (summary.imported, len(summary.rejected)) == (4, 0)
    by_name = {s.name: s.category for s in search_subjects(ctx, "")}
    assert by_name == {"安泰医疗器械批发公司": "device_wholesaler", "康复之家器械店": "device_retailer",
                       "瑞康诊断试剂公司": "device_cold_chain", "康宁医疗器械公司": "device_operator"}


def _subject_record(ctx, category: str) -> dict:
    from core.sync.codec import current
    from db.models import Subject

    subject = add_subject(ctx, SubjectData(name=f"测试{category}", category=category))
    with ctx.sessions() as s:
        return current(s.scalar(select(Subject).where(Subject.id == subject.id)))


def test_sync_accepts_the_new_categories_and_still_refuses_an_unknown_one(ctx):
    from core.sync import validate

    records = [_subject_record(ctx, category) for category in NEW]
    assert len(records) == 3
    validate.check_records("p.zip", "subjects", records)  # accepted: no exception
    bad = dict(records[0], category="device_bakery")
    with pytest.raises(InvalidInput) as caught:
        validate.check_records("p.zip", "subjects", [records[1], bad])
    assert "字段 category " in caught.value.message and "不在允许范围内" in caught.value.message


def test_new_categories_have_labels_grades_and_checklists():
    from core.checklist_fit import checklist_for_category
    from core.checklists import load_templates
    from core.grades import is_graded
    from core.rules import default_rules

    templates = load_templates()
    assert default_rules()[1].version == 2
    for category in NEW:
        assert CATEGORIES[category].startswith("医疗器械")
        assert is_graded(category, default_rules()[1])
        assert category in templates[checklist_for_category(category, rules=default_rules()[0])].subject_categories


def test_statistics_count_the_new_categories_under_devices(ctx, officers):
    from core.stats import Period, report
    from tests.integration.helpers import answer_all, sign_all
    from core import inspections as svc

    codes = {"device_wholesaler": "device-wholesale", "device_retailer": "device-retail",
             "device_cold_chain": "device-cold-chain"}
    for n, (category, code) in enumerate(codes.items()):
        subject = add_subject(ctx, SubjectData(name=f"测试器械{n}", category=category))
        inspection_id = svc.start_inspection(ctx, subject.id, code, officers)
        answer_all(ctx, inspection_id, {})
        svc.update_details(ctx, inspection_id, party_statement="无异议", party_present_name="张三")
        svc.complete_inspection(ctx, inspection_id)
        sign_all(ctx, inspection_id)
    today = ctx.clock().date()
    figures = report(ctx, Period.quarter(today.year, (today.month - 1) // 3 + 1))
    assert figures["inspections"]["by_domain"] == {"devices": 3}
    assert figures["inspections"]["by_category"] == dict.fromkeys(NEW, 1)
    assert figures["subjects_inspected"]["by_domain"] == {"devices": 3}
    assert {c: v["register"] for c, v in figures["coverage"]["by_category"].items()} == dict.fromkeys(NEW, 1)
