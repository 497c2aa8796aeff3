"""Checklist templates: the shipped files load; schema and extra checks refuse bad ones."""
from __future__ import annotations

import copy
import json

import pytest

from core.checklists import checklists_dir, load_template_file, load_templates, parse_template, template_from_snapshot
from core.errors import InvalidInput

FIVE_THREE_ONE = [
    "查主体合法性", "查产品合法性", "查渠道与来源", "查标签与标识", "查广告与宣传",
    "有进货查验记录制度", "有进货查验记录", "有销售记录台账", "要定期检查，及时处理变质或过期化妆品",
]


def _raw(code="cosmetics-531"):
    return copy.deepcopy(load_templates()[code].raw)


def test_shipped_templates_load():
    templates = load_templates()
    assert {"cosmetics-531", "device-operator"} <= set(templates)


def test_531_has_the_nine_headings_in_order_each_item_with_basis():
    template = load_templates()["cosmetics-531"]
    assert [s.title for s in template.sections] == FIVE_THREE_ONE
    assert [s.group for s in template.sections] == ["五查"] * 5 + ["三有"] * 3 + ["一要"]
    for item in template.items:
        assert item.basis and item.fail_text and item.remedy


def test_device_template_covers_records():
    template = load_templates()["device-operator"]
    assert "device_operator" in template.subject_categories
    assert len(template.items) >= 10


def test_snapshot_round_trip():
    template = load_templates()["cosmetics-531"]
    again = template_from_snapshot(template.to_json())
    assert again == template


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("title"), "title"),
        (lambda d: d.update(version=0), "version"),
        (lambda d: d["sections"][0]["items"][0].update(basis=""), "basis"),
        (lambda d: d["sections"][0]["items"][0].update(extra="x"), "extra"),
        (lambda d: d.update(subject_categories=["bakery"]), "bakery"),
    ],
)
def test_schema_errors_are_reported(mutate, message):
    data = _raw()
    mutate(data)
    with pytest.raises(InvalidInput) as exc:
        parse_template(data, source="bad.json")
    assert "bad.json" in exc.value.message and message in exc.value.message


def test_duplicate_item_code_is_refused():
    data = _raw()
    data["sections"][1]["items"][0]["code"] = data["sections"][0]["items"][0]["code"]
    with pytest.raises(InvalidInput, match="重复|开头"):
        parse_template(data)


def test_item_code_must_start_with_section_code():
    data = _raw()
    data["sections"][0]["items"][0]["code"] = "Z9"
    with pytest.raises(InvalidInput, match="开头"):
        parse_template(data)


def test_file_name_must_match_code_and_version(tmp_path):
    data = _raw()
    path = tmp_path / "cosmetics-531.v7.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InvalidInput, match="文件名"):
        load_template_file(path)


def test_broken_json_is_a_clear_error(tmp_path):
    path = tmp_path / "x.v1.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match="无法读取"):
        load_template_file(path)


