"""连接到县局服务器…: the console — the same GUI on a county's or city's PostgreSQL database.

Asks for the server's address, port, database, user and password, and opens it on a worker
(``core.servers.open_server``: an unreachable server is refused after a short timeout, in one
line, with the URL shown without its password). The last server connected to is remembered in the
data folder without its password (``core.servers.remember_server``), so the next time only the
password is asked. After ``exec()`` succeeds ``ctx`` is the open
context; its log-in is the county's own (``gui.login_dialog.LoginDialog``).
"""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout

from core.errors import DomainError
from core.servers import open_server, remember_server, remembered_server, server_url
from gui.widgets import dialog_buttons, message_label


class ServerDialog(QDialog):
    def __init__(self, parent=None, *, runner=None, folder=None):
        super().__init__(parent)
        self.ctx = None
        self.folder = folder  # where the last server is remembered (None: the user's data folder)
        self.runner = runner  # None: a JobRunner, made when connecting (tests pass ImmediateRunner)
        self.setWindowTitle(self.tr("连接到县局服务器"))
        self.setMinimumWidth(440)
        intro = QLabel(self.tr("县局（市局）的汇总数据库：各站所的记录在这里汇总，可按站所筛选。"
                               "地址和账号向县局的系统管理员索取。"))
        intro.setWordWrap(True)
        self.host = QLineEdit()
        self.host.setPlaceholderText(self.tr("如 192.168.1.10 或 county-hub"))
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.database = QLineEdit("county")
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(self.tr("服务器地址(&H)："), self.host)
        form.addRow(self.tr("端口："), self.port)
        form.addRow(self.tr("数据库名(&D)："), self.database)
        form.addRow(self.tr("数据库用户(&U)："), self.user)
        form.addRow(self.tr("数据库密码(&P)："), self.password)
        self.message = message_label()
        self.buttons = dialog_buttons(self, self.tr("连接"), self.submit)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._fill_remembered()

    def _fill_remembered(self) -> None:
        fields = remembered_server(self.folder)
        if fields is None:
            return
        self.host.setText(fields["host"])
        self.port.setValue(fields["port"])
        self.database.setText(fields["database"])
        self.user.setText(fields["user"])
        self.password.setFocus()

    def submit(self) -> None:
        from gui.jobs import JobRunner
        from gui.operations import run_op

        try:
            url = server_url(host=self.host.text(), port=self.port.value(), database=self.database.text(),
                             user=self.user.text(), password=self.password.text())
        except DomainError as exc:
            self.message.setText(exc.message)
            return
        self.message.setText(self.tr("正在连接……"))
        if self.runner is None:
            self.runner = JobRunner()
        run_op(self, self.tr("正在连接数据库服务器……"), lambda _progress, _cancelled: open_server(url),
               on_done=self._connected, on_error=self._failed, runner=self.runner)

    def _connected(self, ctx) -> None:
        self.ctx = ctx
        remember_server(host=self.host.text(), port=self.port.value(), database=self.database.text(),
                        user=self.user.text(), folder=self.folder)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.password.clear()
        self.message.setText(exc.message if isinstance(exc, DomainError) else
                             self.tr("连接失败（详见错误日志）"))
