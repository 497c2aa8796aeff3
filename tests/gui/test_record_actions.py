"""Drafts in the editor: officers edited, a draft voided with a reason; a signed record corrected
and approved; the void register window — all through the real widgets."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from core import inspections as svc
from core.corrections import correction_of
from core.void_register import list_voided
from gui.jobs import ImmediateRunner
from gui.record_actions import CorrectionDialog, OfficersDialog, VoidDialog, VoidRegisterDialog
from tests.gui.helpers import open_editor

LEFT = Qt.MouseButton.LeftButton
SAVE = QDialogButtonBox.StandardButton.Save


def test_edit_the_officers_of_a_draft_then_void_it(ctx, subject, officers, qtbot, monkeypatch, type_text):
    from core.inspectors import add_inspector

    add_inspector(ctx, "赵敏", "41170021006")
    draft = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    editor = open_editor(qtbot, ctx, draft)
    assert editor.actions.officers_button.isVisible() and editor.actions.void_button.isVisible()
    assert not editor.actions.correct_button.isVisible()
    seen = []

    def fill_officers(dialog: OfficersDialog) -> int:
        dialog.show()
        dialog.names[1].clear()
        dialog.certs[1].clear()
        qtbot.mouseClick(dialog.buttons.button(SAVE), LEFT)  # one officer: refused, dialog stays
        seen.append(dialog.message.text())
        type_text(dialog.names[1], "赵敏")
        dialog.names[1].editingFinished.emit()  # leaving the field fills the 执法证号 from the list
        assert dialog.certs[1].text() == "41170021006"
        qtbot.mouseClick(dialog.buttons.button(SAVE), LEFT)
        return dialog.result()

    monkeypatch.setattr(OfficersDialog, "exec", fill_officers)
    qtbot.mouseClick(editor.actions.officers_button, LEFT)
    assert len(seen) == 1 and "至少需要2名执法人员" in seen[0]
    record = svc.load_inspection(ctx, draft)
    assert [(o.name, o.cert_no) for o in record.officers] == [("王建国", "41170021001"), ("赵敏", "41170021006")]
    assert "赵敏（41170021006）" in editor.header.text()

    def fill_void(dialog: VoidDialog) -> int:
        dialog.show()
        qtbot.mouseClick(dialog.buttons.button(SAVE), LEFT)  # no reason: refused
        seen.append(dialog.message.text())
        type_text(dialog.reason, "误选监管对象")
        qtbot.mouseClick(dialog.buttons.button(SAVE), LEFT)
        return dialog.result()

    monkeypatch.setattr(VoidDialog, "exec", fill_void)
    qtbot.mouseClick(editor.actions.void_button, LEFT)
    assert seen[1] == "请填写作废原因"
    [row] = list_voided(ctx)
    assert (row.number, row.reason) == (record.number, "误选监管对象")
    assert svc.load_inspection(ctx, draft).status == "voided"
    assert not editor.actions.void_button.isVisible() and not editor.actions.officers_button.isVisible()
    assert "已作废" in editor.actions.banner.text() and editor.actions.banner.isVisible()
    assert not editor.complete_button.isEnabled()
    first = next(iter(editor.rows.values()))
    assert first.note.isReadOnly()  # readable, not greyed

    # the register window lists it
    register = VoidRegisterDialog(ctx, runner=ImmediateRunner())
    qtbot.addWidget(register)
    assert register.table.rowCount() == 1 and register.table.item(0, 0).text() == record.number
    assert register.table.item(0, 2).text() == "误选监管对象"


def test_correct_a_signed_record_in_the_editor_and_approve_it(demo_ctx, qtbot, monkeypatch, type_text):
    signed = next(r for r in svc.list_inspections(demo_ctx) if r.status == "signed")
    editor = open_editor(qtbot, demo_ctx, signed.id)
    assert editor.actions.correct_button.isVisible() and not editor.actions.void_button.isVisible()
    opened: list[str] = []
    editor.open_requested.connect(opened.append)

    def fill_correction(dialog: CorrectionDialog) -> int:
        dialog.show()
        type_text(dialog.statement, "当事人陈述更正")
        type_text(dialog.reason, "记录笔误")
        qtbot.mouseClick(dialog.buttons.button(SAVE), LEFT)
        return dialog.result()

    monkeypatch.setattr(CorrectionDialog, "exec", fill_correction)
    qtbot.mouseClick(editor.actions.correct_button, LEFT)
    assert len(opened) == 1
    info = correction_of(demo_ctx, opened[0])
    assert (info.original_number, info.statement, info.reason) == (signed.number, "当事人陈述更正", "记录笔误")
    copy = open_editor(qtbot, demo_ctx, opened[0])
    assert f"更正 {signed.number}" in copy.actions.banner.text() and "待站所管理员批准" in copy.actions.banner.text()
    assert not copy.actions.approve_button.isVisible()  # until it is completed
    qtbot.mouseClick(copy.complete_button, LEFT)
    assert copy.actions.approve_button.isVisible()  # the system (no user) counts as the admin
    qtbot.mouseClick(copy.actions.approve_button, LEFT)
    assert copy.message.text() == ""
    assert correction_of(demo_ctx, opened[0]).approved
    assert "已经系统批准" in copy.actions.banner.text() and not copy.actions.approve_button.isVisible()
    # the original did not change
    assert svc.load_inspection(demo_ctx, signed.id).current_hash() == svc.load_inspection(demo_ctx, signed.id).content_hash


def test_verify_dialog_says_a_corrected_original_was_corrected(demo_ctx, qtbot):
    from core.corrections import approve_correction, request_correction
    from core.verification import make_payload
    from gui.verify_dialog import VerifyDialog
    from tests.integration.helpers import sign_all

    signed = next(r for r in svc.list_inspections(demo_ctx) if r.status == "signed")
    correction = request_correction(demo_ctx, signed.id, statement="更正检查地点", reason="笔误")
    svc.complete_inspection(demo_ctx, correction)
    approve_correction(demo_ctx, correction)
    sign_all(demo_ctx, correction, refused=svc.load_inspection(demo_ctx, correction).party_refused)
    number = svc.load_inspection(demo_ctx, correction).number
    dialog = VerifyDialog(demo_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.payload, make_payload(svc.load_inspection(demo_ctx, signed.id), "record"))
    qtbot.mouseClick(dialog.check_button, LEFT)
    assert dialog.result.text().startswith(f"✔ 已更正，见 {number}")


def test_an_enforcement_inspection_does_not_start_without_two_officers(ctx, subject, qtbot, type_text):
    from core.subjects import get_subject
    from gui.new_inspection_dialog import NewInspectionDialog

    ctx.set_setting("gui.last_officers", "[]")
    dialog = NewInspectionDialog(ctx, get_subject(ctx, subject.id))
    qtbot.addWidget(dialog)
    dialog.show()
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, LEFT)
    assert "至少需要2名执法人员" in dialog.message.text() and dialog.inspection_id is None
    type_text(dialog.officer_names[0], "王建国")
    qtbot.keyClicks(dialog.officer_certs[0], "41170021001")
    qtbot.mouseClick(ok, LEFT)
    assert "现有 1 名" in dialog.message.text()
    assert svc.list_inspections(ctx) == []
    type_text(dialog.officer_names[1], "李秀英")
    qtbot.keyClicks(dialog.officer_certs[1], "41170021002")
    qtbot.mouseClick(ok, LEFT)
    assert dialog.inspection_id is not None and len(svc.list_inspections(ctx)) == 1
