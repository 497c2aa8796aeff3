"""Single screens: search, the subject dialog, verification, the table models, printing."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QMessageBox

import gui.print_preview
from core.inspections import list_inspections, load_inspection
from core.subjects import SubjectData, add_subject, count_subjects
from core.verification import make_payload
from gui.inspection_editor import InspectionEditor
from gui.jobs import ImmediateRunner
from gui.main_window import MainWindow
from tests.gui.helpers import open_main_window
from gui.models import ROW_ROLE, InspectionTableModel, SubjectTableModel
from gui.print_preview import PrintPreviewDialog
from gui.signature_pad import SignatureDialog
from gui.subject_dialog import SubjectDialog
from gui.subject_page import SubjectPage
from gui.verify_dialog import VerifyDialog

LEFT = Qt.MouseButton.LeftButton


def _main_window(qtbot, ctx) -> MainWindow:
    return open_main_window(qtbot, ctx)


def _signed(ctx, *, with_rectification: bool = True):
    for summary in list_inspections(ctx):
        if summary.status == "signed" and bool(summary.failed) == with_rectification:
            return load_inspection(ctx, summary.id)
    raise AssertionError("no such demo inspection")


# --- search -------------------------------------------------------------------------

def test_search_box_filters_the_subject_list(ctx, subject, qtbot, type_text):
    add_subject(ctx, SubjectData(name="驿城区康宁医疗器械有限公司", category="device_operator",
                                 address="驻马店市开发区金山路99号"))
    window = _main_window(qtbot, ctx)
    assert window.subject_model.rowCount() == 2
    assert window.subject_count.text() == "共 2 个监管对象"

    type_text(window.search, "化妆品")  # part of the name, typed like an input method does
    qtbot.waitUntil(lambda: window.subject_model.rowCount() == 1, timeout=10000)
    assert window.subject_model.row_at(0).name == subject.name
    assert window.subject_count.text() == "找到 1 个（共 2 个）"

    # Enter moves to the results; 打开 opens the selected subject's page
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    assert window.subject_view.currentIndex().data(ROW_ROLE).id == subject.id
    window.open_action.trigger()
    [page] = [w for w in window._open_windows if isinstance(w, SubjectPage)]
    assert page.subject_id == subject.id

    window.search.clear()  # the clear button does the same
    qtbot.waitUntil(lambda: window.subject_model.rowCount() == 2, timeout=10000)

    qtbot.keyClicks(window.search, "Y43")  # any part of the credit code
    qtbot.waitUntil(lambda: window.subject_model.rowCount() == 1, timeout=10000)
    assert window.subject_model.row_at(0).id == subject.id

    window.search.clear()
    type_text(window.search, "不存在的店")
    qtbot.waitUntil(lambda: window.subject_model.rowCount() == 0, timeout=10000)
    assert window.subject_count.text() == "找到 0 个（共 2 个）"


# --- the subject dialog ---------------------------------------------------------------

def test_subject_dialog_refuses_a_wrong_credit_code(ctx, qtbot, type_text):
    before = count_subjects(ctx)
    dialog = SubjectDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(dialog.name, "错误代码测试店")
    qtbot.keyClicks(dialog.credit_code, "91350100")
    assert dialog.code_hint.text() == "已输入 8 位"
    qtbot.keyClicks(dialog.credit_code, "M000100Y44")
    assert "第18位应为“3”" in dialog.code_hint.text()

    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), LEFT)

    assert dialog.message.text() == "统一社会信用代码校验位错误：第18位应为“3”，而不是“4”"
    assert dialog.saved is None
    assert dialog.isVisible()  # still open, for the code to be corrected
    assert count_subjects(ctx) == before

    # correcting the last character lets it save
    qtbot.keyClick(dialog.credit_code, Qt.Key.Key_Backspace)
    qtbot.keyClicks(dialog.credit_code, "3")
    assert dialog.code_hint.text() == "代码校验通过"
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), LEFT)
    assert dialog.saved is not None and dialog.saved.credit_code == "91350100M000100Y43"
    assert count_subjects(ctx) == before + 1


def test_subject_dialog_refuses_a_credit_code_already_registered(ctx, subject, qtbot, type_text):
    dialog = SubjectDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(dialog.name, "另一家店")
    qtbot.keyClicks(dialog.credit_code, subject.credit_code.lower())  # typed in lower case
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), LEFT)
    assert subject.name in dialog.message.text()
    assert dialog.saved is None
    assert count_subjects(ctx) == 1


# --- the signature dialog ---------------------------------------------------------------

def test_signature_dialog_wants_a_drawing_and_a_name(qtbot):
    dialog = SignatureDialog("当事人签名")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)

    qtbot.mouseClick(ok, LEFT)
    assert dialog.message.text() == "请先签名"
    assert dialog.isVisible()

    qtbot.mousePress(dialog.pad, LEFT, pos=QPoint(30, 90))
    qtbot.mouseMove(dialog.pad, QPoint(120, 60))
    qtbot.mouseRelease(dialog.pad, LEFT, pos=QPoint(120, 60))
    assert not dialog.pad.is_empty()
    qtbot.mouseClick(ok, LEFT)
    assert dialog.message.text() == "请填写签名人姓名"

    clear = next(b for b in dialog.findChild(QDialogButtonBox).buttons() if b.text() == "重写(&R)")
    qtbot.mouseClick(clear, LEFT)
    assert dialog.pad.is_empty()

    from PIL import Image
    from io import BytesIO

    qtbot.mousePress(dialog.pad, LEFT, pos=QPoint(30, 90))
    qtbot.mouseMove(dialog.pad, QPoint(200, 100))
    qtbot.mouseRelease(dialog.pad, LEFT, pos=QPoint(200, 100))
    qtbot.keyClicks(dialog.name, "Zhang San")
    qtbot.mouseClick(ok, LEFT)
    assert dialog.result() == SignatureDialog.DialogCode.Accepted
    with Image.open(BytesIO(dialog.pad.png())) as image:
        assert image.format == "PNG"
        assert image.getextrema()[3][1] > 0  # something was drawn on the transparent background


# --- verification ---------------------------------------------------------------------------

def test_verify_dialog_accepts_a_true_payload_and_refuses_a_tampered_one(demo_ctx, qtbot, type_text):
    record = _signed(demo_ctx)
    payload = make_payload(record, "record")
    dialog = VerifyDialog(demo_ctx)
    qtbot.addWidget(dialog)
    dialog.show()

    type_text(dialog.payload, payload)
    qtbot.mouseClick(dialog.check_button, LEFT)
    assert dialog.result.text().startswith("✔"), dialog.result.text()
    assert record.number in dialog.result.text()

    last = payload[-1]
    tampered = payload[:-1] + ("0" if last != "0" else "1")
    dialog.payload.clear()
    type_text(dialog.payload, tampered)
    qtbot.keyClick(dialog.payload, Qt.Key.Key_Return)  # a scanner ends with Enter
    assert dialog.result.text().startswith("✘"), dialog.result.text()
    assert "已被改动" in dialog.result.text()

    dialog.payload.clear()
    qtbot.keyClicks(dialog.payload, "hello")
    qtbot.mouseClick(dialog.check_button, LEFT)
    assert dialog.result.text().startswith("✘")


def test_verify_dialog_refuses_an_unsigned_draft(demo_ctx, qtbot, type_text):
    draft = next(s for s in list_inspections(demo_ctx) if s.status == "draft")
    payload = make_payload(load_inspection(demo_ctx, draft.id), "record")
    dialog = VerifyDialog(demo_ctx)
    qtbot.addWidget(dialog)
    type_text(dialog.payload, payload)
    qtbot.mouseClick(dialog.check_button, LEFT)
    assert dialog.result.text().startswith("✘")
    assert "尚未签名锁定" in dialog.result.text()


# --- the table models ---------------------------------------------------------------------------

def test_subject_table_model(demo_ctx, qtmodeltester):
    from core.subjects import search_subjects

    model = SubjectTableModel()
    model.set_rows(search_subjects(demo_ctx))
    assert model.rowCount() == count_subjects(demo_ctx) > 0
    qtmodeltester.check(model)
    flagged = [r for r in range(model.rowCount()) if not model.row_at(r).credit_code]
    assert flagged  # the demo has a shop without a credit code: shown in orange
    for r in flagged:
        assert model.index(r, 1).data() == "（无代码）"
        assert model.index(r, 0).data(Qt.ItemDataRole.ForegroundRole) is not None


def test_inspection_table_model(demo_ctx, qtmodeltester):
    rows = list_inspections(demo_ctx)
    model = InspectionTableModel()
    model.set_rows(rows)
    assert model.rowCount() == len(rows) > 0
    qtmodeltester.check(model)
    statuses = {model.index(r, 4).data() for r in range(model.rowCount())}
    assert {"已签名", "草稿"} <= statuses
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == [r.number for r in rows]
    model.set_rows([])
    qtmodeltester.check(model)


def test_main_window_models_pass_the_model_tester(demo_ctx, qtbot, qtmodeltester):
    window = _main_window(qtbot, demo_ctx)
    qtmodeltester.check(window.subject_model)
    qtmodeltester.check(window.inspection_model)

    # the 检查记录 tab: Enter on a row opens that inspection in an editor
    window.tabs.setCurrentIndex(1)
    model = window.inspection_model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).status == "draft")
    window.inspection_view.setCurrentIndex(model.index(row, 0))
    qtbot.keyClick(window.inspection_view, Qt.Key.Key_Return)
    [editor] = [w for w in window._open_windows if isinstance(w, InspectionEditor)]
    assert editor.inspection_id == model.row_at(row).id
    assert editor.complete_button.isEnabled() and not editor.sign_button.isEnabled()


# --- printing ---------------------------------------------------------------------------------------

def _preview(qtbot, ctx, form="record") -> tuple[PrintPreviewDialog, bytes]:
    from core.printing import render_pdf

    record = _signed(ctx)
    pdf = render_pdf(record, form, organ=ctx.setting("organ_name"))
    dialog = PrintPreviewDialog(pdf, f"现场检查笔录 {record.number}", f"现场检查笔录-{record.number}.pdf")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog, pdf


def test_print_without_printers_offers_to_save_a_pdf(demo_ctx, qtbot, monkeypatch, message_boxes, tmp_path):
    monkeypatch.setattr(gui.print_preview.QPrinterInfo, "availablePrinters", lambda *a: [])
    message_boxes.answer = QMessageBox.StandardButton.Yes
    out = tmp_path / "待打印.pdf"
    asked = []

    def save_as(_parent, _title, default, _filter, *args, **kwargs):
        asked.append(default)
        return str(out), "PDF 文件 (*.pdf)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    dialog, pdf = _preview(qtbot, demo_ctx)
    assert dialog.document.pageCount() >= 1

    qtbot.mouseClick(dialog.print_button, LEFT)

    assert message_boxes.texts("question") == ["本机没有可用的打印机。是否另存为 PDF，稍后再打印？"]
    assert asked and asked[0].endswith(dialog.default_name)
    assert out.read_bytes() == pdf
    assert not list(tmp_path.glob(".*.part"))  # no temp file left beside it
    assert dialog.saved_label.text() == f"✔ 已保存到 {out}" and dialog.saved_label.isVisible()


def test_print_without_printers_saves_nothing_when_declined(demo_ctx, qtbot, monkeypatch, message_boxes, tmp_path):
    monkeypatch.setattr(gui.print_preview.QPrinterInfo, "availablePrinters", lambda *a: [])
    message_boxes.answer = QMessageBox.StandardButton.No
    dialog, _pdf = _preview(qtbot, demo_ctx)  # an unpatched file dialog would fail the test
    qtbot.mouseClick(dialog.print_button, LEFT)
    assert len(message_boxes.texts("question")) == 1
