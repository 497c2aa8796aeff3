"""Log-in at start; on first run (no admin yet) it creates the station admin — or, on a laptop,
joins the station from its enrolment file (``gui.join_station``) so the station's users log in."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from core.context import AppContext
from core.errors import DomainError
from core.sync import role
from core.users import add_user, has_admin, has_log_in, log_in
from gui.i18n import tr_args
from gui.widgets import dialog_buttons, message_label, push_button


class LoginDialog(QDialog):
    RELOAD = 2  # exec()'s result after joining the station: open the log-in anew (gui.app.Session)
    SERVER = 3  # exec()'s result after 连接到县局服务器…: ``server_ctx`` is the county's database, log in there

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.server_ctx = None
        laptop = role(ctx) == "device"
        self.first_run = not has_admin(ctx) and not laptop
        self.setWindowTitle(self.tr("创建站所管理员") if self.first_run else self.tr("登录 — 药械化现场检查"))
        self.setMinimumWidth(420)
        self.name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(self.tr("姓名(&N)："), self.name)
        form.addRow(self.tr("密码(&P)："), self.password)
        intro = QLabel()
        intro.setWordWrap(True)
        if self.first_run:
            form.addRow(self.tr("再次输入密码："), self.repeat)
            intro.setText(self.tr("首次使用：请创建本所的管理员账户（所长）。管理员可以添加执法人员和网格员。"))
        else:
            demo = ctx.setting_or("demo.accounts", "")
            intro.setText(tr_args(self.tr("演示账号：%1"), demo) if demo else self.tr("请输入姓名和密码。"))
        self.message = message_label()
        buttons = dialog_buttons(self, self.tr("创建并登录") if self.first_run else self.tr("登录"), self.submit,
                                 cancel_text=self.tr("退出"))
        self.join_button = push_button(self.tr("这是执法笔记本：从所里的登记文件加入(&J)…"), self.join_station)
        self.join_button.setVisible((self.first_run and role(ctx) is None) or (laptop and not has_log_in(ctx)))
        if laptop and not has_log_in(ctx):
            self.join_button.setText(self.tr("取得所里的数据(&J)…"))
            intro.setText(self.tr("本机已加入所里，但还没有可以登录的账号：请先取得所里的数据。"))
        self.server_button = server_button(self, self.connect_server)
        self.server_button.setVisible(not laptop)  # a laptop syncs with its station; a desktop may be the console
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.join_button)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.server_button)
        layout.addWidget(buttons)

    def submit(self) -> None:
        try:
            if self.first_run:
                if self.password.text() != self.repeat.text():
                    self.message.setText(self.tr("两次输入的密码不一致"))
                    return
                add_user(self.ctx, name=self.name.text(), role="admin", password=self.password.text())
            log_in(self.ctx, self.name.text(), self.password.text())
        except DomainError as exc:
            self.message.setText(exc.message)
            self.password.clear()
            self.repeat.clear()
            return
        self.accept()

    def join_station(self) -> None:
        from gui.join_station import JoinStationDialog

        JoinStationDialog(self.ctx, parent=self).exec()
        if role(self.ctx) == "device":
            self.done(self.RELOAD)

    def connect_server(self) -> None:
        """The console: log in at a county's (city's) database instead of this one."""
        from gui.server_dialog import ServerDialog

        dialog = ServerDialog(self)
        if dialog.exec() and dialog.ctx is not None:
            self.server_ctx = dialog.ctx
            self.done(self.SERVER)


def server_button(parent, slot):
    """连接到县局服务器…, on both log-in windows (this one and the encrypted database's)."""
    from PySide6.QtCore import QCoreApplication

    return push_button(QCoreApplication.translate("LoginDialog", "连接到县局服务器(&C)…"), slot)
