"""立案审批表 (范本 7) of one case: the 承办人 edit what they write (案由, 简要案情, the provisions,
承办人意见, the evidence list — add, change, remove) and submit it (承办人 → 所长); a user with
``approve_cases`` (the 所长) decides it: 同意立案, 不予立案 or 退回 with an opinion. Shows the
state, the original order's number and the 案件来源登记表 it goes with; previews the filing.
``CaseFilingsDialog`` lists every filing of the station (where the 所长 finds those waiting);
``LeadCaseDialog`` drafts one from a lead handled as a case (the lead inbox's 拟立案…).
Every action is a ``core.casework.cases`` service; its one message shows on the red line."""
from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import (
    QCompleter, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPlainTextEdit,
    QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout,
)
from PySide6.QtCore import Qt

from core.casework import cases
from core.casework.store import list_case_documents, load_case_document
from core.context import AppContext
from core.errors import DomainError
from core.inspections import OfficerData
from core.inspectors import list_inspectors
from core.users import PERMISSIONS
from gui.i18n import tr_args
from gui.widgets import FormDialog, button_row, message_label, push_button
from gui.windows import fit_to_screen

TEXT_FIELDS = ("facts", "violated", "penalty", "handler_opinion")


def may_approve(ctx: AppContext) -> bool:
    """Offer the decision only to whom the core lets decide (``approve_cases``)."""
    return ctx.user is None or "approve_cases" in PERMISSIONS[ctx.user.role]


def _when(at: str) -> str:
    return at.replace("T", " ")  # the core's ISO minute


def _text_box(height: int = 70) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setMinimumHeight(height)
    return box


