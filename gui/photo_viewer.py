"""Photos looked at in the app (a lead's photos in the inbox): each scaled to the window, in a scroll area.

Each is read through ``core.attachments.read_attachment`` (decrypted in memory, its hash checked)."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.attachments import read_attachment
from core.errors import DomainError
from gui.i18n import tr_args
from gui.widgets import dialog_buttons
from gui.windows import fit_to_screen

WIDTH = 760  # the width a photo is shown at, at most


class PhotoViewer(QDialog):
    """``photo_ids`` with ``remove(photo_id) -> bool``: each photo gets 删除此照片… (a lead's photos
    while the lead is open); removed, it leaves the viewer."""

    def __init__(self, title: str, ctx, photos: list[Path], parent=None, *, photo_ids=(),
                 remove: Callable[[str], bool] | None = None):
        super().__init__(parent)
        self._remove = remove
        self.remove_buttons: list[QPushButton] = []
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
            heading = QHBoxLayout()
            heading.addWidget(QLabel(tr_args(self.tr("第 %1 张，共 %2 张"), number, len(photos))), 1)
            box = QWidget()
            if remove is not None and number <= len(photo_ids):
                button = QPushButton(self.tr("删除此照片…"))
                button.clicked.connect(partial(self._delete, photo_ids[number - 1], number, box))
                heading.addWidget(button)
                self.remove_buttons.append(button)
            inner_column = QVBoxLayout(box)
            inner_column.setContentsMargins(0, 0, 0, 0)
            inner_column.addLayout(heading)
            inner_column.addWidget(image)
            column.addWidget(box)
            self.images.append(image)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(dialog_buttons(self, None))

    def _delete(self, photo_id: str, number: int, box: QWidget) -> None:
        answer = QMessageBox.question(
            self, self.tr("删除照片"),
            tr_args(self.tr("删除第 %1 张照片？\n删除后同步时各笔记本上的这张照片也会删除。"), number),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes and self._remove(photo_id):
            box.hide()
