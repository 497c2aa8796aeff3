"""导出Excel on the lists: the register, the inspection list, the lead inbox and the plan dialog each
write a workbook through core.exports on a worker (here the immediate runner); opened with openpyxl."""
from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtWidgets import QFileDialog

from tests.gui.helpers import LEFT, click_tab, open_main_window
from tests.integration.stats_station import build


@pytest.fixture
def station(ctx):
    ids = build(ctx)
    ctx.clock = lambda: datetime(2026, 12, 1, 9, 0)
    return ids


def _rows(path):
    from openpyxl import load_workbook

    sheet = load_workbook(path).active
    return sheet, [[sheet.cell(r, c).value for c in range(1, sheet.max_column + 1)] for r in range(6, sheet.max_row + 1)]


def _save_to(monkeypatch, target):
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (asked.append(a) or (str(target), "")))
    return asked


def test_register_and_inspection_list(qtbot, ctx, station, tmp_path, monkeypatch):
    window = open_main_window(qtbot, ctx)
    asked = _save_to(monkeypatch, tmp_path / "名册")
    qtbot.mouseClick(window.subjects_export_button, LEFT)
    sheet, rows = _rows(tmp_path / "名册.xlsx")  # .xlsx added to a name typed without it
    assert len(asked) == 1 and sheet["A1"].value == "监管对象名册" and len(rows) == 4
    click_tab(qtbot, window, window.tabs.widget(1))
    _save_to(monkeypatch, tmp_path / "检查.xlsx")
    qtbot.mouseClick(window.inspections_export_button, LEFT)
    _sheet, rows = _rows(tmp_path / "检查.xlsx")
    assert len(rows) == 8  # every record on the list: 7 signed and C's draft
    assert "已导出 8 条" in window.inspections_export_button.toolTip()


def test_lead_inbox_and_plan_dialog(qtbot, ctx, station, tmp_path, monkeypatch):
    from gui.plan_dialog import PlanDialog

    window = open_main_window(qtbot, ctx)
    inbox = click_tab(qtbot, window, window.lead_inbox)
    _save_to(monkeypatch, tmp_path / "线索.xlsx")
    qtbot.mouseClick(inbox.export_button, LEFT)
    _sheet, rows = _rows(tmp_path / "线索.xlsx")
    assert [r[3] for r in rows] == ["某诊所", "某诊所"] and rows[0][1] == datetime(2026, 11, 2, 9, 0)
    dialog = PlanDialog(ctx, parent=window)
    qtbot.addWidget(dialog)
    dialog.year.setValue(2026)
    _save_to(monkeypatch, tmp_path / "计划.xlsx")
    qtbot.mouseClick(dialog.export_button, LEFT)
    sheet, rows = _rows(tmp_path / "计划.xlsx")
    assert sheet["A1"].value == "2026年度双随机抽查计划及抽取结果" and "随机种子 7" in sheet["A3"].value
    assert len(rows) >= 1 and rows[0][0] == 1


def test_a_year_without_a_plan_is_one_message(qtbot, ctx, station, tmp_path, monkeypatch):
    from gui import operations
    from gui.plan_dialog import PlanDialog

    shown = []
    monkeypatch.setattr(operations, "show_failure", lambda parent, exc, title=None: shown.append(exc))
    window = open_main_window(qtbot, ctx)
    dialog = PlanDialog(ctx, parent=window)
    qtbot.addWidget(dialog)
    dialog.year.setValue(2031)
    _save_to(monkeypatch, tmp_path / "x.xlsx")
    qtbot.mouseClick(dialog.export_button, LEFT)
    assert len(shown) == 1 and "2031年尚未抽取" in shown[0].message and not (tmp_path / "x.xlsx").exists()
