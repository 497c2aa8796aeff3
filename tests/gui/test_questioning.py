"""A 询问笔录 recorded through the real widgets: from the inspection editor's 询问笔录… button,
the person typed in, questions and answers added, edited and reordered, signatures drawn,
locked, previewed; the PDF's text and QR checked."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog

from core import questioning as q
from core.verification import make_payload, verify_payload
from gui.print_preview import PrintPreviewDialog
from gui.signature_pad import SignatureDialog
from tests.gui.helpers import LEFT, open_editor
from tests.integration.helpers import register_officers, signed_inspection
from tests.integration.pdfcheck import decode_qr, pdf_text

PERSON = "李小梅"


@pytest.fixture
def draw(qtbot, monkeypatch):
    drawn = []

    def fake_exec(dialog: SignatureDialog) -> int:
        dialog.show()
        qtbot.waitExposed(dialog)
        qtbot.mousePress(dialog.pad, LEFT, pos=QPoint(40, 120))
        for step in range(1, 9):
            qtbot.mouseMove(dialog.pad, QPoint(40 + step * 30, 120 - (step % 3) * 20))
        qtbot.mouseRelease(dialog.pad, LEFT, pos=QPoint(290, 110))
        drawn.append(dialog.windowTitle())
        qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok), LEFT)
        return dialog.result()

    monkeypatch.setattr(SignatureDialog, "exec", fake_exec)
    return drawn


def test_record_a_questioning_through_the_widgets(ctx, subject, officers, qtbot, type_text, message_boxes, draw,
                                                  monkeypatch, tmp_path):
    register_officers(ctx)
    inspection_id = signed_inspection(ctx, subject.id, officers)
    editor = open_editor(qtbot, ctx, inspection_id)
    qtbot.mouseClick(editor.questioning_button, LEFT)
    dialog = editor.questioning_dialog
    qtbot.waitExposed(dialog)
    assert not dialog.body.isEnabled()  # no number is taken until asked for
    qtbot.mouseClick(dialog.new_button, LEFT)
    assert dialog.record is not None and dialog.record.number.startswith("示市监询")

    for key, text in (("name", PERSON), ("id_no", "410102199001011234"), ("unit", "测试化妆品店"),
                      ("position", "店长"), ("phone", "13800000001"), ("address", "驻马店市测试路2号"),
                      ("relation", "当事人的店长")):
        type_text(dialog.person[key], text)
    dialog.person["sex"].setFocus()
    qtbot.keyClick(dialog.person["sex"], Qt.Key.Key_Down)
    qtbot.keyClick(dialog.person["sex"], Qt.Key.Key_Down)  # 女
    type_text(dialog.recorder, "李秀英")
    type_text(dialog.notice_answer, "看清楚了")
    type_text(dialog.recusal_answer, "不申请")
    for question, answer in (("这批保湿乳从哪里进的货？", "从批发市场。"), ("有没有进货查验记录？", "没有。"),
                             ("你是什么职务？", "店长。")):
        type_text(dialog.question, question)
        type_text(dialog.answer, answer)
        qtbot.mouseClick(dialog.add_button, LEFT)
    assert dialog.qa_list.count() == 3
    # the third question belongs first: select it and move it up twice
    qtbot.mouseClick(dialog.qa_list.viewport(), LEFT, pos=dialog.qa_list.visualItemRect(dialog.qa_list.item(2)).center())
    qtbot.mouseClick(dialog.up_button, LEFT)
    qtbot.mouseClick(dialog.up_button, LEFT)
    # correct the answer of what is now the third
    qtbot.mouseClick(dialog.qa_list.viewport(), LEFT, pos=dialog.qa_list.visualItemRect(dialog.qa_list.item(2)).center())
    assert dialog.question.text() == "有没有进货查验记录？"
    dialog.answer.clear()
    type_text(dialog.answer, "没有做进货查验记录。")
    qtbot.mouseClick(dialog.edit_button, LEFT)
    record = q.load_questioning(ctx, dialog.record.id)
    assert [item["q"] for item in record.qa] == ["你是什么职务？", "这批保湿乳从哪里进的货？", "有没有进货查验记录？"]
    assert record.qa[2]["a"] == "没有做进货查验记录。" and record.person["sex"] == "女"

    # signing before the confirmation is refused with one message, nothing changes
    qtbot.mouseClick(dialog.findChild(type(dialog.new_button), "sign-q-person"), LEFT)
    assert "确认意见" in dialog.message.text() and not q.load_questioning(ctx, dialog.record.id).signatures
    qtbot.mouseClick(dialog.confirm_button, LEFT)
    for role in q.signature_roles(record):
        qtbot.mouseClick(dialog.findChild(type(dialog.new_button), f"sign-q-{role}"), LEFT)
    assert len(draw) == 4 and dialog.message.text() == ""  # the refused try and three signatures
    qtbot.mouseClick(dialog.lock_button, LEFT)
    record = q.load_questioning(ctx, dialog.record.id)
    assert record.locked, dialog.message.text()
    assert not dialog.add_button.isEnabled()

    out = tmp_path / "询问笔录.pdf"

    def save_from_preview(preview: PrintPreviewDialog) -> int:
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF 文件 (*.pdf)"))
        qtbot.mouseClick(preview.save_button, LEFT)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(PrintPreviewDialog, "exec", save_from_preview)
    qtbot.mouseClick(dialog.print_button, LEFT)
    text = "".join(pdf_text(out).split())
    for element in ("询问笔录", record.number, PERSON, "410102199001011234", "店长", "李秀英", "看清楚了",
                    "问：你是什么职务？", "答：没有做进货查验记录。", "以上笔录我已看过，与我说的相符", "被询问人签名"):
        assert element in text, element
    assert text.index("你是什么职务") < text.index("这批保湿乳") < text.index("有没有进货查验记录")
    payload = make_payload(record, q.FORM)
    assert decode_qr(out) == [payload]
    assert verify_payload(ctx, payload).ok


def test_void_a_draft_questioning_through_the_widgets(ctx, subject, officers, qtbot, type_text, monkeypatch):
    from core.void_register import list_voided
    from gui.questioning_dialog import VoidQuestioningDialog

    register_officers(ctx)
    inspection_id = signed_inspection(ctx, subject.id, officers)
    editor = open_editor(qtbot, ctx, inspection_id)
    qtbot.mouseClick(editor.questioning_button, LEFT)
    dialog = editor.questioning_dialog
    qtbot.mouseClick(dialog.new_button, LEFT)
    type_text(dialog.question, "你是这家店的负责人吗？")
    qtbot.mouseClick(dialog.add_button, LEFT)
    number = dialog.record.number
    seen = []

    def fill(void: VoidQuestioningDialog) -> int:
        void.show()
        save = void.buttons.button(QDialogButtonBox.StandardButton.Save)
        qtbot.mouseClick(save, LEFT)  # no reason: refused, stays open
        seen.append(void.message.text())
        type_text(void.reason, "被询问人不是本案相关人员")
        qtbot.mouseClick(save, LEFT)
        return void.result()

    monkeypatch.setattr(VoidQuestioningDialog, "exec", fill)
    qtbot.mouseClick(dialog.void_button, LEFT)
    assert seen == ["请填写作废原因"]
    record = q.load_questioning(ctx, dialog.record.id)
    assert record.status == "voided" and len(record.qa) == 1  # kept, read-only
    entries = [v for v in list_voided(ctx) if v.number == number]
    assert len(entries) == 1 and entries[0].doc_label == "询问笔录"
    assert "已作废" in dialog.number.text()
    assert not dialog.add_button.isEnabled() and not dialog.void_button.isEnabled()
    assert not dialog.lock_button.isEnabled()
