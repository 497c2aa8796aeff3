"""导入名册: pick a file, see how its columns were read and what each row will become, then import.

Nothing is written until 导入 is pressed; the rejected rows can be saved to an Excel file with
their reason, to be fixed and imported again.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QDialog, QFileDialog, QLabel, QVBoxLayout, QWidget

from core.context import AppContext
from core.register_import import ImportPlan, export_rejected, import_subjects, preview_import
from gui.i18n import tr_args
from gui.messages import show_failure
from gui.models import RowTableModel, tr
from gui.operations import run_op
from gui.widgets import button_row, make_table, push_button
from gui.windows import fit_to_screen

OUTCOME_COLORS = {"rejected": "#b00020", "duplicate": "#6b6b6b"}


class PlanModel(RowTableModel):
    columns = (
        ("行号", lambda r: str(r.row)),
        ("名称", lambda r: r.values.get("name", "")),
        ("统一社会信用代码", lambda r: r.data.credit_code if r.data else r.values.get("credit_code", "")),
        ("类别", lambda r: tr(r.category_label)),
        ("地址", lambda r: r.values.get("address", "")),
        ("结果", lambda r: r.outcome_label),
    )

    def foreground(self, row) -> QBrush | None:
        color = OUTCOME_COLORS.get(row.outcome)
        return QBrush(QColor(color)) if color else None


def start_import(parent: QWidget, ctx: AppContext, *, runner, after: Callable[[], None]) -> None:
    """Ask for the register file, read it on a worker, then show the preview dialog (not modal to the app)."""
    path, _ = QFileDialog.getOpenFileName(parent, parent.tr("导入监管对象名册"), str(Path.home()),
                                          parent.tr("名册 (*.xlsx *.csv)"))
    if not path:
        return

    def shown(plan: ImportPlan) -> None:
        dialog = RegisterImportDialog(ctx, Path(path), plan, runner=runner, after=after, parent=parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    run_op(parent, parent.tr("正在读取名册…"), lambda p, c: preview_import(ctx, Path(path), progress=p, cancelled=c),
           on_done=shown, runner=runner, failure_title=parent.tr("无法导入名册"))


class RegisterImportDialog(QDialog):
    def __init__(self, ctx: AppContext, path: Path, plan: ImportPlan, *, runner, after: Callable[[], None],
                 parent=None):
        super().__init__(parent)
        self.ctx, self.path, self.plan, self.runner, self._after = ctx, path, plan, runner, after
        self.setWindowTitle(tr_args(self.tr("导入监管对象名册 — %1"), plan.file_name))
        self.mapping = QLabel(tr_args(self.tr("表头在第 %1 行。列的对应：%2。"), plan.header_row, plan.mapping_text)
                              + (tr_args(self.tr("未使用的列：%1。"), "、".join(plan.unused)) if plan.unused else ""))
        self.mapping.setWordWrap(True)
        self.counts = QLabel(tr_args(self.tr("将导入 %1 个，已存在而跳过 %2 个，拒绝 %3 行（红色，原因见“结果”列）。"),
                                     plan.count("import"), plan.count("duplicate"), plan.count("rejected")))
        self.counts.setWordWrap(True)
        self.model = PlanModel(self)
        self.model.set_rows(plan.rows)
        self.view = make_table(self.model, lambda _row: None)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.export_button = push_button(self.tr("导出被拒绝的行(&E)…"), self.export)
        self.export_button.setEnabled(plan.count("rejected") > 0)
        self.import_button = push_button(tr_args(self.tr("导入 %1 个(&I)"), plan.count("import")), self.run_import,
                                         default=True)
        self.import_button.setEnabled(plan.count("import") > 0)
        self.close_button = push_button(self.tr("取消"), self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.mapping)
        layout.addWidget(self.counts)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.result)
        layout.addLayout(button_row((self.export_button,), (self.import_button, self.close_button)))
        fit_to_screen(self, 1100, 640)

    def run_import(self) -> None:
        def done(summary) -> None:
            self.result.setStyleSheet("color: #1b7f3b")
            self.result.setText(tr_args(self.tr("✔ 已导入 %1 个，跳过（已存在）%2 个，拒绝 %3 行。"),
                                        summary.imported, summary.skipped, len(summary.rejected)))
            self.import_button.setEnabled(False)
            self.close_button.setText(self.tr("关闭"))
            self._after()

        self.import_button.setEnabled(False)
        run_op(self, self.tr("正在导入名册…"),
               lambda p, c: import_subjects(self.ctx, self.path, progress=p, cancelled=c),
               on_done=done, runner=self.runner, failure_title=self.tr("无法导入名册"),
               on_error=self._failed)

    def _failed(self, exc: Exception) -> None:
        self.import_button.setEnabled(self.plan.count("import") > 0)
        show_failure(self, exc, self.tr("无法导入名册"))

    def export(self) -> None:
        target, _ = QFileDialog.getSaveFileName(self, self.tr("导出被拒绝的行"),
                                                str(self.path.with_name(self.path.stem + "-未导入.xlsx")),
                                                self.tr("Excel 文件 (*.xlsx)"))
        if not target:
            return
        try:
            count = export_rejected(self.plan, Path(target))
        except Exception as exc:  # noqa: BLE001 - a DomainError's message, or the logged unexpected
            show_failure(self, exc, self.tr("导出失败"))
            return
        self.result.setStyleSheet("")
        self.result.setText(tr_args(self.tr("已保存到 %1（%2 行，含拒绝原因；改正后可再次导入）"), target, count))
