"""导出 Excel buttons for the lists (register, inspection list, plan dialog, lead inbox).

Each button asks for a file name and runs ``core.exports.export_xlsx`` on a worker
(``gui.operations.run_op``) with the filters its list shows; the lists add the button
and nothing else. The runner is the nearest parent's (the main window's), else its own.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QFileDialog, QPushButton, QWidget

from core.context import AppContext
from core.exports import WHAT, ExportFilter, Exported, export_xlsx
from gui.i18n import tr_args
from gui.operations import run_op


def _tr(text: str) -> str:
    return QCoreApplication.translate("export", text)


class ExportButton(QPushButton):
    """导出Excel… for the list ``what`` (core.exports.WHAT); ``filters()`` gives what the list shows."""

    exported = Signal(object)  # core.exports.Exported

    def __init__(self, ctx: AppContext, what: str, filters: Callable[[], ExportFilter] = ExportFilter,
                 parent: QWidget | None = None, *, runner=None):
        super().__init__(parent)
        self.setText(self.tr("导出Excel…"))
        self.ctx, self.what, self.filters, self._runner = ctx, what, filters, runner
        self.setToolTip(tr_args(self.tr("把%1导出为 Excel 工作簿"), _tr(WHAT[what])))
        self.clicked.connect(self.export)

    def runner(self):
        if self._runner is None:
            widget = self.parentWidget()
            while widget is not None and getattr(widget, "runner", None) is None:
                widget = widget.parentWidget()
            if widget is not None:
                return widget.runner
            from gui.jobs import JobRunner

            self._runner = JobRunner()
        return self._runner

    def export(self) -> None:
        from core.errors import DomainError
        from gui.messages import show_failure

        try:
            filters = self.filters()
        except DomainError as exc:
            show_failure(self, exc)
            return
        station = self.ctx.setting("station_name")
        default = Path.home() / f"{station}{WHAT[self.what]}.xlsx"
        path, _ = QFileDialog.getSaveFileName(self, self.tr("导出Excel"), str(default), self.tr("Excel 工作簿 (*.xlsx)"))
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        ctx, what = self.ctx, self.what

        def job(progress, _cancelled) -> Exported:
            return export_xlsx(ctx, what, Path(path), filters, progress=progress)

        def done(result: Exported) -> None:
            self.setToolTip(tr_args(self.tr("已导出 %1 条：%2"), result.rows, str(result.path)))
            self.exported.emit(result)

        run_op(self, self.tr("正在导出…"), job, on_done=done, runner=self.runner())
