"""The signing step's dialog: each officer present types their own password, so that their
signing key (core.officer_keys) signs the record; an officer with no key here (a joint
inspection's officer from elsewhere) is shown as signing by drawn signature only."""
from __future__ import annotations

from typing import Callable, Mapping

from PySide6.QtWidgets import QLabel, QLineEdit

from gui.i18n import tr_args
from gui.widgets import FormDialog


class OfficerSignDialog(FormDialog):
    """Ask each officer for their password, then run ``sign(passwords)`` (a core service: a
    wrong password is shown on the message line, nothing is signed, the dialog stays open)."""

    def __init__(self, signers, sign: Callable[[Mapping[str, str]], object], *, title: str, question: str,
                 parent=None):
        super().__init__(title, parent, min_width=560)
        self._sign = sign
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

    def apply(self) -> None:
        self._sign({cert: field.text() for cert, field in self.passwords.items()})
