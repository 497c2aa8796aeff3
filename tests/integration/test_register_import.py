"""Registers as stations keep them: a title row, their own column names and categories, full-width codes."""
from __future__ import annotations

import json

import pytest

from core.demo import demo_code
from core.errors import InvalidInput
from core.register_import import export_rejected, load_synonyms, preview_import
from core.register_import import import_subjects
from core.subjects import count_subjects, search_subjects
from tests.support.registers import GOOD, REJECTED_ROWS, full_width, write_station_register


def test_preview_finds_the_header_below_the_title_and_maps_the_station_columns(ctx, tmp_path):
    plan = preview_import(ctx, write_station_register(tmp_path / "名册.xlsx"))
    assert plan.header_row == 4
    assert ("企业名称", "名称") in plan.mapping and ("社会信用代码", "统一社会信用代码") in plan.mapping
    assert ("主体类型", "类别") in plan.mapping and ("所属网格", "网格") in plan.mapping
    assert ("负责人", "法定代表人") in plan.mapping and ("联系方式", "联系电话") in plan.mapping
    assert plan.unused == ["序号", "备注"]
    assert [r.values["name"] for r in plan.rows if r.outcome == "import"] == GOOD
    rejected = {r["row"]: r["reason"] for r in plan.rejected}
    assert set(rejected) == set(REJECTED_ROWS)
    for row, words in REJECTED_ROWS.items():
        assert words in rejected[row], rejected[row]
    assert count_subjects(ctx) == 0  # a preview writes nothing


def test_import_folds_full_width_codes_and_maps_categories(ctx, tmp_path):
    path = write_station_register(tmp_path / "名册.xlsx")
    summary = import_subjects(ctx, path)
    assert (summary.imported, summary.skipped, len(summary.rejected)) == (4, 0, 3)
    by_name = {s.name: s for s in search_subjects(ctx, "")}
    assert sorted(by_name) == sorted(GOOD)
    assert by_name["美丽佳人美容院"].credit_code == demo_code(21)  # was typed full-width
    assert by_name["美丽佳人美容院"].category == "cosmetics_operator"
    assert by_name["仁和大药房"].category == "drug_retailer"
    assert by_name["康宁医疗器械公司"].category == "device_operator"
    assert by_name["康宁医疗器械公司"].credit_code == demo_code(23)
    assert by_name["悦颜医美诊所"].category == "medical_beauty"
    assert by_name["仁和大药房"].legal_rep == "赵强" and by_name["仁和大药房"].grid == "金山社区"
    again = preview_import(ctx, path)
    assert (again.count("import"), again.count("duplicate")) == (0, 4)


def test_a_truly_invalid_full_width_code_names_the_character_as_typed_plainly(ctx, tmp_path):
    from openpyxl import Workbook

    code = demo_code(31)
    bad = full_width(code[:5]) + "Ｉ" + full_width(code[6:])
    workbook = Workbook()
    workbook.active.append(["企业名称", "统一社会信用代码"])
    workbook.active.append(["甲店", bad])
    workbook.save(tmp_path / "a.xlsx")
    [reason] = [r["reason"] for r in preview_import(ctx, tmp_path / "a.xlsx").rejected]
    assert "不允许的字符“I”" in reason and "９" not in reason


def test_a_file_that_is_not_excel_under_an_xlsx_name(ctx, tmp_path):
    fake = tmp_path / "名册.xlsx"
    fake.write_text("名称,地址\n甲,乙\n", encoding="utf-8")  # a CSV renamed
    with pytest.raises(InvalidInput, match="不是有效的 Excel 文件") as caught:
        preview_import(ctx, fake)
    assert "zip" not in caught.value.message
    assert count_subjects(ctx) == 0


def test_no_header_in_the_first_rows_is_one_clear_error(ctx, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("商号,地点\n甲,乙\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="缺少“名称”列.*企业名称"):
        import_subjects(ctx, path)


def test_rejected_rows_export_with_their_reason(ctx, tmp_path):
    from openpyxl import load_workbook

    plan = preview_import(ctx, write_station_register(tmp_path / "名册.xlsx"))
    assert export_rejected(plan, tmp_path / "未导入.xlsx") == 3
    rows = list(load_workbook(tmp_path / "未导入.xlsx").active.iter_rows(values_only=True))
    assert rows[0][-2:] == ("原行号", "拒绝原因")
    assert [r[1] for r in rows[1:]] == ["错码店", "面包房", "怪字店"]
    assert [r[-2] for r in rows[1:]] == sorted(REJECTED_ROWS)


def test_the_station_extends_the_synonyms_beside_its_database(ctx, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["商号", "行业"])
    workbook.active.append(["小李日用品", "日用百货"])
    workbook.save(tmp_path / "a.xlsx")
    with pytest.raises(InvalidInput, match="缺少“名称”列"):
        preview_import(ctx, tmp_path / "a.xlsx")
    (tmp_path / "register-synonyms.json").write_text(json.dumps({
        "format": 1, "version": 1, "description": "本所的写法",
        "headers": {"name": ["商号"], "category": ["行业"]},
        "categories": {"cosmetics_operator": ["日用百货"]},
    }, ensure_ascii=False), encoding="utf-8")
    assert "register-synonyms.json" in load_synonyms(ctx).files[-1]
    [row] = preview_import(ctx, tmp_path / "a.xlsx").rows
    assert (row.outcome, row.data.category) == ("import", "cosmetics_operator")
    (tmp_path / "register-synonyms.json").write_text('{"format": 2}', encoding="utf-8")
    with pytest.raises(InvalidInput, match="register-synonyms.json 格式错误"):
        preview_import(ctx, tmp_path / "a.xlsx")


def test_the_cli_previews_then_imports(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sheet = write_station_register(tmp_path / "名册.xlsx")
    db = tmp_path / "station.db"

    def run(*extra):
        return subprocess.run([sys.executable, str(root / "main.py"), "subjects", "import", "--db", str(db),
                               str(sheet), *extra], capture_output=True, text=True, timeout=120)

    preview = run("--preview", "--json")
    assert preview.returncode == 0, preview.stderr
    plan = json.loads(preview.stdout)
    assert plan["header_row"] == 4 and [r["outcome"] for r in plan["rows"]].count("import") == 4
    text = run("--preview")
    assert "表头在第 4 行" in text.stdout and "未写入" in text.stdout
    done = run()
    assert done.returncode == 0 and done.stdout.startswith("导入 4 个"), done.stdout
    fake = tmp_path / "假.xlsx"
    fake.write_text("不是表格", encoding="utf-8")
    refused = subprocess.run([sys.executable, str(root / "main.py"), "subjects", "import", "--db", str(db), str(fake)],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "不是有效的 Excel 文件" in refused.stderr and "zip" not in refused.stderr
