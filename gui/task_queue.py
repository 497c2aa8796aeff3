"""The task queue (检查任务): what is due and why, filtered; start an inspection from a task."""
from __future__ import annotations

from datetime import date
from functools import partial
from typing import Callable

from PySide6.QtCore import QDate, QModelIndex, QSortFilterProxyModel, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from core.context import AppContext
from core.deletions import delete_task
from core.rules import PRIORITY_LABELS
from core.subjects import get_subject
from core.tasks import OPEN_STATUSES, TASK_STATUS_LABELS, cancel_task, import_events, list_tasks
from gui.i18n import tr_args
from gui.list_filters import station_choice
from gui.messages import attempt
from gui.models import ROW_ROLE, TaskTableModel
from gui.operations import run_import
from gui.widgets import button_row, make_table, push_button

ALL = ""
OPEN = "open+in_progress"


class TaskFilter(QSortFilterProxyModel):
    """Filters by status, priority, grid, officer and due date."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.status, self.priority, self.grid, self.officer = OPEN, ALL, ALL, ALL
        self.due_by: date | None = None

    def set(self, **values) -> None:
        self.beginFilterChange()
        for key, value in values.items():
            setattr(self, key, value)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:
        task = self.sourceModel().row_at(source_row)
        if self.status == OPEN and task.status not in OPEN_STATUSES:
            return False
        if self.status not in (ALL, OPEN) and task.status != self.status:
            return False
        if self.priority and task.priority != self.priority:
            return False
        if self.grid and task.grid != self.grid:
            return False
        if self.officer and self.officer not in {o.name for o in task.officers}:
            return False
        return self.due_by is None or task.due <= self.due_by


class TaskQueue(QWidget):
    changed = Signal()

    def __init__(self, ctx: AppContext, *, runner, open_inspection: Callable[[str], None], parent=None,
                 load: bool = True):
        super().__init__(parent)
        self.ctx, self.runner, self._open_inspection = ctx, runner, open_inspection
        self.model = TaskTableModel(self)
        self.proxy = TaskFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = make_table(self.proxy, self.start)

        self.status = QComboBox()
        self.status.addItem(self.tr("未完成"), OPEN)
        for code, label in TASK_STATUS_LABELS.items():
            self.status.addItem(self.tr(label), code)
        self.status.addItem(self.tr("全部"), ALL)
        self.priority = QComboBox()
        self.priority.addItem(self.tr("全部优先级"), ALL)
        for code, label in PRIORITY_LABELS.items():
            self.priority.addItem(tr_args(self.tr("%1优先级"), self.tr(label)), code)
        self.grid = QComboBox()
        self.officer = QComboBox()
        self.station = station_choice(ctx, self.tr("全部站所"))  # a county's database only
        self.station.currentIndexChanged.connect(lambda _i: self.refresh())
        self.due_enabled = QCheckBox(self.tr("截止日期不晚于"))
        self.due_by = QDateEdit(QDate.currentDate().addDays(7))
        self.due_by.setCalendarPopup(True)
        self.due_by.setEnabled(False)
        for combo in (self.status, self.priority, self.grid, self.officer):
            combo.currentIndexChanged.connect(self._apply_filter)
        self.due_enabled.toggled.connect(self.due_by.setEnabled)
        self.due_enabled.toggled.connect(self._apply_filter)
        self.due_by.dateChanged.connect(self._apply_filter)

        self.start_button = push_button(self.tr("开始检查(&G)"), lambda: self.start(self._current()))
        self.cancel_button = push_button(self.tr("取消任务…"), self.cancel)
        self.delete_button = push_button(self.tr("删除任务…"), self.delete)
        self.import_button = push_button(self.tr("导入触发事件…"), self.import_events)
        self.plan_button = push_button(self.tr("年度计划与随机抽取…"), self.open_plan)
        self.summary = QLabel()

        filters = QHBoxLayout()
        for widget in (self.station, self.status, self.priority, self.grid, self.officer, self.due_enabled, self.due_by):
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        layout.addLayout(button_row((self.start_button, self.cancel_button, self.delete_button), (self.import_button, self.plan_button)))
        if load:
            self.refresh()

    def refresh(self) -> None:
        selected = self._current()
        rows = list_tasks(self.ctx, station=self.station.currentData() or None)
        self.model.set_rows(rows)
        for combo, values, everything in (
            (self.grid, sorted({r.grid for r in rows if r.grid}), self.tr("全部网格")),
            (self.officer, sorted({o.name for r in rows for o in r.officers}), self.tr("全部执法人员")),
        ):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everything, ALL)
            for value in values:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(combo.findData(current), 0))
            combo.blockSignals(False)
        self._apply_filter()
        if selected is not None:  # an autosave elsewhere refreshes the queue: keep the user's place
            for r in range(self.proxy.rowCount()):
                if self.proxy.index(r, 0).data(ROW_ROLE).id == selected.id:
                    self.view.selectRow(r)
                    break

    def _apply_filter(self, *_args) -> None:
        d = self.due_by.date()
        self.proxy.set(
            status=self.status.currentData(), priority=self.priority.currentData(),
            grid=self.grid.currentData() or ALL, officer=self.officer.currentData() or ALL,
            due_by=date(d.year(), d.month(), d.day()) if self.due_enabled.isChecked() else None,
        )
        shown = [self.proxy.index(r, 0).data(ROW_ROLE) for r in range(self.proxy.rowCount())]
        overdue = sum(1 for t in shown if t.overdue)
        self.summary.setText(tr_args(self.tr("%1 个任务，其中逾期 %2 个"), len(shown), overdue))

    def _changed(self) -> None:
        """Tasks changed here: reload the queue and tell the lists elsewhere."""
        self.refresh()
        self.changed.emit()

    def _current(self):
        index = self.view.currentIndex()
        return index.data(ROW_ROLE) if index.isValid() else None

    def start(self, task) -> None:
        """Open the task's inspection: start it first (checklist and officers from the task)."""
        if task is None:
            return
        if task.inspection_id:
            self._open_inspection(task.inspection_id)
            return
        if task.status not in OPEN_STATUSES:
            QMessageBox.information(self, self.tr("任务已结束"), self.tr("该任务已结束，不能再开始检查。"))
            return
        from gui.new_inspection_dialog import NewInspectionDialog

        dialog = NewInspectionDialog(self.ctx, get_subject(self.ctx, task.subject_id), parent=self, task=task)
        if dialog.exec() and dialog.inspection_id:
            self._changed()
            self._open_inspection(dialog.inspection_id)

    def cancel(self) -> None:
        task = self._current()
        if task is None:
            return
        reason, ok = QInputDialog.getText(self, self.tr("取消任务"), self.tr("取消理由："))
        if not ok:
            return
        if attempt(self, self.tr("不能取消"), cancel_task, self.ctx, task.id, reason):
            self._changed()

    def delete(self) -> None:
        """删除 a task withdrawn before anyone started it (a mistaken one): it goes from the laptops too."""
        task = self._current()
        if task is None:
            return
        answer = QMessageBox.question(
            self, self.tr("删除任务"),
            tr_args(self.tr("删除“%1”的检查任务（截止 %2）？\n删除后同步时各笔记本上的这条任务也会删除。"
                            "已开始的任务不能删除，请改为取消。"), task.subject_name, task.due.isoformat()),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        if attempt(self, self.tr("不能删除"), delete_task, self.ctx, task.id):
            self._changed()

    def import_events(self) -> None:
        def describe(summary) -> str:
            return tr_args(self.tr("导入 %1 条，跳过（已导入）%2 条，拒绝 %3 行；新建任务 %4 个，并入已有任务 %5 个。"),
                           summary.imported, summary.skipped, len(summary.rejected), summary.tasks_created,
                           summary.tasks_updated)

        run_import(self, partial(import_events, self.ctx), title=self.tr("导入触发事件"),
                   file_filter=self.tr("事件清单 (*.xlsx *.csv)"), label=self.tr("正在导入触发事件…"),
                   describe=describe, after=self._changed, runner=self.runner)

    def open_plan(self) -> None:
        from gui.plan_dialog import PlanDialog

        PlanDialog(self.ctx, parent=self).exec()
        self._changed()
