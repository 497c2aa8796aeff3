"""The signing step's dialog: each officer present types their own password, so that their
signing key (core.officer_keys) signs the record; an officer with no key here (a joint
inspection's officer from elsewhere) is shown as signing by drawn signature only.

Opening each officer's key (scrypt, ≈ 0.1 s per officer) and writing the signed record run on
the window's job runner, off the UI thread, behind a progress dialog."""
from __future__ import annotations

from typing import Callable, Mapping

from PySide6.QtWidgets import QLabel, QLineEdit

from core.errors import DomainError
from gui.i18n import tr_args
from gui.widgets import FormDialog


class OfficerSignDialog(FormDialog):
    """Ask each officer for their password, then run ``sign(passwords)`` (a core service) on
    ``runner``: a wrong password is shown on the message line, nothing is signed, the dialog
    stays open; otherwise the dialog is accepted when the service is done."""

    def __init__(self, signers, sign: Callable[[Mapping[str, str]], object], *, title: str, question: str,
                 runner, parent=None):
        super().__init__(title, parent, min_width=560)
        self._sign = sign
        self._runner = runner
        self.passwords: dict[str, QLineEdit] = {}
        self.buttons.button(self.buttons.StandardButton.Save).setText(self.tr("签名锁定"))
        for signer in signers:
            label = tr_args(self.tr("执法人员%1（%2）"), signer.name, signer.cert_no or self.tr("无执法证号"))
            if signer.has_key:
                field = QLineEdit()
                field.setEchoMode(QLineEdit.EchoMode.Password)
                field.setPlaceholderText(self.tr("本人登录密码"))
                field.setObjectName(f"password-{signer.position}")
                self.passwords[signer.cert_no] = self.add_row(label, field)
            else:
                note = QLabel(self.tr("外单位执法人员：本机没有其签名密钥，仅手写签名"))
                note.setWordWrap(True)
                self.add_row(label, note)
        self.lay_out(question)

    def _save(self) -> None:
        from gui.operations import run_op

        passwords = {cert: field.text() for cert, field in self.passwords.items()}
        save = self.buttons.button(self.buttons.StandardButton.Save)
        save.setEnabled(False)  # one signing at a time

        def failed(exc: Exception) -> None:
            save.setEnabled(True)
            self.message.setText(exc.message if isinstance(exc, DomainError) else self.tr("签名失败（详见错误日志）"))

        def done(_result) -> None:
            save.setEnabled(True)
            self.accept()

        run_op(self, self.tr("正在签名……"), lambda _progress, _cancelled: self._sign(passwords),
               on_done=done, on_error=failed, runner=self._runner)
