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
