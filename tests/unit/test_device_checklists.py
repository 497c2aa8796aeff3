"""The device operators' checklists on the 2023 GSP (issue 12): one family — 批零兼营 (device-operator v4),
批发, 零售, 冷链 (体外诊断试剂等) — sharing the common items, each with its own part."""
from __future__ import annotations

import pytest

from core.checklists import checklists_dir, load_template_file, load_templates

GSP = "《医疗器械经营质量管理规范》（国家药品监督管理局公告2023年第153号）"
COMMON = ["A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L"]
FAMILY = {  # code: (its own sections, the categories it is offered for)
    "device-operator": (["M", "N", "P"], {"device_operator", "device_wholesaler", "device_retailer", "device_cold_chain"}),
    "device-wholesale": (["M"], {"device_wholesaler", "device_operator"}),
    "device-retail": (["N"], {"device_retailer", "device_operator"}),
    "device-cold-chain": (["M", "P"], {"device_cold_chain", "device_operator"}),
}
# what each part must check, as words of its items
PARTS = {
    "M": ("供货者", "购货者", "随货同行单", "验收记录", "销售记录"),
    "N": ("陈列", "销售凭据", "免于经营备案", "第二类医疗器械"),
    "P": ("冷库", "冷藏", "温度", "记录", "交接", "验证", "冷藏车"),
}


@pytest.mark.parametrize("code", sorted(FAMILY))
def test_each_checklist_has_the_common_items_and_its_own_part(code):
    template = load_templates()[code]
    own, categories = FAMILY[code]
    assert [s.code for s in template.sections] == COMMON + own
    assert set(template.subject_categories) == categories
    assert len(template.items) >= 28
    for item in template.items:
        assert item.basis and item.penalty_basis and item.basis != item.penalty_basis, item.code
        assert "罚" not in item.basis, item.code
    # the items the issue asks for, in every variant
    assert template.item("G1").basis == "《医疗器械监督管理条例》第三十九条"
    assert template.item("G1").penalty_basis == "《医疗器械监督管理条例》第八十八条"
    assert "第四十一条" in template.item("H1").basis and "第四十二条" in template.item("H2").basis
    assert "第三十条" in template.item("J1").basis and "唯一标识" in template.item("J1").text
    assert "投诉" in template.item("K1").text and "网络销售" in template.item("L1").text
    assert "《医疗器械网络销售监督管理办法》" in template.item("L1").basis
    for part in own:
        [section] = [s for s in template.sections if s.code == part]
        text = " ".join(i.text for i in section.items)
        assert len(section.items) >= 4 and GSP in section.basis
        for needle in PARTS[part]:
            assert needle in text, (code, part, needle)


def test_the_family_shares_item_codes_and_texts_with_v3():
    v3 = load_template_file(checklists_dir() / "device-operator.v3.json")
    templates = load_templates()
    assert templates["device-operator"].version == 4
    for code in FAMILY:
        template = templates[code]
        assert {i.code for i in v3.items} <= {i.code for i in template.items}, code
        for item in v3.items:
            assert template.item(item.code).text == item.text, (code, item.code)
    # the penalty articles the 条例 gives, where v3 left them to the 法制审核
    combined = templates["device-operator"]
    assert "第八十九条第（三）项" in combined.item("B2").penalty_basis
    assert "第八十九条第（四）项" in combined.item("C1").penalty_basis
    assert "第八十六条第（三）项" in combined.item("E1").penalty_basis
    assert "第八十四条第（三）项" in combined.item("N4").penalty_basis


@pytest.mark.parametrize("code", sorted(FAMILY))
def test_every_penalty_citation_reads_law_then_articles(code):
    """The 立案审批表 groups the penalty articles by law (core.forms.common.group_by_law splits on ；
    and 、): every part must be 《law》 then 第…条 articles, with no remark in brackets."""
    import re

    from core.forms.common import group_by_law

    cited = [i.penalty_basis for i in load_templates()[code].items if "法制审核" not in i.penalty_basis]
    assert len(cited) >= 20
    for citation in cited:
        for segment in re.split("；", citation):
            law, articles = re.fullmatch(r"(《[^》]+》)(.+)", segment).groups()
            for article in articles.split("、"):
                assert re.fullmatch(r"第[一二三四五六七八九十百]+条(第[一二三四五六七八九十]+款)?(第（[一二三四五六七八九十]+）项)?",
                                    article), (code, article)
    assert group_by_law(cited).startswith("《")
