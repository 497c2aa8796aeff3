"""Laptops in the sync panel: registering one at the station (the enrolment file to a USB stick,
the one-time code shown to be told in person), the list with each laptop's last sync, revoking
one; on a laptop not yet set up, joining the station from the file; the station's hub.

Every action is a core service (``core.sync``), which checks the permission; the hub runs as a
child process (``gui.hub_process``), so the GUI imports no hub code.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from core.context import AppContext
from core.errors import DomainError, InvalidInput
from core.sync import DeviceRow, add_device, enrol_device, enrolment_file_name, list_devices, open_enrolment, revoke_device
from core.sync.codec import local_time
from core.users import require
from gui.hub_process import HUB_PORT, HubProcess
from gui.i18n import tr_args
from gui.models import RowTableModel
from gui.widgets import FormDialog, dialog_buttons, make_table, push_button


def _when(at) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else ""


def tr(text: str) -> str:
    return QCoreApplication.translate("models", text)


class DeviceModel(RowTableModel):
    """The laptops registered at the station; revoked ones say so (and when)."""

    columns = (
        ("设备号", lambda d: str(d.device_no)),
        ("名称", lambda d: d.name),
        ("状态", lambda d: tr_args(tr("已吊销（%1）"), _when(d.revoked_at)) if d.revoked else tr("正常")),
        ("最后同步", lambda d: _when(local_time(d.last_sync)) if d.last_sync else tr("从未")),
    )
    marked_by = "revoked"


class RegisterLaptopDialog(FormDialog):
    """登记笔记本: a name and the folder (the USB stick) the enrolment file goes to."""

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(self.tr("登记笔记本"), parent, min_width=560)
        self.ctx, self.enrolment, self.path = ctx, None, None
        taken = {d.name for d in list_devices(ctx)}
        default = next(f"执法笔记本{n}" for n in range(1, 1000) if f"执法笔记本{n}" not in taken)
        self.name = self.add_row(self.tr("笔记本名称(&N)："), QLineEdit(default))
        self.folder = QLineEdit()
        self.folder.setReadOnly(True)
        self.folder.setPlaceholderText(self.tr("请选择U盘或文件夹"))
        self.choose_button = push_button(self.tr("选择(&F)…"), self.choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.choose_button)
        self.add_row(self.tr("登记文件保存到："), row)
        self.buttons.button(self.buttons.StandardButton.Save).setText(self.tr("登记并写入登记文件"))
        self.lay_out(note=self.tr("登记后会显示一次性登记码：当面告诉笔记本的使用人，不要写在U盘上。"
                                  "笔记本上在“数据同步”中点“从文件加入所里”，选择这个文件并输入登记码。"))

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("选择保存登记文件的U盘或文件夹"), str(Path.home()))
        if folder:
            self.folder.setText(folder)

    def apply(self) -> None:
        if not self.folder.text():
            raise InvalidInput(self.tr("请选择保存登记文件的U盘或文件夹"))
        path = Path(self.folder.text()) / enrolment_file_name(self.name.text())
        if path.exists():
            raise InvalidInput(tr_args(self.tr("文件夹中已有 %1，请换一个文件夹或名称"), path.name))
        self.enrolment = add_device(self.ctx, self.name.text(), path)
        self.path = path


class EnrolmentCodeDialog(QDialog):
    """The one-time code, large, to be read out to the laptop's user."""

    def __init__(self, name: str, device_no: int, path: Path, code: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("笔记本已登记"))
        self.setMinimumWidth(520)
        text = QLabel(tr_args(self.tr("已登记“%1”（设备号 %2），登记文件已写入：\n%3\n\n"
                                      "请把U盘交给笔记本的使用人，并当面告诉他下面的一次性登记码。\n"
                                      "不要写在U盘上；关闭本窗口后不再显示。"), name, device_no, str(path)))
        self.code = QLabel(code)
        font = QFont(self.font())
        font.setPointSize(22)
        font.setBold(True)
        self.code.setFont(font)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.code)
        layout.addWidget(dialog_buttons(self, None))


