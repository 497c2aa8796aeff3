"""Small dialogs of trigger-based oversight: change a grade, register a trigger event."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QComboBox, QDateEdit, QLineEdit, QPlainTextEdit

from core.context import AppContext
from core import published
from core.rules import GRADE_LABELS
from core.grades import set_grade
from core.tasks import record_event
from gui.widgets import FormDialog


def _qdate_to_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class GradeDialog(FormDialog):
    def __init__(self, ctx: AppContext, subject_id: str, current: int | None, parent=None):
        super().__init__(self.tr("调整风险等级"), parent)
        self.ctx, self.subject_id = ctx, subject_id
        self.grade = self.add_row(self.tr("风险等级："), QComboBox())
        for grade in (3, 2, 1):
            self.grade.addItem(self.tr(GRADE_LABELS[grade]), grade)
        if current:
            self.grade.setCurrentIndex(self.grade.findData(current))
        self.reason = self.add_row(self.tr("理由(&R)："), QLineEdit())
        self.reason.setPlaceholderText(self.tr("例如：经营无菌植入类器械，列入重点监管目录"))
        who = ctx.user.name if ctx.user is not None else ""  # who is logged in
        self.changed_by = self.add_row(self.tr("调整人："), QLineEdit(who))
        self.lay_out()

    def apply(self) -> None:
        set_grade(self.ctx, self.subject_id, self.grade.currentData(),
                  reason=self.reason.text(), changed_by=self.changed_by.text())


class EventDialog(FormDialog):
    def __init__(self, ctx: AppContext, subject_id: str, parent=None):
        super().__init__(self.tr("登记触发事件"), parent)
        self.ctx, self.subject_id = ctx, subject_id
        self.outcome = None
        self.event_type = self.add_row(self.tr("事件类型(&T)："), QComboBox())
        for event_type in published.rules(ctx)[0].event_types.values():
            if event_type.code not in ("rectification_due", "rectification_failed"):  # the app raises these
                self.event_type.addItem(self.tr(event_type.label), event_type.code)
        self.occurred_on = self.add_row(self.tr("发生日期："), QDateEdit(QDate.currentDate()))
        self.occurred_on.setCalendarPopup(True)
        self.source_ref = self.add_row(self.tr("来源编号："), QLineEdit())
        self.source_ref.setPlaceholderText(self.tr("上级平台的编号，可不填"))
        self.details = self.add_row(self.tr("详情："), QPlainTextEdit())
        self.details.setTabChangesFocus(True)
        self.lay_out()

    def apply(self) -> None:
        self.outcome = record_event(
            self.ctx, self.subject_id, self.event_type.currentData(), _qdate_to_date(self.occurred_on.date()),
            source_ref=self.source_ref.text().strip() or None, details=self.details.toPlainText(),
        )
