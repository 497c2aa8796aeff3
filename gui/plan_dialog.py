"""年度计划与随机抽取: draw the year's baseline plan; the seed and input digest are shown."""
from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from core.context import AppContext
from core.errors import DomainError
from core.plan import make_plan
from gui.i18n import tr_args
from gui.models import PlanEntryModel
from gui.widgets import dialog_buttons, make_table
from gui.windows import fit_to_screen


class PlanDialog(QDialog):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.plan = None
        self.setWindowTitle(self.tr("年度基线检查计划与随机抽取"))
        fit_to_screen(self, 1000, 600)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(date.today().year)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2_000_000_000)
        self.seed.setValue(int(date.today().strftime("%Y%m%d")))
        self.draw_button = QPushButton(self.tr("抽取并生成任务(&D)"))
        self.draw_button.clicked.connect(self.draw)
        self.result = QLabel(self.tr("同一随机种子和同一数据，抽取结果完全相同，任何人都可复核（一公开）。"))
        self.result.setWordWrap(True)
        self.model = PlanEntryModel(self)
        self.view = make_table(self.model, lambda _row: None)
        form = QFormLayout()
        form.addRow(self.tr("年度："), self.year)
        form.addRow(self.tr("随机种子："), self.seed)
        buttons = dialog_buttons(self, None)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.draw_button)
        layout.addWidget(self.result)
        layout.addWidget(self.view, 1)
        layout.addWidget(self._export_button())
        layout.addWidget(buttons)

    def _export_button(self):
        """导出Excel… of the chosen year's plan and its draw, for 公示 (gui/export_xlsx.py)."""
        from core.exports import ExportFilter
        from gui.export_xlsx import ExportButton

        self.export_button = ExportButton(self.ctx, "plan", lambda: ExportFilter(year=self.year.value()), self)
        return self.export_button

    def draw(self) -> None:
        try:
            plan = make_plan(self.ctx, self.year.value(), self.seed.value())
        except DomainError as exc:
            self.result.setText(exc.message)
            return
        self.plan = plan
        self.model.set_rows(plan.entries)
        state = (tr_args(self.tr("新建任务 %1 个，并入已有任务 %2 个"), plan.tasks_created, plan.tasks_updated)
                 if plan.created
                 else self.tr("该计划此前已生成，未重复建任务"))
        self.result.setText(
            tr_args(self.tr("%1 年计划：%2 个监管对象；随机种子 %3；输入数据摘要 SHA-256 %4。%5"),
                    plan.year, len(plan.entries), plan.seed, plan.inputs_sha256[:16] + "…", state)
        )