class LaptopsBox(QGroupBox):
    """At the station: the laptops and the hub. Not yet set up: the two ways to set up. A laptop: hidden."""

    changed = Signal(str)  # something was done (the outcome, one line): the panel refreshes

    def __init__(self, ctx: AppContext, *, may_manage: bool, parent=None):
        super().__init__(parent)
        self.ctx, self.may_manage = ctx, may_manage
        self.role: str | None = None
        self.model = DeviceModel(self)
        self.view: QTableView = make_table(self.model, lambda _device: None)
        self.view.setMaximumHeight(130)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._chosen())
        self.register_button = push_button(self.tr("登记笔记本(&N)…"), self.register_laptop)
        self.revoke_button = push_button(self.tr("吊销设备(&V)…"), self.revoke_selected)
        self.enrol_button = push_button(self.tr("从文件加入所里(&J)…"), self.enrol_from_file)
        self.setup_note = QLabel(self.tr("本机尚未设置同步。所里的电脑：点“登记笔记本”为每台执法笔记本生成登记文件；"
                                         "执法笔记本：点“从文件加入所里”，选择所里给的登记文件并输入登记码。"))
        self.setup_note.setWordWrap(True)
        self.hub = HubProcess.shared()
        self.hub.changed.connect(self._show_hub)
        self.hub_host, self.hub_port = "0.0.0.0", HUB_PORT  # the LAN; tests use the loopback
        self.hub_label = QLabel()
        self.hub_label.setWordWrap(True)
        self.hub_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hub_button = QPushButton()
        self.hub_button.clicked.connect(self.toggle_hub)
        side = QVBoxLayout()
        for button in (self.register_button, self.revoke_button, self.enrol_button):
            side.addWidget(button)
        side.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.setup_note, 1)
        top.addWidget(self.view, 1)
        top.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        hub_row = QHBoxLayout()
        hub_row.addWidget(self.hub_label, 1)
        hub_row.addWidget(self.hub_button)
        layout.addLayout(hub_row)
        for button in (self.register_button, self.enrol_button, self.hub_button):
            if not may_manage:
                button.setToolTip(self.tr("仅站所管理员可以设置同步"))

    # --- state ------------------------------------------------------------------------------
    def refresh(self, role: str | None) -> None:
        self.role = role
        at_station = role == "station"
        self.setVisible(role != "device")
        self.setTitle(self.tr("登记的笔记本") if at_station else self.tr("设置同步"))
        for widget in (self.view, self.revoke_button, self.hub_label, self.hub_button):
            widget.setVisible(at_station)
        self.setup_note.setVisible(not at_station)
        self.enrol_button.setVisible(role is None)
        self.register_button.setEnabled(self.may_manage)
        self.enrol_button.setEnabled(self.may_manage)
        current = self.current()
        rows = list_devices(self.ctx) if at_station else []
        self.model.set_rows(rows)
        keep = next((i for i, d in enumerate(rows) if current is not None and d.id == current.id), None)
        if keep is not None:
            self.view.selectRow(keep)
        self._chosen()
        self._show_hub()

    def current(self) -> DeviceRow | None:
        index = self.view.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def _chosen(self) -> None:
        device = self.current()
        self.revoke_button.setEnabled(self.may_manage and device is not None and not device.revoked)
        self.revoke_button.setToolTip(self.tr("笔记本丢失或被盗时吊销：此后它的同步包和同步请求一律拒绝")
                                      if self.may_manage else self.tr("仅站所管理员可以吊销设备"))

    def _show_hub(self) -> None:
        hub = self.hub
        self.hub_button.setText(self.tr("停止同步服务(&S)") if hub.running else self.tr("开启同步服务(&S)"))
        on_file = self.ctx.engine.dialect.name == "sqlite"
        self.hub_button.setEnabled(self.may_manage and on_file)
        if not on_file:
            self.hub_button.setToolTip(self.tr("数据库在服务器上：同步服务由服务器的管理员在服务器上开启"))
        if hub.ready:
            addresses = "、".join(f"http://{a}:{hub.port}" for a in hub.addresses())
            self.hub_label.setText(tr_args(self.tr("同步服务已开启。笔记本在“与所里同步”中填写地址：%1"), addresses))
        elif hub.running:
            self.hub_label.setText(self.tr("同步服务正在开启…"))
        elif hub.error:
            self.hub_label.setText(self.tr("同步服务未开启：") + hub.error)
        else:
            self.hub_label.setText(self.tr("同步服务未开启。开启后，同一网络中的笔记本可以直接与所里同步"
                                           "（关闭本软件时自动停止）；没有网络时用U盘同步。"))

    # --- actions ----------------------------------------------------------------------------
    def register_laptop(self) -> None:
        dialog = RegisterLaptopDialog(self.ctx, parent=self)
        if not dialog.exec() or dialog.enrolment is None:
            return
        data = dialog.enrolment
        EnrolmentCodeDialog(data["device_name"], data["device_no"], dialog.path, data["enrolment_code"], self).exec()
        self.changed.emit(tr_args(self.tr("已登记笔记本“%1”（设备号 %2），登记文件：%3"),
                                  data["device_name"], data["device_no"], str(dialog.path)))

    def enrol_from_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("选择所里给的登记文件"), str(Path.home()),
                                              self.tr("登记文件 (*.json)"))
        if not path:
            return
        code, ok = QInputDialog.getText(self, self.tr("从文件加入所里"),
                                        self.tr("请输入所里登记时显示的 12 位登记码："))
        if not ok:
            return
        try:
            raw = Path(path).read_bytes()
        except OSError:
            QMessageBox.warning(self, self.tr("未能加入所里"), tr_args(self.tr("无法读取登记文件 %1"), path))
            return
        try:
            data = open_enrolment(raw, code)
            enrol_device(self.ctx, data)
        except DomainError as exc:
            QMessageBox.warning(self, self.tr("未能加入所里"), exc.message)
            return
        self.changed.emit(tr_args(self.tr("已加入 %1：本机为“%2”（设备号 %3），现在可以与所里同步"),
                                  data["station_name"], data["device_name"], data["device_no"]))

    def revoke_selected(self) -> None:
        device = self.current()
        if device is None or device.revoked:
            return
        question = tr_args(self.tr("吊销笔记本“%1”（设备号 %2）？此后它发来的同步包和同步请求一律拒绝，"
                                   "且不能撤销；找回后需重新登记。"), device.name, device.device_no)
        if QMessageBox.question(self, self.tr("吊销设备"), question) != QMessageBox.StandardButton.Yes:
            return
        try:
            revoked = revoke_device(self.ctx, device.id)
        except DomainError as exc:
            QMessageBox.warning(self, self.tr("未能吊销设备"), exc.message)
            return
        self.changed.emit(tr_args(self.tr("已吊销笔记本“%1”（设备号 %2）：此后它的同步包和同步请求一律拒绝"),
                                  revoked.name, revoked.device_no))

    def toggle_hub(self) -> None:
        if self.hub.running:
            self.hub.stop()
            return
        try:
            require(self.ctx, "manage_devices")  # the station's service: the admin starts it
        except DomainError as exc:
            QMessageBox.warning(self, self.tr("未能开启同步服务"), exc.message)
            return
        self.hub.start(self.ctx.engine.url.database, self.hub_host, self.hub_port)
