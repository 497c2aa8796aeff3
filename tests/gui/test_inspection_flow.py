"""A whole inspection through the real widgets: subject → inspection → signatures → PDF."""
from __future__ import annotations

from io import BytesIO

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QPushButton,
)

from core.attachments import read_attachment
from core import inspections as svc
from core.errors import RecordLocked
from core.verification import make_payload, verify_payload
from gui.inspection_editor import InspectionEditor
from gui.jobs import ImmediateRunner
from gui.main_window import MainWindow
from tests.integration.pdfcheck import decode_qr
from gui.new_inspection_dialog import NewInspectionDialog
from gui.print_preview import PrintPreviewDialog
from gui.signature_pad import SignatureDialog
from gui.subject_dialog import SubjectDialog
from gui.subject_page import SubjectPage
from gui.verify_dialog import VerifyDialog

NAME = "闽侯县测试美妆商行"
CODE = "91350100M000100Y43"
ADDRESS = "福州市闽侯县测试路8号"
OFFICERS = [("王建国", "41170021001"), ("李秀英", "41170021002")]
FAILURES = {"B2": "货架上1批次化妆品无备案信息", "G1": "无法提供进货查验记录"}
PRODUCT = {"name": "某品牌面膜", "spec": "25 mL×5片", "batch": "20260318", "quantity": "6盒"}
PARTY = "陈店长"
LEFT = Qt.MouseButton.LeftButton


def _settle() -> None:
    """Run the events the loop would run between two clicks (queued shows, deleteLater)."""
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _sign_button(editor: InspectionEditor, role: str) -> QPushButton:
    _settle()
    button = editor.findChild(QPushButton, f"sign-{role}")
    assert button is not None and button.isVisible(), role
    return button


@pytest.fixture
def draw_signatures(qtbot, monkeypatch, type_text):
    """SignatureDialog.exec: draw a stroke with the mouse, fill the name if empty, confirm."""
    drawn = []

    def fake_exec(dialog: SignatureDialog) -> int:
        dialog.show()
        qtbot.waitExposed(dialog)
        pad = dialog.pad
        qtbot.mousePress(pad, LEFT, pos=QPoint(40, 120))
        for step in range(1, 11):
            qtbot.mouseMove(pad, QPoint(40 + step * 25, 120 - (step % 3) * 20))
        qtbot.mouseRelease(pad, LEFT, pos=QPoint(290, 110))
        drawn.append((dialog.windowTitle(), len(pad.strokes), pad.strokes[-1].elementCount()))
        if not dialog.name.text().strip():
            type_text(dialog.name, PARTY)
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, LEFT)
        return dialog.result()

    monkeypatch.setattr(SignatureDialog, "exec", fake_exec)
    return drawn


