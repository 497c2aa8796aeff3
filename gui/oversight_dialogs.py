"""Small dialogs of trigger-based oversight: change a grade, register a trigger event."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
)

from core.context import AppContext
from core.errors import DomainError
from core.rules import GRADE_LABELS, default_rules
from core.grades import set_grade
from core.tasks import record_event
from gui.widgets import dialog_buttons


class _FormDialog(QDialog):
    """A form with a red message line and Save/Cancel; ``apply()`` does the work."""

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.form = QFormLayout()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        buttons = dialog_buttons(self, self.tr("保存"), self._save, save=True)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def apply(self) -> None:
        raise NotImplementedError

    def _save(self) -> None:
        try:
            self.apply()
        except DomainError as exc:
            self.message.setText(exc.message)
            return
        self.accept()


def _qdate_to_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class GradeDialog(_FormDialog):
    def __init__(self, ctx: AppContext, subject_id: str, current: int | None, parent=None):
        super().__init__(self.tr("调整风险等级"), parent)
        self.ctx, self.subject_id = ctx, subject_id
        self.grade = QComboBox()
        for grade in (3, 2, 1):
            self.grade.addItem(self.tr(GRADE_LABELS[grade]), grade)
        if current:
            self.grade.setCurrentIndex(self.grade.findData(current))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(self.tr("例如：经营无菌植入类器械，列入重点监管目录"))
        self.changed_by = QLineEdit(ctx.user.name if ctx.user is not None else "")  # who is logged in
        self.form.addRow(self.tr("风险等级："), self.grade)
        self.form.addRow(self.tr("理由(&R)："), self.reason)
        self.form.addRow(self.tr("调整人："), self.changed_by)

    def apply(self) -> None:
        set_grade(self.ctx, self.subject_id, self.grade.currentData(),
                  reason=self.reason.text(), changed_by=self.changed_by.text())


class EventDialog(_FormDialog):
    def __init__(self, ctx: AppContext, subject_id: str, parent=None):
        super().__init__(self.tr("登记触发事件"), parent)
        self.ctx, self.subject_id = ctx, subject_id
        self.outcome = None
        self.event_type = QComboBox()
        for event_type in default_rules()[0].event_types.values():
            if event_type.code not in ("rectification_due", "rectification_failed"):  # the app raises these
                self.event_type.addItem(self.tr(event_type.label), event_type.code)
        self.occurred_on = QDateEdit(QDate.currentDate())
        self.occurred_on.setCalendarPopup(True)
        self.source_ref = QLineEdit()
        self.source_ref.setPlaceholderText(self.tr("上级平台的编号，可不填"))
        self.details = QPlainTextEdit()
        self.details.setTabChangesFocus(True)
        self.form.addRow(self.tr("事件类型(&T)："), self.event_type)
        self.form.addRow(self.tr("发生日期："), self.occurred_on)
        self.form.addRow(self.tr("来源编号："), self.source_ref)
        self.form.addRow(self.tr("详情："), self.details)

    def apply(self) -> None:
        self.outcome = record_event(
            self.ctx, self.subject_id, self.event_type.currentData(), _qdate_to_date(self.occurred_on.date()),
            source_ref=self.source_ref.text().strip() or None, details=self.details.toPlainText(),
        )