class CaseFilingDialog(QDialog):
    def __init__(self, ctx: AppContext, filing_id: str, *, runner=None, parent=None):
        super().__init__(parent)
        self.ctx, self.filing_id, self.runner = ctx, filing_id, runner
        self._closing_anyway = False
        fit_to_screen(self, 760, 860)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.state.setObjectName("filing-state")
        form = QFormLayout()
        self.cause = QLineEdit()
        self.facts, self.violated, self.penalty = _text_box(110), _text_box(), _text_box(50)
        self.handler_opinion = _text_box(50)
        self.handler_opinion.setPlaceholderText(self.tr("例如：当事人逾期未改正，违法事实清楚，符合立案条件，建议立案调查。"))
        form.addRow(self.tr("案由(&C)："), self.cause)
        form.addRow(self.tr("简要案情："), self.facts)
        form.addRow(self.tr("涉嫌违反的规定："), self.violated)
        form.addRow(self.tr("建议的处罚依据："), self.penalty)
        form.addRow(self.tr("承办人意见(&O)："), self.handler_opinion)
        self.evidence = QListWidget()
        self.evidence.setMinimumHeight(120)
        self.evidence.setToolTip(self.tr("双击一项可修改"))
        self.new_evidence = QLineEdit()
        self.new_evidence.setPlaceholderText(self.tr("证据名称，例如：询问笔录 示市监询〔2026〕1号"))
        self.add_evidence_button = push_button(self.tr("添加证据"), self.add_evidence)
        self.remove_evidence_button = push_button(self.tr("删除所选"), self.remove_evidence)
        adder = QHBoxLayout()
        adder.addWidget(self.new_evidence, 1)
        adder.addWidget(self.add_evidence_button)
        adder.addWidget(self.remove_evidence_button)
        evidence = QVBoxLayout()
        evidence.addWidget(self.evidence)
        evidence.addLayout(adder)
        form.addRow(self.tr("证据材料："), evidence)
        self.message = message_label()
        self.save_button = push_button(self.tr("保存(&S)"), self.save)
        self.submit_button = push_button(self.tr("提交所长审批(&T)"), self.submit)
        self.print_button = push_button(self.tr("打印预览(&P)…"), self.preview)
        close = push_button(self.tr("关闭"), self.accept)
        close.setToolTip(self.tr("关闭时自动保存草稿"))
        close.setObjectName("filing-close")
        layout = QVBoxLayout(self)
        layout.addWidget(self.state)
        layout.addLayout(form, 1)
        self.approval = QGroupBox(self.tr("所长审批"))
        self.decision_opinion = _text_box(50)
        self.decision_opinion.setMaximumHeight(80)
        self.decision_opinion.setPlaceholderText(self.tr("审批意见（不予立案、退回时必填）"))
        self.approve_button = push_button(self.tr("同意立案(&A)"), lambda: self.decide("approve"))
        self.decline_button = push_button(self.tr("不予立案(&N)"), lambda: self.decide("decline"))
        self.return_button = push_button(self.tr("退回承办人(&R)"), lambda: self.decide("return"))
        box = QVBoxLayout(self.approval)
        box.addWidget(self.decision_opinion)
        box.addLayout(button_row((), (self.approve_button, self.decline_button, self.return_button)))
        self.approval.setVisible(may_approve(ctx))
        layout.addWidget(self.approval)
        layout.addWidget(self.message)
        layout.addLayout(button_row((self.print_button,), (self.save_button, self.submit_button, close)))
        self.load()

    # --- state -------------------------------------------------------------------
    def load(self) -> None:
        self.record = load_case_document(self.ctx, self.filing_id, "case_filing")
        c = self.record.content
        self.setWindowTitle(tr_args(self.tr("立案审批表 %1"), self.record.number))
        self.cause.setText(c.get("cause", ""))
        for key in TEXT_FIELDS:
            getattr(self, key).setPlainText(c.get(key, ""))
        self.evidence.clear()
        for entry in c.get("evidence", []):
            self._add_item(entry)
        self.state.setText(self._state_text())
        draft = self.record.status == "draft"
        for widget in (self.cause, *(getattr(self, k) for k in TEXT_FIELDS)):
            widget.setReadOnly(not draft)
        for widget in (self.new_evidence, self.add_evidence_button, self.remove_evidence_button, self.save_button,
                       self.submit_button):
            widget.setEnabled(draft)
        submitted = self.record.status == "submitted"
        for widget in (self.decision_opinion, self.approve_button, self.decline_button, self.return_button):
            widget.setEnabled(submitted)

    def _state_text(self) -> str:
        c = self.record.content
        parts = [tr_args(self.tr("状态：%1"), self.record.status_label)]  # core's label
        if c.get("original_order"):
            parts.append(tr_args(self.tr("原责令改正通知书：%1"), c["original_order"]))
        if c.get("source_number"):
            parts.append(tr_args(self.tr("案件来源登记表：%1"), c["source_number"]))
        if c.get("submitted"):
            parts.append(tr_args(self.tr("%1 于 %2 提交"), c["submitted"]["by"], _when(c["submitted"]["at"])))
        if c.get("approval"):
            a = c["approval"]
            parts.append(tr_args(self.tr("审批：%1（%2，%3）%4"), a["decision"], a["by"], _when(a["at"]), a["opinion"]))
        for r in c.get("returns", []):
            parts.append(tr_args(self.tr("退回：%1（%2，%3）"), r["opinion"], r["by"], _when(r["at"])))
        return "　".join(parts)

    def _add_item(self, text: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.evidence.addItem(item)

    def evidence_list(self) -> list[str]:
        return [self.evidence.item(i).text() for i in range(self.evidence.count())]

    # --- actions -----------------------------------------------------------------
    def add_evidence(self) -> None:
        text = self.new_evidence.text().strip()
        if text:
            self._add_item(text)
            self.new_evidence.clear()

    def remove_evidence(self) -> None:
        row = self.evidence.currentRow()
        if row >= 0:
            self.evidence.takeItem(row)

    def _call(self, action, *args, **kwargs) -> bool:
        try:
            action(self.ctx, self.record.id, *args, **kwargs)
        except DomainError as exc:
            self.message.setText(exc.message)
            return False
        self.message.clear()
        return True

    def _write(self) -> bool:
        fields = {"cause": self.cause.text(), **{k: getattr(self, k).toPlainText() for k in TEXT_FIELDS}}
        return self._call(cases.edit_case, evidence=self.evidence_list(), **fields)

    def _unsaved(self) -> bool:
        if self.record.status != "draft":
            return False
        c = self.record.content
        typed = {"cause": self.cause.text(), **{k: getattr(self, k).toPlainText() for k in TEXT_FIELDS}}
        return any(typed[k] != c.get(k, "") for k in typed) or self.evidence_list() != c.get("evidence", [])

    def done(self, result: int) -> None:
        """Closing keeps what was typed in a draft (saved); a refusal keeps the dialog open once,
        with the reason — closing again gives the changes up (the dialog never traps its user)."""
        if self._unsaved() and not self._write() and not self._closing_anyway:
            self._closing_anyway = True
            self.message.setText(self.message.text() + self.tr("（再次关闭将放弃未保存的修改）"))
            return
        super().done(result)

    def save(self) -> None:
        if self._write():
            self.load()

    def submit(self) -> None:
        if self._write() and self._call(cases.submit_case):
            self.load()

    def decide(self, decision: str) -> None:
        if self._call(cases.decide_case, decision, self.decision_opinion.toPlainText()):
            self.decision_opinion.clear()
            self.load()

    def preview(self) -> None:
        from gui.print_preview import PrintPreviewDialog

        if self.record.status == "draft" and not self._write():
            return
        self.load()
        PrintPreviewDialog.open_case_document(self.ctx, self.record, runner=self.runner, parent=self)


class CaseFilingsDialog(QDialog):
    """Every 立案审批表 of the station, those waiting for the 所长 first; 打开… edits or decides one."""

    def __init__(self, ctx: AppContext, *, runner=None, parent=None):
        super().__init__(parent)
        self.ctx, self.runner = ctx, runner
        self.setWindowTitle(self.tr("立案审批"))
        self.resize(820, 380)
        headers = [self.tr("文书编号"), self.tr("状态"), self.tr("当事人"), self.tr("案由")]
        self.table = QTableWidget(0, len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(lambda *_: self.open_selected())
        hint = QLabel(self.tr("待审批的立案审批表列在最前；打开后由所长填写审批意见并决定。") if may_approve(ctx)
                      else self.tr("立案审批表由所长审批；这里可查看状态、修改草稿并提交。"))
        self.open_button = push_button(self.tr("打开(&O)…"), self.open_selected, default=True)
        close = QPushButton(self.tr("关闭"))
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(button_row((), (self.open_button, close)))
        self.refresh()

    def refresh(self) -> None:
        order = {"submitted": 0, "draft": 1}
        self.filings = sorted(list_case_documents(self.ctx, kind="case_filing"),
                              key=lambda f: (order.get(f.status, 2), f.number))
        self.table.setRowCount(len(self.filings))
        for r, f in enumerate(self.filings):
            for c, text in enumerate((f.number, f.status_label, f.party.get("name", ""), f.content.get("cause", ""))):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.open_button.setEnabled(bool(self.filings))
        if self.filings:
            self.table.selectRow(0)

    def open_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.filings):
            CaseFilingDialog(self.ctx, self.filings[row].id, runner=self.runner, parent=self).exec()
            self.refresh()


class LeadCaseDialog(FormDialog):
    """拟立案审批表 from a lead handled as a case (并入案件办理): the two 承办人, then the papers."""

    def __init__(self, ctx: AppContext, lead_id: str, subject: str, parent=None):
        super().__init__(tr_args(self.tr("拟立案审批表 — 线索：%1"), subject), parent, min_width=520)
        self.ctx, self.lead_id = ctx, lead_id
        self.filing = None
        self.inspectors = {o.name: o.cert_no for o in list_inspectors(ctx)}
        self.names, self.certs = [], []
        for i in range(2):
            name, cert = QLineEdit(), QLineEdit()
            name.setObjectName(f"handler-name-{i + 1}")
            completer = QCompleter(list(self.inspectors), name)
            name.setCompleter(completer)
            completer.activated.connect(partial(self._fill_cert, cert))
            name.editingFinished.connect(lambda c=cert, n=name: self._fill_cert(c, n.text()))
            row = QHBoxLayout()
            row.addWidget(name, 1)
            row.addWidget(QLabel(self.tr("执法证号")))
            row.addWidget(cert, 1)
            self.add_row(tr_args(self.tr("承办人%1："), i + 1), row)
            self.names.append(name)
            self.certs.append(cert)
        if ctx.user is not None and ctx.user.name in self.inspectors:
            self.names[0].setText(ctx.user.name)
            self.certs[0].setText(self.inspectors[ctx.user.name])
        self.lay_out(note=self.tr("由线索拟制案件来源登记表和立案审批表；提交所长审批前须有两名持执法证的承办人。"))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("拟制"))

    def _fill_cert(self, cert: QLineEdit, name: str) -> None:
        if name.strip() in self.inspectors and not cert.text().strip():
            cert.setText(self.inspectors[name.strip()])

    def apply(self) -> None:
        officers = [OfficerData(n.text().strip(), c.text().strip()) for n, c in zip(self.names, self.certs)
                    if n.text().strip()]
        self.filing = cases.draft_case(self.ctx, lead_id=self.lead_id, officers=officers)
