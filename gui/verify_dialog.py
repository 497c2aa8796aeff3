"""验证文书: type or scan (a scanner types too) the QR payload of a printed form."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton, QVBoxLayout

from core.context import AppContext
from core.verification import verify_payload
from gui.widgets import dialog_buttons
from gui.windows import FRAME_HEIGHT, available_area


class VerifyDialog(QDialog):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("验证文书"))
        self.setMinimumWidth(620)
        self.payload = QLineEdit()
        self.payload.setPlaceholderText(self.tr("用扫码枪扫描文书右上角的二维码，或粘贴其内容"))
        self.payload.returnPressed.connect(self.check)
        self.check_button = QPushButton(self.tr("验证(&V)"))
        self.check_button.clicked.connect(self.check)
        self.result = QLabel()
        self.result.setWordWrap(True)
        buttons = dialog_buttons(self, None)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("二维码内容：")))
        layout.addWidget(self.payload)
        layout.addWidget(self.check_button)
        layout.addWidget(self.result)
        layout.addWidget(buttons)

    def check(self) -> None:
        verdict = verify_payload(self.ctx, self.payload.text())
        color = "#1b7f3b" if verdict.ok else "#b00020"
        mark = "✔" if verdict.ok else "✘"
        self.result.setStyleSheet(f"color: {color}; font-size: 15px")
        self.result.setText(f"{mark} {verdict.message}")
        self._grow_to_fit()
        self.verdict = verdict

    def _grow_to_fit(self) -> None:
        """Taller when the verdict wraps to more lines than the dialog has room for (never off the screen)."""
        layout = self.layout()
        layout.activate()
        needed = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else self.sizeHint().height()
        room = available_area(self).bottom() - FRAME_HEIGHT - self.y()
        if needed > self.height():
            self.resize(self.width(), max(self.height(), min(needed, room)))
