"""关于: the program, its version (``core.version``), where its data lives, and the libraries."""
from __future__ import annotations

import platform

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QFormLayout, QHBoxLayout, QLabel, QVBoxLayout

from core.context import AppContext
from core.paths import icon_path, user_data_dir
from core.version import APP_TITLE, app_version
from gui.i18n import tr_args
from gui.widgets import dialog_buttons


class AboutDialog(QDialog):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("关于 药械化现场检查"))
        self.setMinimumWidth(520)
        icon = QLabel()
        icon.setPixmap(QPixmap(str(icon_path())).scaled(
            96, 96, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        self.title = QLabel(tr_args(self.tr("<b style='font-size:16pt'>%1</b><br>版本 %2"), APP_TITLE, app_version()))
        self.title.setTextFormat(Qt.TextFormat.RichText)
        summary = QLabel(self.tr("化妆品、医疗器械和药品经营者的离线现场检查：检查表、现场检查笔录、"
                                 "责令改正通知书、扫码核验和分批同步。"))
        summary.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.addWidget(self.title)
        text.addWidget(summary)
        head.addLayout(text, 1)
        form = QFormLayout()
        self.version = self._value(app_version())
        form.addRow(self.tr("版本："), self.version)
        form.addRow(self.tr("数据库："), self._value(ctx.where))
        form.addRow(self.tr("数据文件夹："), self._value(str(user_data_dir())))
        form.addRow(self.tr("运行环境："), self._value(
            f"Python {platform.python_version()} · Qt {qVersion()} · PySide6 {PySide6.__version__}"))
        note = QLabel(self.tr("安装新版本不会改动数据文件夹；新版本第一次启动时自动备份并升级数据库。"))
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(dialog_buttons(self, None))

    @staticmethod
    def _value(text: str) -> QLabel:
        label = QLabel(text)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setWordWrap(True)
        return label
