"""Photos looked at in the app (a lead's photos in the inbox): each scaled to the window, in a scroll area.

Each is read through ``core.attachments.read_attachment`` (decrypted in memory, its hash checked)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QLabel, QScrollArea, QVBoxLayout, QWidget

from core.attachments import read_attachment
from core.errors import DomainError
from gui.i18n import tr_args
from gui.widgets import dialog_buttons
from gui.windows import fit_to_screen

WIDTH = 760  # the width a photo is shown at, at most


class PhotoViewer(QDialog):
    def __init__(self, title: str, ctx, photos: list[Path], parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        fit_to_screen(self, WIDTH + 60, 700)
        inner = QWidget()
        column = QVBoxLayout(inner)
        self.images: list[QLabel] = []
        for number, path in enumerate(photos, 1):
            pixmap, problem = QPixmap(), ""
            try:
                pixmap.loadFromData(read_attachment(ctx, path))
            except DomainError as exc:
                problem = exc.message
            image = QLabel()
            image.setAlignment(Qt.AlignmentFlag.AlignCenter)
            image.setWordWrap(True)
            if problem:
                image.setText(tr_args(self.tr("第 %1 张照片无法显示：%2"), number, problem))
            elif pixmap.isNull():
                image.setText(tr_args(self.tr("第 %1 张照片无法显示（文件缺失或已损坏）"), number))
            else:
                image.setPixmap(pixmap if pixmap.width() <= WIDTH else
                                pixmap.scaledToWidth(WIDTH, Qt.TransformationMode.SmoothTransformation))
            column.addWidget(QLabel(tr_args(self.tr("第 %1 张，共 %2 张"), number, len(photos))))
            column.addWidget(image)
            self.images.append(image)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(dialog_buttons(self, None))
