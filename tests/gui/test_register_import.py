"""导入名册 through the real dialog: a station's sheet previewed, then imported; a fake .xlsx refused in Chinese."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from core.subjects import count_subjects
from gui.import_dialog import RegisterImportDialog
from tests.gui.helpers import LEFT, open_main_window
from tests.support.registers import GOOD, REJECTED_ROWS, write_station_register


def _pick(monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))


def _cell(dialog, row: int, column: int) -> str:
    return dialog.model.index(row, column).data()


def test_preview_then_import_a_station_register(ctx, qtbot, monkeypatch, tmp_path):
    window = open_main_window(qtbot, ctx)
    _pick(monkeypatch, write_station_register(tmp_path / "名册.xlsx"))
    window.import_action.trigger()
    dialog = window.findChild(RegisterImportDialog)
    assert dialog is not None and dialog.isVisible()
    assert "表头在第 4 行" in dialog.mapping.text()
    assert "企业名称 → 名称" in dialog.mapping.text() and "主体类型 → 类别" in dialog.mapping.text()
    assert "将导入 4 个" in dialog.counts.text() and "拒绝 3 行" in dialog.counts.text()
    assert dialog.model.rowCount() == 7
    names = [_cell(dialog, r, 1) for r in range(dialog.model.rowCount())]
    outcomes = {int(_cell(dialog, r, 0)): _cell(dialog, r, 5) for r in range(dialog.model.rowCount())}
    assert names[:4] == GOOD
    assert _cell(dialog, 0, 3) == "化妆品经营者"  # 美容院
    assert _cell(dialog, 3, 3) == "医疗美容机构"  # 医美
    assert _cell(dialog, 0, 2).isascii()  # the full-width code, folded
    for row, words in REJECTED_ROWS.items():
        assert outcomes[row].startswith("拒绝") and words in outcomes[row]
    assert count_subjects(ctx) == 0  # nothing yet

    qtbot.mouseClick(dialog.import_button, LEFT)
    assert count_subjects(ctx) == 4
    assert "已导入 4 个" in dialog.result.text()
    assert not dialog.import_button.isEnabled() and dialog.close_button.text() == "关闭"
    assert window.subject_model.rowCount() == 4 and "共 4 个" in window.subject_count.text()


def test_rejected_rows_saved_from_the_dialog(ctx, qtbot, monkeypatch, tmp_path):
    from openpyxl import load_workbook

    window = open_main_window(qtbot, ctx)
    _pick(monkeypatch, write_station_register(tmp_path / "名册.xlsx"))
    window.import_action.trigger()
    dialog = window.findChild(RegisterImportDialog)
    target = tmp_path / "改正.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(dialog.export_button, LEFT)
    assert "已保存到" in dialog.result.text()
    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert len(rows) == 1 + len(REJECTED_ROWS) and rows[0][-1] == "拒绝原因"


def test_a_fake_xlsx_gets_one_chinese_message(ctx, qtbot, monkeypatch, tmp_path, message_boxes):
    fake = tmp_path / "名册.xlsx"
    fake.write_bytes(b"<html>not a workbook</html>")
    window = open_main_window(qtbot, ctx)
    _pick(monkeypatch, fake)
    window.import_action.trigger()
    assert window.findChild(RegisterImportDialog) is None
    assert len(message_boxes.shown) == 1
    kind, title, text = message_boxes.shown[0]
    assert (kind, title) == ("warning", "无法导入名册")
    assert "不是有效的 Excel 文件" in text and "zip" not in text.lower()
