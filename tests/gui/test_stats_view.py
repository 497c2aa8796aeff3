"""The 统计 tab: a station admin picks 2026年第四季度, sees the figures and charts, drills down, exports."""
from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from tests.gui.helpers import LEFT, click_tab, open_main_window
from tests.integration.stats_station import build


@pytest.fixture
def station(ctx):
    ids = build(ctx)
    ctx.clock = lambda: __import__("datetime").datetime(2026, 12, 1, 9, 0)
    return ids


def _computed_q4(qtbot, ctx):
    window = open_main_window(qtbot, ctx)
    view = click_tab(qtbot, window, window.stats_view)
    view.set_period("quarter", 2026, 4)
    assert view.chosen_period().label == "2026年第四季度"
    qtbot.mouseClick(view.compute_button, LEFT)
    assert view.result is not None
    return window, view


def test_pick_a_quarter_and_see_the_figures(qtbot, ctx, station):
    _window, view = _computed_q4(qtbot, ctx)
    text = view.summary.text()
    assert "2026年第四季度" in text and "检查 5 家次、3 户" in text and "发现问题 1 家次" in text
    assert "期末逾期 1 份" in text and "覆盖率 75.0%" in text
    assert view.table_list.count() == 15
    view.table_list.setCurrentRow(0)
    model = view.table_model
    cells = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]
    assert cells == [["化妆品", "4", "2"], ["医疗器械", "1", "1"], ["合计", "5", "3"]]
    coverage = view.table_list.findItems("监管覆盖率（按类别）", Qt.MatchFlag.MatchExactly)
    assert len(coverage) == 1
    view.table_list.setCurrentItem(coverage[0])
    last = model.rowCount() - 1
    assert [model.index(last, c).data() for c in range(4)] == ["合计", "4", "3", "75.0%"]
    # the four charts, each with its bars
    charts = [v.chart() for v in view.chart_views]
    assert len(charts) == 4
    months = charts[0].series()[0].barSets()[0]
    assert [months.at(i) for i in range(months.count())] == [4.0, 1.0]  # 2026-10, 2026-11


def test_clicking_a_number_lists_the_records_and_opens_one(qtbot, ctx, station):
    window, view = _computed_q4(qtbot, ctx)
    view.table_list.setCurrentRow(0)
    rect = view.table_view.visualRect(view.table_model.index(2, 1))  # 合计: 5 inspections
    qtbot.mouseClick(view.table_view.viewport(), LEFT, pos=rect.center())
    rows = [view.drill_model.row_at(i) for i in range(view.drill_model.rowCount())]
    assert len(rows) == 5 and {r.id for r in rows} == {station[k] for k in (
        "A_reinspection", "B_oct", "A_advisory", "A_correction", "C_nov")}
    assert "5 条记录" in view.drill_label.text()
    view.drill_view.setFocus()
    view.drill_view.selectRow(0)
    window.open_selected()
    assert f"inspection:{rows[0].id}" in window._windows


def test_export_to_excel(qtbot, ctx, station, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    _window, view = _computed_q4(qtbot, ctx)
    target = tmp_path / "第四季度"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(view.xlsx_button, LEFT)
    book = load_workbook(tmp_path / "第四季度.xlsx")
    sheet = book["检查家次和户数（按药械化）"]
    assert [sheet.cell(8, c).value for c in (1, 2, 3)] == ["合计", 5, 3]


def test_a_grid_worker_has_no_statistics_tab(qtbot, ctx, station):
    from core.users import log_in
    from tests.integration.stats_station import PASSWORD

    log_in(ctx, "马红", PASSWORD)
    window = open_main_window(qtbot, ctx)
    assert window.stats_view is None and window.tabs.count() == 4


def test_a_bad_custom_range_is_refused_with_one_message(qtbot, ctx, station, monkeypatch):
    from gui import messages

    shown = []
    monkeypatch.setattr("gui.stats_view.StatsView._failed", lambda self, exc: shown.append(exc))
    monkeypatch.setattr(messages, "show_failure", lambda parent, exc, title=None: shown.append(exc))
    window = open_main_window(qtbot, ctx)
    view = click_tab(qtbot, window, window.stats_view)
    view.set_period("range", start=date(2026, 12, 1), end=date(2026, 11, 1))
    qtbot.mouseClick(view.compute_button, LEFT)
    assert len(shown) == 1 and "晚于截止日期" in shown[0].message and view.result is None


def test_problems_by_heading_are_drawn_per_checklist(qtbot, ctx, station):
    _window, view = _computed_q4(qtbot, ctx)
    chooser = view.heading_template
    assert [chooser.itemText(i) for i in range(chooser.count())] == ["5+3+1检查"]
    chart = view.chart_views[1].chart()
    assert "5+3+1检查" in chart.title()
    [axis] = [a for a in chart.axes() if hasattr(a, "categories")]
    assert axis.categories() == ["五查"]
    bars = chart.series()[0].barSets()[0]
    assert [bars.at(i) for i in range(bars.count())] == [1.0]


def test_a_plan_or_grade_row_lists_its_subjects(qtbot, ctx, station):
    _window, view = _computed_q4(qtbot, ctx)
    found = view.table_list.findItems("风险分级", Qt.MatchFlag.MatchExactly)
    assert len(found) == 1
    view.table_list.setCurrentItem(found[0])
    rows = [view.table_model.index(r, 0).data() for r in range(view.table_model.rowCount())]
    row = rows.index("期末二级风险")
    rect = view.table_view.visualRect(view.table_model.index(row, 1))
    qtbot.mouseClick(view.table_view.viewport(), LEFT, pos=rect.center())
    listed = [view.drill_model.row_at(i) for i in range(view.drill_model.rowCount())]
    assert [(r.kind, r.id) for r in listed] == [("subject", station["C"])]


def test_a_county_database_offers_a_station_filter(qtbot, ctx, tmp_path):
    """Several stations' records in one database: the 站所 chooser counts one of them, or all."""
    from tests.integration.test_stats_stations import _fill

    _fill(ctx)
    ctx.clock = lambda: __import__("datetime").datetime(2026, 12, 1, 9, 0)
    window = open_main_window(qtbot, ctx)
    view = click_tab(qtbot, window, window.stats_view)
    assert view.station_box.isVisible() and view.station_box.count() == 4  # 全部站所 + three stations
    view.set_period("quarter", 2026, 4)
    qtbot.mouseClick(view.compute_button, LEFT)
    assert "检查 7 家次、4 户" in view.summary.text()
    assert view.table_list.item(0).text() == "检查家次和户数（按站所）"
    view.station_box.setFocus()
    for _ in range(3):  # 全部站所 → the database's own → 丙所 → 乙所
        qtbot.keyClick(view.station_box, Qt.Key.Key_Down)
    assert view.station_box.currentText() == "乙所"
    qtbot.mouseClick(view.compute_button, LEFT)
    assert view.summary.text().startswith("乙所") and "检查 4 家次、2 户" in view.summary.text()
    view.table_list.setCurrentRow(0)
    view.table_view.setFocus()
    rect = view.table_view.visualRect(view.table_model.index(0, 1))
    qtbot.mouseClick(view.table_view.viewport(), LEFT, pos=rect.center())
    qtbot.waitUntil(lambda: view.drill_model.rowCount() > 0)
    assert view.drill_model.rowCount() == view.result["inspections"]["by_domain"]["cosmetics"]


def test_a_station_database_shows_no_station_filter(qtbot, ctx, station):
    window = open_main_window(qtbot, ctx)
    view = click_tab(qtbot, window, window.stats_view)
    assert not view.station_box.isVisible() and view.station_box.count() == 2
