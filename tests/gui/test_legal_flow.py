"""The legal elements in the editor: a one-officer visit orders nothing, a refusal and an absence
each with their witness, the appeal settings (issue 11)."""
from __future__ import annotations

from io import BytesIO

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QDialogButtonBox, QFileDialog, QMessageBox, QPushButton
from pypdf import PdfReader

from core import inspections as svc
from gui.print_preview import PrintPreviewDialog
from gui.settings_dialog import SettingsDialog
from tests.gui.test_inspection_flow import _settle, _sign_button, draw_signatures  # noqa: F401 (fixture)
from tests.gui.helpers import open_editor

LEFT = Qt.MouseButton.LeftButton


def _answer(qtbot, type_text, editor, failures: dict[str, str]) -> None:
    for code, row in editor.rows.items():
        qtbot.mouseClick(row.buttons["fail" if code in failures else "pass"], LEFT)
        if code in failures:
            row.note.setFocus()
            type_text(row.note, failures[code])
            qtbot.keyClick(row.note, Qt.Key.Key_Return)
            if row.facts.case is not None:
                row.facts.case.setFocus()
                qtbot.keyClick(row.facts.case, Qt.Key.Key_Down)


def _type_legal(qtbot, type_text, editor, key: str, text: str) -> None:
    field = editor.legal_panel.fields[key]
    field.setFocus()
    type_text(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def _click_box(qtbot, box: QCheckBox) -> None:
    qtbot.mouseClick(box, LEFT, pos=QPoint(6, box.height() // 2))


def test_one_officer_visit_is_a_patrol_record_and_cannot_print_an_order(ctx, subject, qtbot, type_text,
                                                                        message_boxes, monkeypatch):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", [svc.OfficerData("王建国", "41170021001")],
                                         kind="routine")
    editor = open_editor(qtbot, ctx, inspection_id)
    _answer(qtbot, type_text, editor, {"G1": "无进货查验记录"})
    qtbot.mouseClick(editor.complete_button, LEFT)
    assert editor.message.text() == ""
    record = svc.load_inspection(ctx, inspection_id)
    assert record.status == "completed" and record.rectification is None  # nothing ordered
    assert not editor.rect_box.isVisibleTo(editor)

    [order] = [a for a in editor.print_menu.actions() if a.data() == "rectification"]
    order.trigger()
    [text] = message_boxes.texts("information")
    assert "不能出具责令改正通知书" in text and "两名以上" in text and "巡查记录" in text

    titles = []
    monkeypatch.setattr(PrintPreviewDialog, "exec", lambda dialog: titles.append(dialog.windowTitle()) or 0)
    [action] = [a for a in editor.print_menu.actions() if a.data() == "record"]
    action.trigger()
    assert titles == [f"巡查记录 {record.number}"]


def test_refusal_with_reason_and_witness_signed_in_the_editor(ctx, subject, officers, qtbot, type_text, message_boxes,
                                                             monkeypatch, draw_signatures, tmp_path,  # noqa: F811
                                                             officer_sign):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    editor = open_editor(qtbot, ctx, inspection_id)
    _answer(qtbot, type_text, editor, {"G1": "无进货查验记录"})
    qtbot.mouseClick(editor.complete_button, LEFT)
    assert svc.load_inspection(ctx, inspection_id).rectification is not None
    _click_box(qtbot, editor.refused)
    editor.witness.setFocus()
    type_text(editor.witness, "孙丽")
    qtbot.keyClick(editor.witness, Qt.Key.Key_Return)
    _type_legal(qtbot, type_text, editor, "refusal_reason", "不认可检查结果")
    _click_box(qtbot, editor.legal_panel.order_refused)
    _type_legal(qtbot, type_text, editor, "order_refusal_reason", "拒绝签收")
    # signing is refused until the witness can be found again: unit and phone
    message_boxes.answer = QMessageBox.StandardButton.Yes
    for role in ("witness", "officer1", "officer2"):
        qtbot.mouseClick(_sign_button(editor, role), LEFT)
    assert editor.findChild(QPushButton, "sign-party") is None and editor.findChild(QPushButton, "sign-party_order") is None
    qtbot.mouseClick(editor.sign_button, LEFT)
    assert "见证人的身份证件号码或工作单位、联系电话" in editor.message.text()
    _type_legal(qtbot, type_text, editor, "witness_id", "丽人服装店经营者")
    _type_legal(qtbot, type_text, editor, "witness_phone", "13783960021")
    qtbot.mouseClick(editor.sign_button, LEFT)
    record = svc.load_inspection(ctx, inspection_id)
    assert record.status == "signed", editor.message.text()
    assert record.legal["refusal_reason"] == "不认可检查结果" and record.legal["witness_phone"] == "13783960021"

    out = tmp_path / "order.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    monkeypatch.setattr(PrintPreviewDialog, "exec", lambda dialog: qtbot.mouseClick(dialog.save_button, LEFT) or 1)
    [order] = [a for a in editor.print_menu.actions() if a.data() == "rectification"]
    order.trigger()
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(BytesIO(out.read_bytes())).pages)
    assert "当事人拒绝签收本通知书，理由：拒绝签收" in text and "孙丽" in text
    assert "以上通知已收到" not in text


def test_absence_and_refusal_exclude_each_other_and_absence_needs_no_party_signature(ctx, subject, officers, qtbot,
                                                                                     type_text):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    editor = open_editor(qtbot, ctx, inspection_id)
    editor.tabs.setCurrentIndex(1)
    _click_box(qtbot, editor.legal_panel.absent)
    assert svc.load_inspection(ctx, inspection_id).legal.get("party_absent") is True
    _click_box(qtbot, editor.refused)
    assert "不在场与当事人拒绝签字不能同时选择" in editor.message.text()
    record = svc.load_inspection(ctx, inspection_id)
    assert not record.party_refused and not editor.refused.isChecked()
    roles = svc.signature_roles(record)
    assert svc.PARTY_ROLE not in roles and svc.WITNESS_ROLE in roles


def test_settings_dialog_saves_the_appeal_organ_and_time_limits(ctx, qtbot, type_text):
    dialog = SettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.review_organ.selectAll()
    type_text(dialog.review_organ, "驻马店市驿城区人民政府")
    dialog.lawsuit_months.setFocus()
    dialog.lawsuit_months.selectAll()
    qtbot.keyClicks(dialog.lawsuit_months, "12")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), LEFT)
    assert dialog.message.text() == ""
    assert ctx.setting("review_organ") == "驻马店市驿城区人民政府"
    assert ctx.setting("lawsuit_months") == "12"


def test_station_refuses_an_appeal_period_under_sixty_days(ctx):
    from dataclasses import replace

    from core.errors import InvalidInput
    from core.station import get_settings, update_settings

    with pytest.raises(InvalidInput, match="六十日"):
        update_settings(ctx, replace(get_settings(ctx), review_days=30))
    assert ctx.setting("review_days") == "60"