def test_whole_inspection_from_new_subject_to_saved_pdf(
    ctx, qtbot, monkeypatch, type_text, message_boxes, png_file, tmp_path, draw_signatures, officer_sign
):
    from pypdf import PdfReader

    from core.subjects import search_subjects

    window = MainWindow(ctx, runner=ImmediateRunner())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.subject_model.rowCount() == 0

    # --- the subject, typed into the real dialog ---------------------------------------
    def fill_subject(dialog: SubjectDialog) -> int:
        dialog.show()
        type_text(dialog.name, NAME)
        qtbot.keyClicks(dialog.credit_code, CODE)
        assert dialog.code_hint.text() == "代码校验通过"
        type_text(dialog.address, ADDRESS)
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), LEFT)
        return dialog.result()

    monkeypatch.setattr(SubjectDialog, "exec", fill_subject)
    window.add_action.trigger()

    names = [window.subject_model.row_at(r).name for r in range(window.subject_model.rowCount())]
    assert names == [NAME]
    assert "共 1 个监管对象" in window.subject_count.text()
    [saved] = search_subjects(ctx, NAME)
    assert (saved.credit_code, saved.address) == (CODE, ADDRESS)
    pages = [w for w in window._open_windows if isinstance(w, SubjectPage)]
    assert len(pages) == 1 and pages[0].subject_id == saved.id
    page = pages[0]
    qtbot.waitExposed(page)

    # --- a new inspection, officers typed into the real dialog ------------------------------
    def fill_inspection(dialog: NewInspectionDialog) -> int:
        dialog.show()
        assert dialog.template.currentData() == "cosmetics-531"  # the checklist for a cosmetics shop
        assert dialog.place.text() == ADDRESS
        for (name, cert), name_edit, cert_edit in zip(OFFICERS, dialog.officer_names, dialog.officer_certs):
            type_text(name_edit, name)
            qtbot.keyClicks(cert_edit, cert)
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, LEFT)
        assert dialog.message.text() == ""
        return dialog.result()

    monkeypatch.setattr(NewInspectionDialog, "exec", fill_inspection)
    qtbot.mouseClick(page.new_button, LEFT)

    assert page.history_model.rowCount() == 1
    assert window.inspection_model.rowCount() == 1
    editors = [w for w in window._open_windows if isinstance(w, InspectionEditor)]
    assert len(editors) == 1
    editor = editors[0]
    qtbot.waitExposed(editor)
    inspection_id = editor.inspection_id
    assert editor.record.status == "draft"
    assert [(o.name, o.cert_no) for o in editor.record.officers] == OFFICERS

    # --- answer every item; two fail with a note -----------------------------------------
    for code, row in editor.rows.items():
        result = "fail" if code in FAILURES else "pass"
        qtbot.mouseClick(row.buttons[result], LEFT)
        assert row.buttons[result].isChecked(), code
        if code in FAILURES:
            row.note.setFocus()
            type_text(row.note, FAILURES[code])
            qtbot.keyClick(row.note, Qt.Key.Key_Return)
            # the definite fact: which case of the either-or wording, and the product
            assert row.facts.isVisibleTo(editor)
            row.facts.case.setFocus()
            qtbot.keyClick(row.facts.case, Qt.Key.Key_Down)
            for key, field in row.facts.product.items():
                field.setFocus()
                type_text(field, PRODUCT[key])
                qtbot.keyClick(field, Qt.Key.Key_Return)
    record = svc.load_inspection(ctx, inspection_id)
    assert svc.item_detail(record, "B2") == {"case": record.template.item("B2").cases[0], "product": PRODUCT}
    assert svc.item_detail(record, "G1") == {"case": record.template.item("G1").cases[0]}
    assert record.unanswered() == []
    assert {f.item.code: f.note for f in record.failed_items()} == FAILURES
    assert "不符合 2 项" in editor.status.text()

    # --- a photo for a failed item ------------------------------------------------------------
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(png_file)], ""))
    row = editor.rows["B2"]
    qtbot.mouseClick(row.photo_button, LEFT)
    record = svc.load_inspection(ctx, inspection_id)
    assert [(p.item_code, p.original_name) for p in record.photos] == [("B2", png_file.name)]
    assert read_attachment(ctx, record.photos[0].path) == png_file.read_bytes()
    assert row.thumbs.count() == 2  # the thumbnail and the stretch

    # --- complete: the rectification order appears ------------------------------------------
    assert not editor.rect_box.isVisibleTo(editor)
    qtbot.mouseClick(editor.complete_button, LEFT)
    assert editor.message.text() == ""
    record = svc.load_inspection(ctx, inspection_id)
    assert record.status == "completed"
    assert record.rectification is not None
    assert editor.tabs.currentIndex() == 1
    assert editor.rect_box.isVisible()
    assert editor.rect_number.text() == record.rectification.number
    assert editor.requirements.toPlainText() == record.rectification.requirements != ""

    # --- the party confirms the record, then signs it and, separately, the order -------------
    qtbot.mouseClick(editor.legal_panel.confirm_button, LEFT)
    assert svc.load_inspection(ctx, inspection_id).legal["confirmation"] == svc.DEFAULT_CONFIRMATION
    for role in ("party", "party_order", "officer1", "officer2"):
        qtbot.mouseClick(_sign_button(editor, role), LEFT)
    assert len(draw_signatures) == 4
    for _title, strokes, elements in draw_signatures:
        assert strokes == 1 and elements > 2  # the mouse moves drew a line, not just a dot
    record = svc.load_inspection(ctx, inspection_id)
    assert set(record.signatures) == {"party", "party_order", "officer1", "officer2"}
    assert record.signatures["party"].signer_name == PARTY
    assert record.signatures["officer1"].signer_name == OFFICERS[0][0]
    assert record.signatures["officer2"].signer_name == OFFICERS[1][0]
    assert _sign_button(editor, "party").text() == "重新签名…"

    # --- sign and lock -------------------------------------------------------------------------
    # each officer present types their own password; their keys sign the record
    qtbot.mouseClick(editor.sign_button, LEFT)
    assert [labels for _title, labels, _message in officer_sign.dialogs] == [
        [f"执法人员{name}（{cert}）" for name, cert in OFFICERS]]
    record = svc.load_inspection(ctx, inspection_id)
    assert record.status == "signed"
    assert "执法人员密钥签名有效：王建国、李秀英" in verify_payload(ctx, make_payload(record, "record")).message
    assert record.content_hash == record.current_hash()
    assert "已签名" in editor.status.text()
    assert not editor.sign_button.isEnabled() and not editor.complete_button.isEnabled()
    # the lists behind the editor catch up after a short pause (autosaves are debounced)
    qtbot.waitUntil(lambda: window.inspection_model.row_at(0).status == "signed", timeout=10000)
    assert page.history_model.row_at(0).status == "signed"  # the subject page, still open, follows
    _assert_locked(editor)
    with pytest.raises(RecordLocked):
        svc.set_answer(ctx, inspection_id, "A1", "fail")

    # --- preview the record form and save it as PDF -----------------------------------------------
    out = tmp_path / "out" / "笔录.pdf"
    previews = []

    def save_from_preview(dialog: PrintPreviewDialog) -> int:
        previews.append(dialog.windowTitle())
        assert dialog.document.pageCount() >= 1
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF 文件 (*.pdf)"))
        qtbot.mouseClick(dialog.save_button, LEFT)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(PrintPreviewDialog, "exec", save_from_preview)
    [action] = [a for a in editor.print_menu.actions() if a.data() == "record"]
    action.trigger()

    assert previews == [f"现场检查笔录 {record.number}"]
    assert out.is_file()
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(out.read_bytes())).pages)
    squeezed = "".join(text.split())
    assert "现场检查笔录" in squeezed
    assert NAME in squeezed
    assert record.number in squeezed

    # --- the QR code printed on the form verifies, typed in by a scanner -------------------------
    [payload] = decode_qr(out)  # rendered as a viewer would, read with zxing-cpp
    assert payload == make_payload(record, "record")

    def scan(dialog: VerifyDialog) -> int:
        type_text(dialog.payload, payload)
        qtbot.keyClick(dialog.payload, Qt.Key.Key_Return)
        verdicts.append(dialog.result.text())
        return QDialog.DialogCode.Rejected

    verdicts = []
    monkeypatch.setattr(VerifyDialog, "exec", scan)
    window.verify_action.trigger()
    assert len(verdicts) == 1 and verdicts[0].startswith("✔"), verdicts
    assert NAME in verdicts[0]


