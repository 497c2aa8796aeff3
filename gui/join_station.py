"""A laptop's first start, before anyone can log in: join the station from the enrolment file and
fetch the station's first package (the USB stick, or the network), so its users can log in.

This runs as the system (nobody is logged in yet), as enrolling from the command line does; the
files are checked by the core (``open_enrolment``, ``import_package``) like any that came from outside.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout

from core import sync
from core.context import AppContext
from core.errors import DomainError
from core.sync import client as hub_client
from core.sync import describe_import, enrol_device, open_enrolment
from core.sync.status import HUB_URL
from core.users import has_log_in
from gui.i18n import tr_args
from gui.jobs import JobRunner
from gui.operations import run_op
from gui.widgets import button_row, dialog_buttons, message_label, push_button

DEFAULT_HUB_URL = "http://192.168.1.10:8765"


def _field_row(field: QLineEdit, button) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(field, 1)
    row.addWidget(button)
    return row


class JoinStationDialog(QDialog):
    def __init__(self, ctx: AppContext, parent=None, *, runner=None):
        super().__init__(parent)
        self.ctx = ctx
        self.runner = runner or JobRunner()
        self.setWindowTitle(self.tr("执法笔记本：加入所里"))
        self.setMinimumWidth(560)
        self.file = QLineEdit()
        self.file.setReadOnly(True)
        self.file.setPlaceholderText(self.tr("所里登记笔记本时写到U盘上的登记文件"))
        self.choose_button = push_button(self.tr("选择(&F)…"), self.choose_file)
        self.code = QLineEdit()
        self.code.setPlaceholderText(self.tr("所里当面告诉你的 12 位数字"))
        self.join_button = push_button(self.tr("加入所里(&J)"), self.join)
        form = QFormLayout()
        form.addRow(self.tr("登记文件："), _field_row(self.file, self.choose_button))
        form.addRow(self.tr("登记码(&C)："), self.code)
        self.import_button = push_button(self.tr("从U盘导入所里的同步包(&I)…"), self.import_from_folder)
        self.hub_url = QLineEdit(ctx.setting_or(HUB_URL, DEFAULT_HUB_URL))
        self.hub_button = push_button(self.tr("从所里同步(&H)"), self.pull_from_hub)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = message_label()
        steps = QLabel(self.tr("第一步：选择所里给的登记文件，输入登记码，加入所里。\n"
                               "第二步：取得所里的数据（导入U盘上所里导出的同步包，或连接所里的网络同步），"
                               "然后用你在所里的账号登录。"))
        steps.setWordWrap(True)
        self.buttons = dialog_buttons(self, self.tr("去登录"), self.accept, cancel_text=self.tr("返回"))
        second = QFormLayout()
        second.addRow(self.tr("所里同步服务地址："), _field_row(self.hub_url, self.hub_button))
        layout = QVBoxLayout(self)
        layout.addWidget(steps)
        layout.addLayout(form)
        layout.addLayout(button_row((), (self.join_button,)))
        layout.addLayout(button_row((self.import_button,)))
        layout.addLayout(second)
        layout.addWidget(self.status)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._update()

    def _update(self) -> None:
        joined = sync.role(self.ctx) == "device"
        for widget in (self.choose_button, self.code, self.join_button):
            widget.setEnabled(not joined)
        for widget in (self.import_button, self.hub_url, self.hub_button):
            widget.setEnabled(joined)
        self.buttons.button(self.buttons.StandardButton.Ok).setEnabled(has_log_in(self.ctx))

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("选择所里给的登记文件"), str(Path.home()),
                                              self.tr("登记文件 (*.json)"))
        if path:
            self.file.setText(path)

    def join(self) -> None:
        self.message.clear()
        try:
            raw = Path(self.file.text()).read_bytes() if self.file.text() else None
        except OSError:
            raw = None
        if raw is None:
            self.message.setText(self.tr("请选择可以读取的登记文件"))
            return
        try:
            data = open_enrolment(raw, self.code.text())
            enrol_device(self.ctx, data)
        except DomainError as exc:
            self.message.setText(exc.message)
            return
        self.status.setText(tr_args(self.tr("已加入 %1：本机为“%2”（设备号 %3）。请取得所里的数据。"),
                                    data["station_name"], data["device_name"], data["device_no"]))
        self._update()

    def _done(self, text: str) -> None:
        self.status.setText(text)
        self._update()
        if not has_log_in(self.ctx):
            self.message.setText(self.tr("还没有可以在本机登录的账号：请所里先为你添加账号（执法人员或网格员），"
                                         "重新导出同步包后再导入"))
        else:
            self.message.clear()

    def _failed(self, exc: Exception) -> None:
        self.message.setText(exc.message if isinstance(exc, DomainError) else self.tr("操作未完成，详情已记入日志"))

    def import_from_folder(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("选择所里导出的同步包"), str(Path.home()),
                                                self.tr("同步包 (*.zip)"))
        if not files:
            return
        paths = sorted((Path(f) for f in files), key=lambda p: p.name)

        def job(progress, cancelled):
            total = sync.ImportSummary(already_imported=True)
            for done, path in enumerate(paths):
                progress(done, len(paths))
                if cancelled():
                    break
                one = sync.import_package(self.ctx, path)
                total.applied += one.applied
                total.unchanged += one.unchanged
                total.conflicts += one.conflicts
                total.already_imported = total.already_imported and one.already_imported
            return total

        run_op(self, self.tr("正在导入同步包…"), job, runner=self.runner, on_error=self._failed,
               on_done=lambda total: self._done(describe_import(total, len(paths))))

    def pull_from_hub(self) -> None:
        url = self.hub_url.text().strip()
        if not url:
            return
        self.ctx.set_setting(HUB_URL, url)

        def job(progress, cancelled):
            progress(0, 1)
            return hub_client.pull(self.ctx, url)

        run_op(self, self.tr("正在从所里同步…"), job, runner=self.runner, on_error=self._failed,
               on_done=lambda pulled: self._done(tr_args(self.tr("已从所里下载 %1 个同步包：更新 %2 条"),
                                                         pulled.packages, pulled.applied)))
