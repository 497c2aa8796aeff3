"""A register as a station keeps it, made with openpyxl: a merged title row, a note, a blank row,
the station's own column names and category words, and codes typed with full-width digits."""
from __future__ import annotations

from pathlib import Path

from core.demo import demo_code

HEADER = ["序号", "企业名称", "社会信用代码", "主体类型", "经营地址", "负责人", "联系方式", "所属网格", "备注"]


def full_width(text: str) -> str:
    """Digits and letters as a Chinese input method types them in full-width mode."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


ROWS = [
    [1, "美丽佳人美容院", full_width(demo_code(21)), "美容院", "解放路1号", "张丽", "13800000001", "解放路社区", ""],
    [2, "仁和大药房", demo_code(22), "零售药店", "金山路9号", "赵强", "0396-2", "金山社区", ""],
    [3, "康宁医疗器械公司", demo_code(23).lower(), "医疗器械经营企业", "新华路3号", "钱多", "", "新华社区", ""],
    [4, "悦颜医美诊所", "", "医美", "中华路8号", "孙悦", "", "中华社区", "无代码"],
    [5, "错码店", "91350100M000100Y44", "药店", "错路", "", "", "", ""],
    [6, "面包房", demo_code(24), "食品店", "某路", "", "", "", ""],
    [7, "怪字店", demo_code(25)[:5] + "I" + demo_code(25)[6:], "化妆品店", "某路2号", "", "", "", ""],
]
GOOD = ["美丽佳人美容院", "仁和大药房", "康宁医疗器械公司", "悦颜医美诊所"]
REJECTED_ROWS = {9: "校验位", 10: "食品店", 11: "不允许的字符“I”"}  # sheet rows: title, note, blank, header, then data


def write_station_register(path: Path) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["驿城区市场监管所 药械化监管对象名册（2026年）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(["填报单位：驿城区市场监管所", None, None, None, None, None, "填报日期：2026年12月1日"])
    sheet.append([])
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    sheet.append([])
    workbook.save(path)
    return path