def _assert_locked(editor: InspectionEditor) -> None:
    """Nothing of a signed record can be changed from the editor; it can still be printed."""
    _settle()
    assert len(editor.rows) > 0
    for row in editor.rows.values():
        for button in row.buttons.values():
            assert not button.isEnabled()
        assert row.note.isReadOnly() and row.note.isEnabled()  # readable, not greyed
        assert not row.photo_button.isEnabled()
    for widget in (editor.place, editor.notified_by, editor.party_present, editor.findings, editor.statement,
                   editor.witness, editor.deadline, editor.requirements):
        assert widget.isReadOnly() and widget.isEnabled(), widget
    for widget in (editor.refused, editor.draft_button, editor.complete_button, editor.sign_button,
                   editor.remaining_button):
        assert not widget.isEnabled()
    for role in svc.signature_roles(editor.record):
        assert not editor.findChild(QPushButton, f"sign-{role}").isEnabled()
    assert editor.print_button.isEnabled()


def _signed_editor(qtbot, ctx):
    from core.inspections import list_inspections

    signed = [i for i in list_inspections(ctx) if i.status == "signed"]
    assert signed
    editor = InspectionEditor(ctx, signed[0].id, runner=ImmediateRunner())
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    return editor


def test_signed_inspection_refuses_edits(demo_ctx, qtbot):
    editor = _signed_editor(qtbot, demo_ctx)
    record = editor.record
    assert record.locked
    _assert_locked(editor)

    # clicks and typing on the disabled widgets change nothing
    code, row = next((c, r) for c, r in editor.rows.items() if record.answer(c).result == "pass")
    qtbot.mouseClick(row.buttons["fail"], LEFT)
    qtbot.keyClicks(row.note, "abc")
    assert row.buttons["pass"].isChecked() and row.note.text() == ""

    with pytest.raises(RecordLocked):
        svc.set_answer(demo_ctx, record.id, code, "fail")
    with pytest.raises(RecordLocked):
        svc.set_note(demo_ctx, record.id, code, "改一下")
    after = svc.load_inspection(demo_ctx, record.id)
    assert after.answer(code).result == "pass"
    assert after.current_hash() == after.content_hash == record.content_hash


