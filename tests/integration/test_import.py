"""Importing the station's register from .xlsx and .csv: good, bad and duplicate rows."""
from __future__ import annotations

import pytest

from core.demo import demo_code
from core.errors import InvalidInput
from core.register_import import import_subjects
from core.subjects import count_subjects, search_subjects

HEADER = ["名称", "统一社会信用代码", "类别", "地址", "法定代表人", "联系电话", "网格"]
ROWS = [
    ["美丽佳人化妆品店", demo_code(11), "化妆品经营者", "解放路1号", "张丽", "0396-1", "解放路社区"],
    ["康宁医疗器械公司", demo_code(12), "医疗器械经营者", "金山路9号", "赵强", "0396-2", "金山社区"],
    ["无照小摊", "", "其他", "集市东口", "", "", "集市"],
    ["错码店", "91350100M000100Y44", "化妆品经营者", "错路", "", "", ""],
    ["怪类别店", demo_code(13), "面包店", "某路", "", "", ""],
    ["", "", "", "", "", "", ""],
    ["", demo_code(14), "其他", "无名路", "", "", ""],
    ["重复行", demo_code(11), "化妆品经营者", "解放路1号", "", "", ""],
]


def write_xlsx(path, rows):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_csv(path, rows, encoding="utf-8-sig"):
    import csv

    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("writer, name", [(write_xlsx, "名册.xlsx"), (write_csv, "名册.csv")])
def test_good_bad_and_duplicate_rows(ctx, tmp_path, writer, name):
    path = writer(tmp_path / name, ROWS)
    summary = import_subjects(ctx, path)
    assert summary.imported == 3
    assert summary.skipped == 1  # the repeated credit code in the same file
    rejected = {r["row"]: r["reason"] for r in summary.rejected}
    assert set(rejected) == {5, 6, 8}
    assert "校验位" in rejected[5] and "面包店" in rejected[6] and "名称" in rejected[8]
    again = import_subjects(ctx, path)
    assert (again.imported, again.skipped) == (0, 4)
    assert count_subjects(ctx) == 3
    flagged = search_subjects(ctx, "无照")
    assert flagged[0].flagged


def test_gbk_csv_is_read(ctx, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", ROWS[:2], encoding="gbk")
    assert import_subjects(ctx, path).imported == 2


def test_missing_name_column_is_one_clear_error_and_nothing_changes(ctx, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("商号,地址\n甲,乙\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="缺少“名称”列"):
        import_subjects(ctx, path)
    assert count_subjects(ctx) == 0


def test_unsupported_and_corrupt_files(ctx, tmp_path):
    doc = tmp_path / "名册.doc"
    doc.write_text("x")
    with pytest.raises(InvalidInput, match="不支持"):
        import_subjects(ctx, doc)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InvalidInput, match="不是有效的 Excel 文件"):
        import_subjects(ctx, broken)


def test_cancel_changes_nothing(ctx, tmp_path):
    path = write_csv(tmp_path / "a.csv", ROWS)
    with pytest.raises(InvalidInput, match="取消"):
        import_subjects(ctx, path, cancelled=lambda: True)
    assert count_subjects(ctx) == 0


def test_search_by_any_part(ctx, tmp_path):
    import_subjects(ctx, write_csv(tmp_path / "a.csv", ROWS))
    assert [s.name for s in search_subjects(ctx, "佳人")] == ["美丽佳人化妆品店"]
    assert [s.name for s in search_subjects(ctx, "金山路")] == ["康宁医疗器械公司"]
    assert [s.name for s in search_subjects(ctx, demo_code(12)[-5:].lower())] == ["康宁医疗器械公司"]
    assert search_subjects(ctx, "%") == []


def test_full_text_index_follows_edits(ctx, tmp_path):
    from core.subjects import SubjectData, update_subject

    import_subjects(ctx, write_csv(tmp_path / "a.csv", ROWS))
    [shop] = search_subjects(ctx, "美丽佳人化")  # 3+ characters: the trigram index
    update_subject(ctx, shop.id, SubjectData(name="新名称化妆品店", category="cosmetics_operator",
                                             credit_code=shop.credit_code, address="新华路88号"))
    assert search_subjects(ctx, "美丽佳人化") == []
    assert [s.name for s in search_subjects(ctx, "新华路88")] == ["新名称化妆品店"]
    assert [s.name for s in search_subjects(ctx, "名称化妆")] == ["新名称化妆品店"]
    assert search_subjects(ctx, 'a"b') == []  # quotes cannot break the query
