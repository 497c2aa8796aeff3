"""Signatures drawn on screen with a mouse, pen or finger, saved as PNG."""
from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from gui.widgets import dialog_buttons


class SignaturePad(QWidget):
    """A white pad that records strokes; ``png()`` gives the drawing on a transparent background."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(QSize(480, 180))
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.strokes: list[QPainterPath] = []
        self._pen = QPen(QColor(15, 25, 110), 3.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)

    def is_empty(self) -> bool:
        return not self.strokes

    def clear(self) -> None:
        self.strokes.clear()
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        path = QPainterPath(event.position())
        path.lineTo(event.position() + QPointF(0.1, 0.1))
        self.strokes.append(path)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.strokes and event.buttons() & Qt.MouseButton.LeftButton:
            self.strokes[-1].lineTo(event.position())
            self.update()

    def _paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self._pen)
        for path in self.strokes:
            painter.drawPath(path)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.white)
        painter.setPen(QPen(QColor(200, 200, 200), 1, Qt.PenStyle.DashLine))
        baseline = int(self.height() * 0.75)
        painter.drawLine(10, baseline, self.width() - 10, baseline)
        self._paint(painter)

    def png(self) -> bytes:
        image = QImage(self.size(), QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        self._paint(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        return bytes(data.data())


class SignatureDialog(QDialog):
    """Asks one person to sign: their name and the drawn signature."""

    def __init__(self, title: str, name: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.name = QLineEdit(name)
        self.pad = SignaturePad()
        self.message = QLabel()
        self.message.setStyleSheet("color: #b00020")
        clear = QPushButton(self.tr("重写(&R)"))
        clear.clicked.connect(self.pad.clear)
        buttons = dialog_buttons(self, self.tr("确认签名"), self._accept)
        buttons.addButton(clear, QDialogButtonBox.ButtonRole.ResetRole)
        form = QFormLayout()
        form.addRow(self.tr("签名人姓名(&N)："), self.name)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("请在下方框内签名：")))
        layout.addWidget(self.pad, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def _accept(self) -> None:
        if self.pad.is_empty():
            self.message.setText(self.tr("请先签名"))
            return
        if not self.name.text().strip():
            self.message.setText(self.tr("请填写签名人姓名"))
            return
        self.accept()
