"""A subject's page: its register details and inspection history; start an inspection here."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from core.context import AppContext
from core.deletions import delete_subject
from core.inspections import list_inspections
from core.subjects import STATUSES, get_subject
from core.grades import grade_history, grade_table, is_graded
from core.tasks import subject_due
from gui.i18n import tr_args
from gui.messages import attempt
from gui.models import GradeHistoryModel, InspectionTableModel
from gui.widgets import button_row, make_table, push_button
from gui.windows import fit_to_screen


class SubjectPage(QWidget):
    changed = Signal()

    def __init__(self, ctx: AppContext, subject_id: str, *, open_inspection: Callable[[str], None], parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.ctx, self.subject_id, self._open_inspection = ctx, subject_id, open_inspection
        self.deleted = False
        fit_to_screen(self, 900, 600)

        self.details = QFormLayout()
        box = QGroupBox(self.tr("基本信息"))
        box.setLayout(self.details)
        self.edit_button = push_button(self.tr("编辑(&E)"), self.edit)
        self.event_button = push_button(self.tr("登记触发事件(&V)…"), self.register_event)
        self.grade_button = push_button(self.tr("调整风险等级(&R)…"), self.change_grade)
        self.delete_button = push_button(self.tr("删除(&D)…"), self.delete)
        self.new_button = push_button(self.tr("新建检查(&N)"), self.new_inspection, default=True)
        buttons = button_row((self.edit_button, self.event_button, self.grade_button, self.delete_button),
                             (self.new_button,))

        self.history_model = InspectionTableModel(self)
        self.history_view = make_table(self.history_model, lambda r: self._open_inspection(r.id))
        history = QGroupBox(self.tr("检查记录"))
        QVBoxLayout(history).addWidget(self.history_view)

        self.due_label = QLabel()
        self.due_label.setWordWrap(True)
        self.grade_model = GradeHistoryModel(self)
        self.grade_view = make_table(self.grade_model, lambda _row: None)
        self.grade_box = QGroupBox(self.tr("风险等级与调整记录"))
        grade_layout = QVBoxLayout(self.grade_box)
        self.grade_label = QLabel()
        grade_layout.addWidget(self.grade_label)
        grade_layout.addWidget(self.grade_view)
        oversight = QGroupBox(self.tr("是否应检查"))
        QVBoxLayout(oversight).addWidget(self.due_label)

        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addWidget(oversight)
        layout.addLayout(buttons)
        layout.addWidget(self.grade_box)
        layout.addWidget(history, 1)
        self.refresh()

    def refresh(self) -> None:
        if self.deleted:
            return
        s = get_subject(self.ctx, self.subject_id)
        self.subject = s
        self.setWindowTitle(tr_args(self.tr("监管对象 — %1"), s.name))
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
        due = subject_due(self.ctx, self.subject_id)
        self.due_label.setText(due.text)
        self.due_label.setStyleSheet("color: #b00020; font-weight: bold" if due.due else "color: #1b7f3b")
        table = grade_table(self.ctx)  # shipped, or a newer one published here or from above
        graded = is_graded(s.category, table)
        self.grade_box.setVisible(graded)
        self.grade_button.setVisible(graded)
        if graded:
            grade = s.grade or table.default_grade
            info = table.grades[grade]
            note = "" if s.grade else self.tr("（未评定，按默认等级）")
            self.grade_label.setText(f"<b>{self.tr(info.label)}</b>{note}　{info.baseline_text}")
            self.grade_model.set_rows(grade_history(self.ctx, self.subject_id))

    def edit(self) -> None:
        from gui.subject_dialog import SubjectDialog

        if SubjectDialog(self.ctx, self.subject, parent=self).exec():
            self.refresh()
            self.changed.emit()

    def register_event(self) -> None:
        from gui.oversight_dialogs import EventDialog

        if EventDialog(self.ctx, self.subject_id, parent=self).exec():
            self.refresh()
            self.changed.emit()

    def change_grade(self) -> None:
        from gui.oversight_dialogs import GradeDialog

        current = self.subject.grade or grade_table(self.ctx).default_grade  # as the page shows it
        if GradeDialog(self.ctx, self.subject_id, current, parent=self).exec():
            self.refresh()
            self.changed.emit()

    def delete(self) -> None:
        """删除 a subject entered by mistake (a duplicate, a typing error): it goes from the laptops
        too at their next sync. One with records (inspections, tasks, leads…) is refused by the core."""
        answer = QMessageBox.question(
            self, self.tr("删除监管对象"),
            tr_args(self.tr("删除监管对象“%1”（%2）？\n\n只用于误录或重复登记的对象；删除后，同步时各笔记本上的"
                            "该对象也会删除。已有检查记录、任务或线索的对象不能删除，如已注销或停业请修改其状态。"),
                    self.subject.name, self.subject.credit_code or self.tr("无统一社会信用代码")),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        if attempt(self, self.tr("不能删除"), delete_subject, self.ctx, self.subject_id):
            self.deleted = True  # the lists' refresh must not read the subject again
            self.close()
            self.changed.emit()

    def new_inspection(self) -> None:
        from gui.new_inspection_dialog import NewInspectionDialog

        # a subject that is due is inspected for its task, so that signing closes the task
        pending = [t for t in subject_due(self.ctx, self.subject_id).tasks if not t.inspection_id]
        dialog = NewInspectionDialog(self.ctx, self.subject, parent=self, task=pending[0] if pending else None)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.inspection_id:
            self.refresh()
            self.changed.emit()
            self._open_inspection(dialog.inspection_id)
