"""案件文书 of a signed record: the list of its case papers (立案审批表, 案件来源登记表, 先行登记保存
and its 解除, 送达地址确认书) with their numbers and states; 拟立案审批表 when the record is a
re-inspection that recommends a case (立案建议); the print preview of the one selected. Every
action is a ``core.casework`` service; its one message shows on the red line when it refuses."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout

from core.casework import cases
from core.context import AppContext
from core.errors import DomainError
from core.printing import render_case_document
from gui.i18n import tr_args
from gui.operations import run_op
from gui.widgets import message_label


class CasePapersDialog(QDialog):
    def __init__(self, ctx: AppContext, inspection_id: str, *, runner=None, parent=None):
        super().__init__(parent)
        self.ctx, self.inspection_id, self.runner = ctx, inspection_id, runner
        self.setWindowTitle(self.tr("案件文书"))
        self.resize(760, 360)
        self.order = cases.recommendation_of(ctx, inspection_id)
        self.hint = QLabel(tr_args(self.tr("立案建议：复查未整改到位（责令改正通知书 %1）"), self.order) if self.order
                           else self.tr("本记录没有立案建议。"))
        headers = [self.tr("文书编号"), self.tr("文书"), self.tr("状态"), self.tr("当事人")]
        self.table = QTableWidget(0, len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.message = message_label()
        self.draft_button = QPushButton(self.tr("拟立案审批表(&F)"))
        self.draft_button.setToolTip(self.tr("由立案建议拟制案件来源登记表和立案审批表（范本1、7），报所长审批"))
        self.draft_button.setEnabled(self.order is not None)
        self.draft_button.clicked.connect(self.draft)
        self.print_button = QPushButton(self.tr("打印预览(&P)…"))
        self.print_button.clicked.connect(self.preview)
        close = QPushButton(self.tr("关闭"))
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.draft_button, self.print_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.papers = cases.papers_of(self.ctx, self.inspection_id)
        self.table.setRowCount(len(self.papers))
        for r, paper in enumerate(self.papers):
            for c, text in enumerate((paper.number, paper.title, paper.status_label,  # core's labels
                                      paper.party.get("name", ""))):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.print_button.setEnabled(bool(self.papers))
        if self.papers and self.table.currentRow() < 0:
            self.table.selectRow(0)

    def draft(self) -> None:
        try:
            filing = cases.draft_case(self.ctx, rectification_id=self.order)
        except DomainError as exc:
            self.message.setText(exc.message)
            return
        self.message.clear()
        self.refresh()
        self.table.selectRow(next(i for i, p in enumerate(self.papers) if p.id == filing.id))

    def preview(self) -> None:
        from gui.print_preview import PrintPreviewDialog

        row = self.table.currentRow()
        if not 0 <= row < len(self.papers):
            return
        paper = self.papers[row]

        def done(pdf: bytes) -> None:
            PrintPreviewDialog(pdf, tr_args(self.tr("%1 %2"), paper.title, paper.number),
                               f"{paper.title}-{paper.number}.pdf", parent=self).exec()

        run_op(self, self.tr("正在生成文书…"), lambda _p, _c: render_case_document(self.ctx, paper.id), on_done=done,
               failure_title=self.tr("无法生成文书"), runner=self.runner)
