"""A subject's page: its register details and inspection history; start an inspection here."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.context import AppContext
from core.inspections import list_inspections
from core.subjects import STATUSES, get_subject
from gui.main_window import make_table
from gui.models import InspectionTableModel


class SubjectPage(QWidget):
    changed = Signal()

    def __init__(self, ctx: AppContext, subject_id: str, *, open_inspection: Callable[[str], None], parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.ctx, self.subject_id, self._open_inspection = ctx, subject_id, open_inspection
        self.resize(900, 600)

        self.details = QFormLayout()
        box = QGroupBox(self.tr("基本信息"))
        box.setLayout(self.details)
        self.edit_button = QPushButton(self.tr("编辑(&E)"))
        self.edit_button.clicked.connect(self.edit)
        self.new_button = QPushButton(self.tr("新建检查(&N)"))
        self.new_button.setDefault(True)
        self.new_button.clicked.connect(self.new_inspection)
        buttons = QHBoxLayout()
        buttons.addWidget(self.edit_button)
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)

        self.history_model = InspectionTableModel(self)
        self.history_view = make_table(self.history_model, lambda r: self._open_inspection(r.id))
        history = QGroupBox(self.tr("检查记录"))
        QVBoxLayout(history).addWidget(self.history_view)

        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addLayout(buttons)
        layout.addWidget(history, 1)
        self.refresh()

    def refresh(self) -> None:
        s = get_subject(self.ctx, self.subject_id)
        self.subject = s
        self.setWindowTitle(self.tr("监管对象 — %s") % s.name)
        while self.details.rowCount():
            self.details.removeRow(0)
        code = s.credit_code or self.tr("（无统一社会信用代码，待补全）")
        for label, value in (
            (self.tr("名称"), s.name), (self.tr("统一社会信用代码"), code),
            (self.tr("类别"), self.tr(s.category_label)), (self.tr("许可证号/备案号"), " ".join(filter(None, (s.licence_no, s.filing_no)))),
            (self.tr("法定代表人"), s.legal_rep), (self.tr("地址"), s.address), (self.tr("联系电话"), s.phone),
            (self.tr("网格"), s.grid), (self.tr("状态"), self.tr(STATUSES.get(s.status, s.status))),
        ):
            value_label = QLabel(value)
            value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if label == self.tr("统一社会信用代码") and s.flagged:
                value_label.setStyleSheet("color: #b35c00")
            self.details.addRow(label + "：", value_label)
        self.history_model.set_rows(list_inspections(self.ctx, subject_id=self.subject_id))

    def edit(self) -> None:
        from gui.subject_dialog import SubjectDialog

        if SubjectDialog(self.ctx, self.subject, parent=self).exec():
            self.refresh()
            self.changed.emit()

    def new_inspection(self) -> None:
        from gui.new_inspection_dialog import NewInspectionDialog

        dialog = NewInspectionDialog(self.ctx, self.subject, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.inspection_id:
            self.refresh()
            self.changed.emit()
            self._open_inspection(dialog.inspection_id)
