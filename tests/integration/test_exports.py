"""Lists to Excel (core/exports.py, ``main.py export``): each file opened with openpyxl and its cells checked,
on the hand-built station of tests/integration/stats_station.py."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from core.context import AppContext
from core.errors import InvalidInput
from core.exports import ExportFilter, export_xlsx
from core.stats import Period
from core.subjects import CATEGORIES
from core.users import PermissionDenied
from tests.integration.stats_station import PASSWORD, build

ROOT = Path(__file__).resolve().parents[2]
Q4 = Period.quarter(2026, 4)


@pytest.fixture(scope="module")
def station(tmp_path_factory):
    db = tmp_path_factory.mktemp("exports") / "station.db"
    ctx = AppContext.open(db)
    ids = build(ctx)
    ctx.clock = lambda: datetime(2026, 12, 1, 9, 0)
    yield ctx, ids, db
    ctx.close()


def _sheet(path: Path):
    from openpyxl import load_workbook

    book = load_workbook(path)
    assert len(book.sheetnames) == 1
    return book[book.sheetnames[0]]


def _table(sheet) -> tuple[list, list[list]]:
    headers = [sheet.cell(5, c).value for c in range(1, sheet.max_column + 1)]
    rows = [[sheet.cell(r, c).value for c in range(1, sheet.max_column + 1)] for r in range(6, sheet.max_row + 1)]
    return headers, rows


def test_the_register(station, tmp_path):
    ctx, ids, _db = station
    done = export_xlsx(ctx, "subjects", tmp_path / "名册.xlsx")
    sheet = _sheet(done.path)
    assert sheet.title == "监管对象名册" and sheet["A1"].value == "监管对象名册"
    assert sheet["A2"].value == "填报单位：示例市场监督管理所" and sheet["A3"].value == "筛选：全部"
    assert sheet["A4"].value.startswith("共 4 条")
    headers, rows = _table(sheet)
    assert done.rows == len(rows) == 4
    assert headers[:4] == ["序号", "名称", "统一社会信用代码", "类别"] and headers[-2:] == ["风险等级", "登记日期"]
    by_name = {r[1]: r for r in rows}
    assert by_name["丙医疗器械店"][3] == CATEGORIES["device_operator"]  # the category's label, not its code
    assert by_name["丙医疗器械店"][11] == 3 and isinstance(by_name["丙医疗器械店"][11], int)  # grade as a number
    assert isinstance(rows[0][12], datetime) and sheet.cell(6, 13).number_format == "yyyy-mm-dd"
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    assert sheet.freeze_panes == "B6" and sheet["A5"].font.bold and sheet["B6"].border.left.style == "thin"
    only = export_xlsx(ctx, "subjects", tmp_path / "c.xlsx", ExportFilter(category="cosmetics_operator", grid="东区"))
    _h, rows = _table(_sheet(only.path))
    assert sorted(r[1] for r in rows) == ["乙化妆品店", "甲化妆品店"]
    assert _sheet(only.path)["A3"].value == f"筛选：类别 {CATEGORIES['cosmetics_operator']}；网格 东区"


def test_the_inspection_list_with_filters(station, tmp_path):
    ctx, ids, _db = station
    done = export_xlsx(ctx, "inspections", tmp_path / "q4.xlsx", ExportFilter(period=Q4, status="signed"))
    sheet = _sheet(done.path)
    assert "检查日期 2026-10-01 至 2026-12-31" in sheet["A3"].value and "状态 已签名" in sheet["A3"].value
    headers, rows = _table(sheet)
    assert headers == ["序号", "文书编号", "监管对象", "统一社会信用代码", "类别", "网格", "检查表", "检查类型", "状态",
                       "检查时间", "签名时间", "执法人员", "不符合项数"]
    # signed, dated in Q4: A re-inspected, B, A advisory-only, A correction, C (the draft is not signed)
    assert done.rows == len(rows) == 5
    assert [r[2] for r in rows] == ["甲化妆品店", "乙化妆品店", "甲化妆品店", "甲化妆品店", "丙医疗器械店"]
    b = rows[1]
    assert b[8] == "已签名" and b[7] == "执法检查" and b[11] == "王建国、李秀英" and b[12] == 1
    assert rows[2][12] == 1  # the advisory failure is still a failed item on the list
    assert isinstance(b[9], datetime) and b[9] == datetime(2026, 10, 10, 10, 0)
    assert sheet.cell(7, 10).number_format == "yyyy-mm-dd hh:mm" and isinstance(b[12], int)
    assert "复查" in rows[0][6]
    drafts = export_xlsx(ctx, "inspections", tmp_path / "d.xlsx", ExportFilter(status="draft"))
    _h, rows = _table(_sheet(drafts.path))
    assert [r[2] for r in rows] == ["丙医疗器械店"] and rows[0][8] == "草稿" and rows[0][10] == "—"  # not signed
    devices = export_xlsx(ctx, "inspections", tmp_path / "g.xlsx", ExportFilter(grid="西区", kind="enforcement"))
    assert devices.rows == 2  # C's draft and C's signed record


def test_the_plan_and_its_draw(station, tmp_path):
    ctx, ids, _db = station
    done = export_xlsx(ctx, "plan", tmp_path / "plan.xlsx", ExportFilter(year=2026))
    sheet = _sheet(done.path)
    assert sheet["A1"].value == "2026年度双随机抽查计划及抽取结果"
    assert "随机种子 7" in sheet["A3"].value and "SHA-256" in sheet["A3"].value
    headers, rows = _table(sheet)
    assert headers[:3] == ["序号", "监管对象名称", "统一社会信用代码"] and headers[-1] == "执行情况"
    assert done.rows == len(rows) >= 1
    assert {r[1] for r in rows} <= {"丙医疗器械店", "丁大药房"} and "丙医疗器械店" in {r[1] for r in rows}
    c = next(r for r in rows if r[1] == "丙医疗器械店")
    assert c[8] == "已完成"  # its plan task was done by C's November inspection
    with pytest.raises(InvalidInput, match="2025年尚未抽取双随机抽查计划"):
        export_xlsx(ctx, "plan", tmp_path / "none.xlsx", ExportFilter(year=2025))
    assert not (tmp_path / "none.xlsx").exists()


def test_the_lead_list(station, tmp_path):
    ctx, ids, _db = station
    done = export_xlsx(ctx, "leads", tmp_path / "leads.xlsx", ExportFilter(period=Q4))
    headers, rows = _table(_sheet(done.path))
    assert done.rows == len(rows) == 2
    assert headers[1] == "上报时间" and rows[0][1] == datetime(2026, 11, 2, 9, 0)
    assert rows[0][6] == "马红" and rows[0][11] == "经核查不属实" and rows[1][11] == "并入案件"
    assert isinstance(rows[0][8], datetime)  # the due date, stored as a date
    november_first = Period.range(date(2026, 11, 1), date(2026, 11, 10))
    assert export_xlsx(ctx, "leads", tmp_path / "n.xlsx", ExportFilter(period=november_first)).rows == 1


def test_bad_filters_and_permissions(station, tmp_path):
    from core.users import log_in

    ctx, ids, _db = station
    for what, f, message in (("subjects", ExportFilter(period=Q4), "监管对象名册不能按期间"),
                             ("inspections", ExportFilter(status="closed"), "未知的状态“closed”"),
                             ("inspections", ExportFilter(category="bakery"), "未知的监管对象类别"),
                             ("leads", ExportFilter(kind="routine"), "网格线索清单不能按检查类型"),
                             ("cases", ExportFilter(), "未知的导出内容")):
        with pytest.raises(InvalidInput, match=message):
            export_xlsx(ctx, what, tmp_path / "x.xlsx", f)
    with pytest.raises(InvalidInput, match=r"应以 \.xlsx 结尾"):
        export_xlsx(ctx, "subjects", tmp_path / "x.csv")
    assert not list(tmp_path.iterdir())
    try:
        log_in(ctx, "马红", PASSWORD)
        with pytest.raises(PermissionDenied):
            export_xlsx(ctx, "inspections", tmp_path / "x.xlsx")
        mine = export_xlsx(ctx, "leads", tmp_path / "mine.xlsx")  # a grid worker: their own leads
        assert mine.rows == 2
    finally:
        ctx.user = None


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, timeout=120)


def test_cli_export(station, tmp_path):
    _ctx, _ids, db = station
    out = tmp_path / "insp.xlsx"
    result = _run("export", "--db", str(db), "--what", "inspections", "--out", str(out),
                  "--from", "2026-10-01", "--to", "2026-12-31", "--status", "signed")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"已导出 5 条：{out}"
    _h, rows = _table(_sheet(out))
    assert len(rows) == 5


@pytest.mark.parametrize("args,message", [
    (("--what", "inspections", "--from", "2026-02-30"), "错误：日期“2026-02-30”无效，应为 YYYY-MM-DD（如 2026-10-01）"),
    (("--what", "inspections", "--from", "2026-12-01", "--to", "2026-11-01"),
     "错误：起始日期 2026-12-01 晚于截止日期 2026-11-01"),
    (("--what", "subjects", "--from", "2026-10-01"), "错误：监管对象名册不能按期间（--from/--to）筛选"),
    (("--what", "inspections", "--kind", "raid"), "错误：未知的检查类型“raid”（可用：enforcement、routine）"),
])
def test_cli_bad_input_is_one_line_exit_2_and_changes_nothing(station, tmp_path, args, message):
    _ctx, _ids, db = station
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = _run("export", "--db", str(db), "--out", str(tmp_path / "x.xlsx"), *args)
    assert result.returncode == 2 and result.stderr.strip() == message and result.stdout == ""
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before and not (tmp_path / "x.xlsx").exists()
