"""Statistics (统计): every figure against a hand-built station with known counts
(tests/integration/stats_station.py), drill-down, the CLI, the Excel and PDF reports."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.context import AppContext
from core.errors import InvalidInput
from core.reports import report_tables, write_pdf, write_xlsx
from core.stats import FIGURES, Period, drill, parse_day, parse_period, report
from core.users import PermissionDenied
from tests.integration.stats_station import PASSWORD, build

ROOT = Path(__file__).resolve().parents[2]
Q4 = Period.quarter(2026, 4)


@pytest.fixture(scope="module")
def station(tmp_path_factory):
    db = tmp_path_factory.mktemp("stats") / "station.db"
    ctx = AppContext.open(db)
    ids = build(ctx)
    yield ctx, ids, db
    ctx.close()


@pytest.fixture(scope="module")
def q4(station):
    return report(station[0], Q4)


def test_periods_and_their_bad_input():
    assert (Q4.start.isoformat(), Q4.end.isoformat(), Q4.label) == ("2026-10-01", "2026-12-31", "2026年第四季度")
    assert parse_period("2026Q4") == Q4 and parse_period("2026-02").end.isoformat() == "2026-02-28"
    assert parse_period("2026").label == "2026年"
    for bad in ("2026Q5", "26-1", "2026-13", "季度"):
        with pytest.raises(InvalidInput):
            parse_period(bad)
    with pytest.raises(InvalidInput, match="应为 YYYY-MM-DD"):
        parse_day("2026-02-30")
    with pytest.raises(InvalidInput, match="晚于截止日期"):
        Period.range(parse_day("2026-12-01"), parse_day("2026-11-01"))


def test_the_report_has_every_figure(q4):
    assert [k for k in FIGURES if k in q4] == list(FIGURES)
    assert q4["period"]["label"] == "2026年第四季度"


def test_inspections_and_households(q4):
    # in: A re-inspected, B, A advisory-only, A correction, C from its task; out: A in Sept, B in 2027, C's draft
    ins, subj = q4["inspections"], q4["subjects_inspected"]
    assert (ins["total"], subj["total"]) == (5, 3)
    assert ins["by_domain"] == {"cosmetics": 4, "devices": 1} and subj["by_domain"] == {"cosmetics": 2, "devices": 1}
    assert ins["by_category"] == {"cosmetics_operator": 4, "device_operator": 1}
    assert ins["by_grid"] == {"东区": 4, "西区": 1}
    assert ins["by_inspector"] == {"李秀英": 5, "王建国": 5}
    assert ins["by_kind"] == {"enforcement": 5}
    assert ins["by_origin"] == {"routine": 3, "reinspection": 1, "trigger": 1}
    assert ins["by_month"] == {"2026-10": 4, "2026-11": 1} and subj["by_month"] == {"2026-10": 2, "2026-11": 1}


def test_problems_count_only_non_advisory_failures(q4):
    # B's B2; the re-inspection passed; A's H1 is advisory: counted apart, not as a problem
    assert q4["inspections_with_problems"] == {"total": 1, "by_domain": {"cosmetics": 1}}
    failed = q4["failed_items"]
    assert (failed["total"], failed["advisory"]) == (1, 1)
    assert failed["by_heading"] == {"5+3+1检查": {"五查": 1}}


def test_rectifications(q4):
    assert q4["rectifications_ordered"]["total"] == 1  # R1 (B); R0 was ordered in September
    assert q4["rectifications_completed"]["total"] == 1  # R0, closed by the passed re-inspection
    assert q4["rectifications_overdue"]["total"] == 1  # R1, deadline 10-25, still open on 12-31
    assert q4["case_suggestions"]["total"] == 0


def test_other_periods(station):
    ctx = station[0]
    september = report(ctx, Period.month(2026, 9))
    assert (september["inspections"]["total"], september["rectifications_ordered"]["total"]) == (1, 1)
    assert september["rectifications_overdue"]["total"] == 0  # R0's deadline is 10-05
    october_first = report(ctx, Period.range(parse_day("2026-10-01"), parse_day("2026-10-07")))
    assert october_first["rectifications_overdue"]["total"] == 1  # R0: past its deadline, re-inspected 10-08
    assert report(ctx, Period.year(2027))["inspections"]["total"] == 1


def test_coverage_and_plan(q4):
    cov = q4["coverage"]
    assert (cov["register"], cov["inspected"], cov["rate"]) == (4, 3, 0.75)
    assert cov["by_category"]["drug_retailer"] == {"register": 1, "inspected": 0, "rate": 0.0}
    plan = q4["plan"]
    assert (plan["drawn"], plan["done"], plan["outstanding"], plan["overdue"]) == (1, 1, 0, 0)


def test_triggers(q4):
    t = q4["triggers"]
    # R0's and R1's re-inspection dues (10-05, 10-25), the complaint and the failed sample on C
    assert t["events"] == 4
    assert t["by_type"] == {"rectification_due": 2, "complaint": 1, "sampling_failed": 1}
    assert (t["tasks_created"], t["tasks_merged"]) == (2, 2)  # C's two events joined its plan task
    assert t["inspected"] == 3 and t["median_days_to_inspection"] == 3
    assert (t["within_deadline"], t["within_deadline_share"]) == (2, 0.6667)  # R0 re-inspected 3 days late


def test_leads(q4):
    ld = q4["leads"]
    assert ld["reported"] == 2 and ld["by_grid"] == {"西园社区": 2} and ld["by_worker"] == {"马红": 2}
    # 11-02 → 12-10 is 28 working days (late); 11-20 (Fri) → 11-23 (Mon) is 1
    assert ld["median_working_days"] == 14.5 and ld["handling_days"] == {"1": 1, "28": 1}
    assert (ld["within_15_working_days"], ld["late"], ld["within_share"]) == (1, 1, 0.5)
    assert ld["outcomes"] == {"event": 0, "case": 1, "unfounded": 1, "pending": 0}


def test_grades_at_period_end(q4):
    g = q4["grades"]
    assert g["subjects_by_grade"] == {"1": 0, "2": 1, "3": 0}  # C: 2 since 11-10 (3 only in 2027)
    assert (g["changes"], g["raised"], g["lowered"]) == (1, 1, 0)


def test_an_inspector_sees_no_reporters_and_a_grid_worker_no_statistics(station):
    from core.users import log_in

    ctx, ids, _db = station
    try:
        log_in(ctx, "王建国", PASSWORD)
        assert "by_worker" not in report(ctx, Q4)["leads"]
        ctx.user = None
        log_in(ctx, "马红", PASSWORD)
        with pytest.raises(PermissionDenied, match="无权查看统计报表"):
            report(ctx, Q4)
    finally:
        ctx.user = None


@pytest.mark.parametrize("figure,breakdown,key,expected", [
    ("inspections", None, None, ["A_reinspection", "B_oct", "A_advisory", "A_correction", "C_nov"]),
    ("inspections", "by_origin", "routine", ["B_oct", "A_advisory", "A_correction"]),
    ("inspections", "by_origin", "trigger", ["C_nov"]),
    ("inspections", "by_domain", "devices", ["C_nov"]),
    ("inspections", "by_month", "2026-11", ["C_nov"]),
    ("inspections", "by_inspector", "王建国", ["A_reinspection", "B_oct", "A_advisory", "A_correction", "C_nov"]),
    ("inspections_with_problems", None, None, ["B_oct"]),
    ("rectifications_ordered", None, None, ["B_oct"]),
    ("rectifications_completed", None, None, ["A_sept"]),
    ("rectifications_overdue", None, None, ["B_oct"]),
])
def test_drill_down_lists_exactly_the_records_counted(station, q4, figure, breakdown, key, expected):
    ctx, ids, _db = station
    rows = drill(ctx, Q4, figure, breakdown, key)
    assert [r.id for r in rows] == [ids[name] for name in expected]
    counted = q4[figure]["total"] if breakdown is None else q4[figure][breakdown][key]
    assert len(rows) == counted


def test_drill_down_of_households_coverage_and_leads(station, q4):
    ctx, ids, _db = station
    subjects = drill(ctx, Q4, "subjects_inspected")
    assert sorted(r.id for r in subjects) == sorted([ids["A"], ids["B"], ids["C"]]) == sorted(
        r.id for r in drill(ctx, Q4, "coverage"))
    assert len(drill(ctx, Q4, "leads")) == q4["leads"]["reported"] == 2
    assert [r.number for r in drill(ctx, Q4, "triggers", "by_type", "complaint")] == ["TS-1"]
    with pytest.raises(InvalidInput):
        drill(ctx, Q4, "grades")


def test_excel_report_cell_by_cell(station, q4, tmp_path):
    from openpyxl import load_workbook

    path = write_xlsx(q4, tmp_path / "q4.xlsx")
    book = load_workbook(path)
    assert len(book.sheetnames) == len(report_tables(q4)) == 15
    sheet = book["检查家次和户数（按药械化）"]
    assert sheet["A1"].value == "检查家次和户数（按药械化）" and "A1:C1" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["A2"].value == "填报单位：示例市场监督管理所"
    assert sheet["A3"].value == "统计期间：2026年第四季度（2026-10-01 至 2026-12-31）"
    assert sheet["A4"].value.startswith("单位：家次、户")
    assert [sheet.cell(5, c).value for c in (1, 2, 3)] == ["领域", "检查家次", "检查户数"]
    rows = [[sheet.cell(r, c).value for c in (1, 2, 3)] for r in range(6, sheet.max_row + 1)]
    assert rows == [["化妆品", 4, 2], ["医疗器械", 1, 1], ["合计", 5, 3]]
    assert all(isinstance(v, int) for row in rows for v in row[1:])  # numbers as numbers
    assert sheet.freeze_panes == "B6"
    assert sheet["B6"].border.left.style == "thin" and sheet["A5"].font.bold
    coverage = book["监管覆盖率（按类别）"]
    total = [coverage.cell(coverage.max_row, c).value for c in (1, 2, 3, 4)]
    assert total == ["合计", 4, 3, 0.75] and coverage.cell(coverage.max_row, 4).number_format == "0.0%"


def test_pdf_report(q4, tmp_path):
    from tests.integration.pdfcheck import pdf_fonts, pdf_text

    path = write_pdf(q4, tmp_path / "q4.pdf")
    text = pdf_text(path)
    assert "药械化监管统计报表" in text and "2026年第四季度" in text and "责令改正和整改情况" in text
    fonts = pdf_fonts(path)
    assert fonts and all(embedded for _name, embedded in fonts)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, timeout=120)


def _digest(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


def test_cli_json_xlsx_pdf(station, q4, tmp_path):
    _ctx, _ids, db = station
    result = _run("stats", "--db", str(db), "--from", "2026-10-01", "--to", "2026-12-31", "--json",
                  "--xlsx", str(tmp_path / "r.xlsx"), "--pdf", str(tmp_path / "r.pdf"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["inspections"] == q4["inspections"] and data["leads"] == q4["leads"]
    assert data["period"]["kind"] == "range" and data["rectifications_overdue"]["total"] == 1
    assert (tmp_path / "r.xlsx").stat().st_size > 5000 and (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    text = _run("stats", "--db", str(db), "--period", "2026Q4")
    assert text.returncode == 0 and "检查家次和户数（按药械化）" in text.stdout and "合计\t5\t3" in text.stdout


@pytest.mark.parametrize("args,message", [
    (("--from", "2026-12-01", "--to", "2026-11-01"), "错误：起始日期 2026-12-01 晚于截止日期 2026-11-01"),
    (("--from", "2026-13-01", "--to", "2026-12-31"), "错误：日期“2026-13-01”无效，应为 YYYY-MM-DD（如 2026-10-01）"),
    (("--from", "2026-10-01"), "错误：请用 --from 和 --to 指定统计期间，或用 --period（如 2026Q4）"),
    (("--period", "2026Q5"), "错误：季度 5 不合理（应为 1–4）"),
    (("--period", "2026", "--xlsx", "r.csv"), "错误：输出文件名应以 .xlsx 结尾：r.csv"),
])
def test_cli_bad_input_is_one_line_exit_2_and_changes_nothing(station, args, message, tmp_path):
    _ctx, _ids, db = station
    before = _digest(db)
    result = _run("stats", "--db", str(db), *args)
    assert result.returncode == 2 and result.stderr.strip() == message and result.stdout == ""
    assert _digest(db) == before


def test_the_period_table_path_equals_a_straightforward_count(station, q4):
    """The figures read from the period's temporary table (core/stats/scope.py) equal a count made
    here record by record from the ORM objects, with no shared SQL."""
    from collections import Counter

    from core.checklists import template_from_snapshot
    from db.models import Inspection, Rectification

    ctx = station[0]
    with ctx.sessions() as s:
        counted = [i for i in s.query(Inspection).all()
                   if i.status == "signed" and Q4.begins <= i.signed_at < Q4.ends]
        assert len(counted) == 5
        ins, subj = q4["inspections"], q4["subjects_inspected"]
        assert ins["total"] == len(counted) and subj["total"] == len({i.subject_id for i in counted})
        for name, key in (("by_category", lambda i: i.subject.category), ("by_grid", lambda i: i.subject.grid),
                          ("by_kind", lambda i: i.kind), ("by_month", lambda i: i.signed_at.strftime("%Y-%m"))):
            assert ins[name] == dict(Counter(key(i) for i in counted)), name
            assert subj[name] == dict(Counter(k for k, _s in {(key(i), i.subject_id) for i in counted})), name
        officers = Counter(o.name for i in counted for o in i.officers)
        assert ins["by_inspector"] == dict(officers)
        failed = advisory = 0
        problems = set()
        for i in counted:
            flags = {item.code: item.advisory for item in template_from_snapshot(i.template_json).items}
            for r in i.results:
                if r.result == "fail":
                    advisory += flags[r.item_code]
                    failed += not flags[r.item_code]
                    if not flags[r.item_code]:
                        problems.add(i.id)
        assert (q4["failed_items"]["total"], q4["failed_items"]["advisory"]) == (failed, advisory) == (1, 1)
        assert q4["inspections_with_problems"]["total"] == len(problems)
        orders = [r for r in s.query(Rectification).all() if r.inspection_id in {i.id for i in counted}]
        assert q4["rectifications_ordered"]["total"] == len(orders)
        every = s.query(Rectification).all()
        closed = [r for r in every if r.status == "closed" and Q4.begins <= r.closed_at < Q4.ends]
        cases = [r for r in every if r.status == "case_recommended" and Q4.begins <= r.closed_at < Q4.ends]
        overdue = [r for r in every if r.inspection.status == "signed" and r.inspection.signed_at < Q4.ends
                   and r.deadline < Q4.end and (r.status == "open" or r.closed_at is None or r.closed_at >= Q4.ends)]
        assert (len(closed), len(overdue)) == (1, 1)
        assert q4["rectifications_completed"]["total"] == len(closed)
        assert q4["rectifications_overdue"]["total"] == len(overdue)
        assert q4["case_suggestions"]["total"] == len(cases)
        inspected = Counter(c for c, _s in {(i.subject.category, i.subject_id) for i in counted
                                            if i.subject.status == "active"})
        assert {k: v["inspected"] for k, v in q4["coverage"]["by_category"].items() if v["inspected"]} == dict(inspected)


@pytest.mark.parametrize("figure,breakdown,key,expected", [
    ("failed_items", None, None, ["B_oct"]),
    ("failed_items", "by_heading", "5+3+1检查\t五查", ["B_oct"]),
    ("failed_items", "advisory", None, ["A_advisory"]),
    ("plan", "drawn", None, ["C"]),
    ("plan", "done", None, ["C"]),
    ("plan", "outstanding", None, []),
    ("grades", "by_grade", "2", ["C"]),
    ("grades", "by_grade", "1", []),
    ("grades", "changes", None, ["C"]),
    ("grades", "raised", None, ["C"]),
    ("grades", "lowered", None, []),
    ("leads", "by_worker", "马红", ["lead_late", "lead_case"]),
])
def test_drill_down_of_failed_items_plan_grades_and_workers(station, q4, figure, breakdown, key, expected):
    ctx, ids, _db = station
    rows = drill(ctx, Q4, figure, breakdown, key)
    assert [r.id for r in rows] == [ids[name] for name in expected]
    if figure == "failed_items":
        counted = {None: q4[figure]["total"], "advisory": q4[figure]["advisory"]}.get(breakdown)
        if breakdown == "by_heading":
            template, heading = key.split("\t")
            counted = q4[figure]["by_heading"][template][heading]
    elif figure == "plan":
        counted = q4["plan"][breakdown]
    elif figure == "grades":
        counted = q4["grades"]["subjects_by_grade"][key] if breakdown == "by_grade" else q4["grades"][breakdown]
    else:
        counted = q4["leads"]["by_worker"][key]
    assert len(rows) == counted


def test_every_table_row_with_records_drills_to_its_count(station, q4):
    """Each row the tables mark as drillable lists as many records as the number it shows first."""
    ctx = station[0]
    checked = 0
    for table in report_tables(q4):
        for row, target in zip(table.rows, table.drill):
            if target is None:
                continue
            shown = next(v for v in row[1:] if isinstance(v, int))
            if table.code == "problems":
                shown = row[2]  # 发现问题家次 (the row also shows all inspections)
            if table.code == "coverage":
                shown = row[2]  # 已检查户数
            if table.code in {"by_domain", "by_category", "by_grid", "by_inspector", "by_kind", "by_origin",
                              "by_month"}:
                shown = row[1]
            assert len(drill(ctx, Q4, *target)) == shown, (table.title, row)
            checked += 1
    assert checked >= 30


def test_reporters_are_not_listed_to_an_inspector(station):
    from core.users import log_in

    ctx = station[0]
    try:
        log_in(ctx, "王建国", PASSWORD)
        with pytest.raises(PermissionDenied, match="上报人仅所长可见"):
            drill(ctx, Q4, "leads", "by_worker", "马红")
    finally:
        ctx.user = None