@pytest.fixture
def draft_editor(ctx, subject, officers, qtbot):
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    editor = InspectionEditor(ctx, inspection_id, runner=ImmediateRunner())
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    return editor


def test_note_typed_is_saved_when_the_editor_closes(ctx, qtbot, type_text, draft_editor):
    note = draft_editor.rows["A1"].note
    note.setFocus()
    type_text(note, "营业执照未悬挂")
    assert svc.load_inspection(ctx, draft_editor.inspection_id).answer("A1").note == ""  # not yet: pausing

    draft_editor.close()

    assert svc.load_inspection(ctx, draft_editor.inspection_id).answer("A1").note == "营业执照未悬挂"


def test_note_typed_is_saved_after_a_pause(ctx, qtbot, type_text, draft_editor):
    note = draft_editor.rows["A2"].note
    note.setFocus()
    type_text(note, "许可证已过期3天")
    assert svc.load_inspection(ctx, draft_editor.inspection_id).answer("A2").note == ""

    qtbot.waitUntil(lambda: svc.load_inspection(ctx, draft_editor.inspection_id).answer("A2").note == "许可证已过期3天",
                    timeout=10000)
    assert note.text() == "许可证已过期3天"
    assert draft_editor.isVisible()


# --- regressions: both failed on the editor as first written ------------------------------

def test_statement_typed_just_before_ticking_refused_is_kept(ctx, qtbot, type_text, draft_editor):
    editor = draft_editor
    editor.tabs.setCurrentIndex(1)
    qtbot.waitActive(editor)
    qtbot.mouseClick(editor.statement.viewport(), LEFT)
    assert editor.statement.hasFocus()
    type_text(editor.statement, "对检查结果无异议")

    # at once (well within the 400 ms pause) tick 当事人拒绝签字: the click moves focus and saves
    qtbot.mouseClick(editor.refused, LEFT, pos=QPoint(6, editor.refused.height() // 2))
    assert editor.refused.isChecked()
    qtbot.waitUntil(lambda: not any(saver.dirty for saver in editor._savers), timeout=10000)

    record = svc.load_inspection(ctx, editor.inspection_id)
    assert record.party_refused
    assert record.party_statement == "对检查结果无异议"  # was lost: the reload after the tick reset the field
    assert editor.statement.toPlainText() == "对检查结果无异议"


def test_subject_page_history_follows_the_inspection(ctx, subject, qtbot):
    window = MainWindow(ctx, runner=ImmediateRunner())
    qtbot.addWidget(window)
    window.open_subject(subject)
    [page] = [w for w in window._open_windows if isinstance(w, SubjectPage)]
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", [], kind="routine")
    page.refresh()
    window.open_inspection(inspection_id)
    [editor] = [w for w in window._open_windows if isinstance(w, InspectionEditor)]

    qtbot.mouseClick(editor.rows["A1"].buttons["fail"], LEFT)

    qtbot.waitUntil(lambda: window.inspection_model.rowCount() == 1 and window.inspection_model.row_at(0).failed == 1,
                    timeout=10000)
    assert page.history_model.row_at(0).failed == 1  # the open subject page followed (it used to show 0)


def test_a_wrong_photo_can_be_removed_from_its_thumbnail(ctx, qtbot, draft_editor, tmp_path):
    from PIL import Image
    from PySide6.QtWidgets import QLabel

    photo = tmp_path / "错拍.png"
    Image.new("RGB", (40, 30), (200, 0, 0)).save(photo)
    svc.add_photo(ctx, draft_editor.inspection_id, "A3", photo)
    draft_editor.reload()
    row = draft_editor.rows["A3"]
    [thumb] = [w for w in row.findChildren(QLabel) if w.actions()]
    thumb.actions()[0].trigger()  # the thumbnail's context-menu entry 删除这张照片
    assert svc.load_inspection(ctx, draft_editor.inspection_id).photos == []


def test_alt_and_a_digit_switch_the_editors_tabs(qtbot, draft_editor):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    assert [draft_editor.tabs.tabText(i) for i in range(draft_editor.tabs.count())] == ["检查项目", "现场情况与签名"]
    draft_editor.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is draft_editor)
    note = draft_editor.rows["A1"].note
    note.setFocus()
    qtbot.keyClick(note, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert draft_editor.tabs.currentIndex() == 1 and draft_editor.tabs.tabToolTip(1) == "Alt+2"
    qtbot.keyClick(draft_editor.tabs, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    assert draft_editor.tabs.currentIndex() == 0
