"""A 送达回证 recorded through the real widgets, from the signed record's 送达回证… button: the
recipient refuses, so 留置送达 with the reason, a witness and the video reference; a missing
witness is refused first with one message; the preview's PDF holds the elements and verifies."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog

from core import service_receipts as sr
from core.verification import make_payload, verify_payload
from gui.print_preview import PrintPreviewDialog
from gui.service_dialog import ServiceDialog
from tests.gui.helpers import LEFT, open_editor
from tests.integration.helpers import register_officers, signed_inspection
from tests.integration.pdfcheck import decode_qr, pdf_text

SAVE = QDialogButtonBox.StandardButton.Save


def test_record_a_refused_service_through_the_widgets(ctx, subject, officers, qtbot, type_text, monkeypatch,
                                                      tmp_path):
    register_officers(ctx)
    inspection_id = signed_inspection(ctx, subject.id, officers)
    editor = open_editor(qtbot, ctx, inspection_id)
    assert editor.actions.serve_button.isVisible()  # a signed record can be served
    order = editor.record.rectification.number
    seen = []

    def fill(dialog: ServiceDialog) -> int:
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.document.currentData() == "rectification" and order in dialog.document.currentText()
        assert not dialog.witness.isEnabled()  # only for 留置送达
        dialog.method.setFocus()
        while dialog.method.currentData() != sr.LEFT:
            qtbot.keyClick(dialog.method, Qt.Key.Key_Down)
        assert dialog.witness.isEnabled() and not dialog.mail_no.isEnabled()
        type_text(dialog.reason, "当事人称不认可检查结果，拒绝签收")
        qtbot.mouseClick(dialog.buttons.button(SAVE), LEFT)  # no witness yet: refused, nothing recorded
        seen.append(dialog.message.text())
        type_text(dialog.witness, "王社区")
        type_text(dialog.witness_unit, "测试社区居委会")
        type_text(dialog.media, "执法记录仪 DSJ-01 文件 20260512_0931.mp4")
        qtbot.mouseClick(dialog.buttons.button(SAVE), LEFT)
        return dialog.result()

    out = tmp_path / "送达回证.pdf"

    def save_from_preview(preview: PrintPreviewDialog) -> int:
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF 文件 (*.pdf)"))
        qtbot.mouseClick(preview.save_button, LEFT)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ServiceDialog, "exec", fill)
    monkeypatch.setattr(PrintPreviewDialog, "exec", save_from_preview)
    qtbot.mouseClick(editor.actions.serve_button, LEFT)
    assert len(seen) == 1 and "留置送达须写明见证人姓名、见证人单位" in seen[0] and "\n" not in seen[0]
    [receipt] = sr.list_receipts(ctx, inspection_id)
    assert receipt.locked and receipt.content["method"] == sr.LEFT and receipt.content["witness_name"] == "王社区"
    text = "".join(pdf_text(out).split())
    for element in ("送达回证", receipt.number, "责令改正通知书", order, "留置送达", "受送达人拒绝签收",
                    "当事人称不认可检查结果，拒绝签收", "王社区", "测试社区居委会", "DSJ-01", "送达人"):
        assert element.replace(" ", "") in text, element
    payload = make_payload(receipt, sr.FORM)
    assert decode_qr(out) == [payload]
    assert verify_payload(ctx, payload).ok


def test_a_draft_record_offers_no_service(ctx, subject, officers, qtbot):
    from core import inspections as svc

    draft = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    editor = open_editor(qtbot, ctx, draft)
    assert not editor.actions.serve_button.isVisible() and editor.actions.void_button.isVisible()