def test_newest_version_wins(tmp_path):
    for version in (1, 2):
        data = _raw()
        data["version"] = version
        (tmp_path / f"cosmetics-531.v{version}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert load_templates(tmp_path)["cosmetics-531"].version == 2


def test_shipped_dir_has_schema():
    assert (checklists_dir() / "schema.json").is_file()


# --- issue 12: a checklist for every kind of subject ------------------------------------------------

SHIPPED = sorted(checklists_dir().glob("*.v*.json"))
NEWEST = {"cosmetics-531": 3, "device-operator": 4, "device-user": 1, "drug-retail": 1,
          "device-wholesale": 1, "device-retail": 1, "device-cold-chain": 1}
PLACEHOLDER = "本表未列明罚则条款，立案时由法制审核确定"


def test_every_shipped_file_validates_against_the_schema():
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(json.loads((checklists_dir() / "schema.json").read_text(encoding="utf-8")))
    assert len(SHIPPED) == 12
    for path in SHIPPED:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert list(validator.iter_errors(data)) == [], path.name
        assert load_template_file(path).code == data["code"]  # and the loader's extra checks


@pytest.mark.parametrize("code", sorted(NEWEST))
def test_newest_checklist_is_format_2_with_both_bases_on_every_item(code):
    template = load_templates()[code]
    assert template.version == NEWEST[code] and template.raw["format"] == 2 and template.order_authority
    assert len(template.items) >= 10
    for item in template.items:
        assert ("《" in item.basis or item.advisory) and item.penalty_basis, item.code
        assert item.basis != item.penalty_basis, item.code  # the duty is never the 罚则
        assert item.fail_text and item.remedy
        assert "罚" not in item.basis, item.code


def test_drug_retail_covers_what_the_issue_lists():
    template = load_templates()["drug-retail"]
    assert template.subject_categories == ("drug_retailer",)
    text = " ".join(f"{i.text} {i.basis}" for i in template.items)
    for needle in ("药品经营许可证", "执业药师", "处方药", "处方", "温湿度", "拆零", "有效期", "麻醉药品",
                   "购进记录", "《中华人民共和国药品管理法》"):
        assert needle in text, needle
    expired = template.item("E1")
    assert expired.penalty_likely and expired.product and "第一百一十七条" in expired.penalty_basis


def test_device_user_is_for_users_not_operators():
    template = load_templates()["device-user"]
    assert set(template.subject_categories) == {"medical_beauty", "elderly_care"}
    text = " ".join(f"{i.text} {i.basis}" for i in template.items)
    assert "《医疗器械经营监督管理办法》" not in text  # a clinic is a user of devices, not an operator
    for needle in ("一次性使用", "维护", "注射用透明质酸钠", "病历", "进货查验", "贮存"):
        assert needle in text, needle
    articles = {a for i in template.items for a in ("四十八", "四十九", "五十条", "五十一", "五十二", "五十五")
                if a in i.basis}
    assert len(articles) == 6
    assert template.order_authority == "《医疗器械监督管理条例》第八十九条"


def test_device_operator_v3_adds_the_missing_items_and_keeps_v2():
    v2 = load_template_file(checklists_dir() / "device-operator.v2.json")
    v3 = load_template_file(checklists_dir() / "device-operator.v3.json")
    assert v3.subject_categories == ("device_operator",)
    assert [s.code for s in v3.sections[:len(v2.sections)]] == [s.code for s in v2.sections]
    assert v3.item("G1").basis == "《医疗器械监督管理条例》第三十九条"
    assert v3.item("G1").penalty_basis == "《医疗器械监督管理条例》第八十八条"
    assert "第四十一条" in v3.item("H1").basis and "第四十二条" in v3.item("H2").basis
    assert "第三十条" in v3.item("J1").basis and "唯一标识" in v3.item("J1").text
    assert "投诉" in v3.item("K1").text and "网络销售" in v3.item("L1").text
    assert len(v3.items) == len(v2.items) + 6


def test_cosmetics_v3_fills_the_gaps():
    v2 = load_template_file(checklists_dir() / "cosmetics-531.v2.json")
    v3 = load_templates()["cosmetics-531"]
    assert [s.title for s in v3.sections] == FIVE_THREE_ONE
    assert len(v3.items) == len(v2.items) + 4
    assert "第六十三条" in v3.item("B5").basis and "分装" in v3.item("B5").text
    assert v3.item("B6").penalty_basis == "《化妆品监督管理条例》第六十条第（四）项"
    assert "试用装" in v3.item("A6").text and "线上线下一致" in v3.item("E5").text
    assert {i.code for i in v2.items} <= {i.code for i in v3.items}  # item codes stay stable


def test_new_inspections_use_the_newest_version(ctx, subject, officers):
    from core.inspections import load_inspection, start_inspection

    inspection_id = start_inspection(ctx, subject.id, "cosmetics-531", officers)
    assert load_inspection(ctx, inspection_id).template.version == 3


@pytest.mark.parametrize("category, expected", [
    ("cosmetics_operator", "cosmetics-531"),
    ("device_operator", "device-operator"),
    ("device_wholesaler", "device-wholesale"),
    ("device_retailer", "device-retail"),
    ("device_cold_chain", "device-cold-chain"),
    ("drug_retailer", "drug-retail"),
    ("medical_beauty", "device-user"),
    ("elderly_care", "device-user"),
    ("other", "cosmetics-531"),
])
def test_category_map_picks_the_right_checklist(category, expected):
    from core.checklist_fit import checklist_fits, checklist_for_category
    from core.rules import default_rules

    rules = default_rules()[0]
    assert rules.version == 3
    assert checklist_for_category(category, rules=rules) == expected
    assert expected in load_templates()
    assert checklist_fits(category, expected, templates=load_templates(), rules=rules) == ""


@pytest.mark.parametrize("category, code, label", [
    ("drug_retailer", "cosmetics-531", "药品零售企业"),
    ("medical_beauty", "device-operator", "医疗美容机构"),
    ("elderly_care", "drug-retail", "养老机构"),
    ("device_operator", "device-user", "医疗器械经营者"),
    ("device_wholesaler", "device-retail", "医疗器械批发企业"),
    ("device_retailer", "device-wholesale", "医疗器械零售企业"),
    ("device_cold_chain", "device-wholesale", "医疗器械冷链经营企业"),
    ("device_cold_chain", "cosmetics-531", "医疗器械冷链经营企业"),
    ("cosmetics_operator", "drug-retail", "化妆品经营者"),
])
def test_checklist_fits_warns_in_chinese_when_it_does_not_fit(category, code, label):
    from core.checklist_fit import checklist_fits
    from core.rules import default_rules

    warning = checklist_fits(category, code, templates=load_templates(), rules=default_rules()[0])
    assert warning.startswith("注意：") and f"不适用于{label}" in warning


def test_checklist_fits_refuses_an_unknown_checklist():
    from core.checklist_fit import checklist_fits
    from core.rules import default_rules

    with pytest.raises(InvalidInput, match="没有检查表模板"):
        checklist_fits("drug_retailer", "bakery", templates=load_templates(), rules=default_rules()[0])
