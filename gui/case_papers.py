"""案件文书 of a signed record: the list of its case papers (立案审批表, 案件来源登记表, 先行登记保存
and its 解除, 送达地址确认书) with their numbers and states; 拟立案审批表 when the record is a
re-inspection that recommends a case (立案建议), 打开… the filing (gui/case_filing.py: edit,
submit, the 所长's decision); 先行登记保存…, 解除…, 送达地址确认书… (gui/evidence_dialogs.py), each
previewed once issued; the print preview of the one selected. Every action is a ``core.casework``
service; its one message shows on the red line when it refuses."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout

from core import inspections as svc
from core.casework import cases
from core.casework.evidence import hold_state
from core.context import AppContext
from core.errors import DomainError
from gui.i18n import tr_args
from gui.widgets import message_label


class CasePapersDialog(QDialog):
    def __init__(self, ctx: AppContext, inspection_id: str, *, runner=None, parent=None):
        super().__init__(parent)
        self.ctx, self.inspection_id, self.runner = ctx, inspection_id, runner
        self.setWindowTitle(self.tr("案件文书"))
        self.resize(960, 380)
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
        self.open_button = QPushButton(self.tr("打开立案审批表(&O)…"))
        self.open_button.setToolTip(self.tr("修改、提交所长审批；所长在此审批"))
        self.open_button.clicked.connect(self.open_filing)
        self.hold_button = QPushButton(self.tr("先行登记保存(&H)…"))
        self.hold_button.setToolTip(self.tr("出具先行登记保存证据通知书（范本19），列明物品清单"))
        self.hold_button.clicked.connect(self.hold)
        self.release_button = QPushButton(self.tr("解除(&R)…"))
        self.release_button.setToolTip(self.tr("出具所选先行登记保存的解除通知书"))
        self.release_button.clicked.connect(self.release)
        self.address_button = QPushButton(self.tr("送达地址确认书(&A)…"))
        self.address_button.clicked.connect(self.address)
        self.print_button = QPushButton(self.tr("打印预览(&P)…"))
        self.print_button.clicked.connect(self.preview)
        close = QPushButton(self.tr("关闭"))
        close.clicked.connect(self.accept)
        self.table.itemSelectionChanged.connect(self._enable)
        self.table.cellDoubleClicked.connect(lambda *_: self.open_filing())
        buttons = QHBoxLayout()
        for button in (self.draft_button, self.open_button, self.hold_button, self.release_button,
                       self.address_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.print_button, close):
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
            state = hold_state(self.ctx, paper.id) if paper.kind == "evidence_hold" else paper.status_label
            for c, text in enumerate((paper.number, paper.title, state,  # core's labels
                                      paper.party.get("name", ""))):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        if self.papers and self.table.currentRow() < 0:
            self.table.selectRow(0)
        self._enable()

    def _selected(self):
        row = self.table.currentRow()
        return self.papers[row] if 0 <= row < len(self.papers) else None

    def _filing_of(self, paper):
        if paper is None:
            return None
        if paper.kind == "case_source":  # the registration opens with the filing that follows it
            return next((p for p in self.papers if p.kind == "case_filing" and p.parent_id == paper.id), None)
        return paper if paper.kind == "case_filing" else None

    def _enable(self) -> None:
        paper = self._selected()
        self.print_button.setEnabled(paper is not None)
        self.open_button.setEnabled(self._filing_of(paper) is not None)
        released = {p.parent_id for p in self.papers if p.kind == "evidence_release"}
        self.release_button.setEnabled(paper is not None and paper.kind == "evidence_hold" and paper.locked
                                       and paper.id not in released)

    def _select(self, paper_id: str) -> None:
        self.refresh()
        self.table.selectRow(next(i for i, p in enumerate(self.papers) if p.id == paper_id))

    def draft(self) -> None:
        try:
            filing = cases.draft_case(self.ctx, rectification_id=self.order)
        except DomainError as exc:
            self.message.setText(exc.message)
            return
        self.message.clear()
        self._select(filing.id)
        self.open_filing()

    def open_filing(self) -> None:
        from gui.case_filing import CaseFilingDialog

        filing = self._filing_of(self._selected())
        if filing is not None:
            CaseFilingDialog(self.ctx, filing.id, runner=self.runner, parent=self).exec()
            self._select(filing.id)

    def _issue(self, dialog) -> None:
        """Run a form dialog; what it issued is listed, selected and previewed."""
        if dialog.exec() and dialog.paper is not None:
            self.message.clear()
            self._select(dialog.paper.id)
            self.preview()

    def hold(self) -> None:
        from gui.evidence_dialogs import EvidenceHoldDialog

        self._issue(EvidenceHoldDialog(self.ctx, svc.load_inspection(self.ctx, self.inspection_id), parent=self))

    def release(self) -> None:
        from gui.evidence_dialogs import EvidenceReleaseDialog

        paper = self._selected()
        if paper is not None and paper.kind == "evidence_hold":
            self._issue(EvidenceReleaseDialog(self.ctx, paper, parent=self))

    def address(self) -> None:
        from gui.evidence_dialogs import AddressDialog

        self._issue(AddressDialog(self.ctx, svc.load_inspection(self.ctx, self.inspection_id), parent=self))

    def preview(self) -> None:
        from gui.print_preview import PrintPreviewDialog

        paper = self._selected()
        if paper is not None:
            PrintPreviewDialog.open_case_document(self.ctx, paper, runner=self.runner, parent=self)
