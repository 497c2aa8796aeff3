"""The signing step asks each officer present for their own password (core.officer_keys)."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit

from core import inspections as svc
from core.inspectors import add_inspector
from core.verification import make_payload, verify_payload
from gui.jobs import ImmediateRunner
from gui.officer_sign_dialog import OfficerSignDialog
from tests.gui.helpers import LEFT, open_editor
from tests.integration.helpers import OFFICER_PASSWORD, answer_all, ready_to_sign


def _ready_in_the_editor(ctx, subject, officers, qtbot):
    """A completed record with its drawn signatures, open in the editor at the signing step."""
    inspection_id = svc.start_inspection(ctx, subject.id, "cosmetics-531", officers)
    answer_all(ctx, inspection_id, {})
    svc.update_details(ctx, inspection_id, party_statement="无异议", party_present_name="张三")
    svc.complete_inspection(ctx, inspection_id)
    ready_to_sign(ctx, inspection_id)
    return inspection_id, open_editor(qtbot, ctx, inspection_id)


def test_officers_type_their_passwords_and_a_joint_officer_signs_by_hand(ctx, subject, qtbot, monkeypatch):
    add_inspector(ctx, "王建国", "41170021001", password=OFFICER_PASSWORD)
    add_inspector(ctx, "孙强", "41160099001")  # from another county: on the list, no key here
    officers = [svc.OfficerData("王建国", "41170021001"), svc.OfficerData("孙强", "41160099001")]
    inspection_id, editor = _ready_in_the_editor(ctx, subject, officers, qtbot)
    seen = []

    def exec_(dialog: OfficerSignDialog) -> int:
        [field] = dialog.findChildren(QLineEdit)
        assert field.echoMode() == QLineEdit.EchoMode.Password
        labels = [w.text() for w in dialog.findChildren(QLabel)]
        assert "外单位执法人员：本机没有其签名密钥，仅手写签名" in labels
        save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
        assert save.text() == "签名锁定"
        field.setFocus()
        qtbot.keyClicks(field, "wrong-password")
        qtbot.mouseClick(save, LEFT)
        seen.append(dialog.message.text())
        assert svc.load_inspection(ctx, inspection_id).status == "completed"  # nothing signed
        field.clear()
        qtbot.keyClicks(field, OFFICER_PASSWORD)
        qtbot.mouseClick(save, LEFT)
        return dialog.result()

    monkeypatch.setattr(OfficerSignDialog, "exec", exec_)
    qtbot.mouseClick(editor.sign_button, LEFT)
    assert seen == ["执法人员王建国的密码不正确，未签名"]
    record = svc.load_inspection(ctx, inspection_id)
    assert record.status == "signed", editor.message.text()
    verdict = verify_payload(ctx, make_payload(record, "record"))
    assert verdict.ok, verdict.message
    assert "执法人员密钥签名有效：王建国" in verdict.message
    assert "仅手写签名（外单位执法人员，本所无其签名密钥）：孙强" in verdict.message


def test_cancelling_the_password_dialog_signs_nothing(ctx, subject, officers, qtbot, monkeypatch, officer_sign):
    inspection_id, editor = _ready_in_the_editor(ctx, subject, officers, qtbot)
    monkeypatch.setattr(OfficerSignDialog, "exec", lambda dialog: dialog.reject() or dialog.result())
    qtbot.mouseClick(editor.sign_button, LEFT)
    assert svc.load_inspection(ctx, inspection_id).status == "completed"


def test_the_officers_keys_are_opened_off_the_ui_thread(ctx, subject, officers, qtbot, officer_sign):
    """Signing (scrypt per officer, then the write) goes to the editor's job runner with its label,
    and the dialog is accepted only when the job is done."""
    inspection_id, editor = _ready_in_the_editor(ctx, subject, officers, qtbot)
    jobs = []

    class Recording(ImmediateRunner):
        def run(self, parent, label, job, on_done, on_error) -> None:
            jobs.append((type(parent).__name__, label, svc.load_inspection(ctx, inspection_id).status))
            super().run(parent, label, job, on_done, on_error)

    editor.runner = Recording()
    qtbot.mouseClick(editor.sign_button, LEFT)
    assert ("OfficerSignDialog", "正在签名……", "completed") in jobs  # not signed before the job ran
    assert svc.load_inspection(ctx, inspection_id).status == "signed"
    assert officer_sign.dialogs[-1][2] == ""
