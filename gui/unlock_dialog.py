"""The log-in before an encrypted database opens: name and password unwrap its key
(``core.unlock.open_as``), then the log-in is checked as always (the same lockout, the same
answer for an unknown name and a wrong password). A laptop whose plain database is to be
encrypted (``core.unlock.needs_encryption``) is encrypted right after the log-in, with progress.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from core.errors import DomainError
from gui.widgets import dialog_buttons, message_label


class UnlockDialog(QDialog):
    """Opens ``db``; after ``exec()`` succeeds ``ctx`` is the open context, its user logged in."""

    def __init__(self, db: Path, parent=None):
        super().__init__(parent)
        self.db = Path(db)
        self.ctx = None
        self.setWindowTitle(self.tr("登录 — 药械化现场检查"))
        self.setMinimumWidth(420)
        intro = QLabel(self.tr("本机的数据库已加密：请输入姓名和密码。"))
        intro.setWordWrap(True)
        self.name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(self.tr("姓名(&N)："), self.name)
        form.addRow(self.tr("密码(&P)："), self.password)
        self.message = message_label()
        buttons = dialog_buttons(self, self.tr("登录"), self.submit, cancel_text=self.tr("退出"))
        from gui.login_dialog import server_button

        self.server_button = server_button(self, self.connect_server)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.server_button)
        layout.addWidget(buttons)

    def connect_server(self) -> None:
        """The console: a county's (city's) database instead of this laptop's; its log-in follows."""
        from gui.server_dialog import ServerDialog

        dialog = ServerDialog(self)
        if dialog.exec() and dialog.ctx is not None:
            self.ctx = dialog.ctx
            self.accept()

    def submit(self) -> None:
        from core.unlock import open_as

        try:
            self.ctx = open_as(self.db, create=False, login=(self.name.text(), self.password.text()))
        except DomainError as exc:
            self.message.setText(exc.message)
            self.password.clear()
            return
        self.accept()


def encrypt_after_log_in(ctx, name: str, password: str, runner=None) -> None:
    """A plain laptop database encrypted now (off the UI thread, with progress); waits until done.

    A failure leaves the plain database as it was (core.unlock.encrypt_database is crash-safe)
    and is shown; the app goes on with the plain database and tries again at the next log-in.
    """
    from core.unlock import encrypt_database
    from gui.jobs import JobRunner
    from gui.operations import run_op

    loop = QEventLoop()
    done = {"finished": False}

    def finish(_result=None) -> None:
        done["finished"] = True
        loop.quit()

    def failed(exc: Exception) -> None:
        from gui.messages import show_failure

        show_failure(None, exc, QCoreApplication.translate("UnlockDialog", "数据库加密未完成"))
        finish()

    run_op(None, QCoreApplication.translate("UnlockDialog", "正在加密本机的数据库…"),
           lambda progress, _cancelled: encrypt_database(ctx, (name, password), progress),
           on_done=finish, on_error=failed, runner=runner or JobRunner())
    if not done["finished"]:
        loop.exec()
