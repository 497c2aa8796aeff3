"""What the inspection editor offers beyond the answers: the officers of a draft, 作废 (void)
with a reason, 更正 (correction) of a signed record and its approval, and the void register.

Each action is one core service (``core.inspections.set_officers``, ``core.void_register``,
``core.corrections``); the core checks the permissions and the rules, these dialogs show
its one message when it refuses.
"""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QCompleter,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QDialog,
    QDialogButtonBox,
)

from core import inspections as svc
from core.context import AppContext
from core.corrections import approve_correction, correction_of, request_correction
from core.inspectors import list_inspectors
from core.void_register import list_voided, void_draft, voided_pdf
from gui.i18n import tr_args
from gui.operations import run_op
from gui.widgets import FormDialog, dialog_buttons

OFFICER_ROWS = 3


class OfficersDialog(FormDialog):
    """The officers of a draft, chosen from the station's list (picking a name fills the 执法证号)."""

    def __init__(self, ctx: AppContext, record: svc.InspectionRecord, parent=None):
        super().__init__(tr_args(self.tr("执法人员 — %1"), record.number), parent, min_width=520)
        self.ctx, self.record = ctx, record
        self.inspectors = {o.name: o.cert_no for o in list_inspectors(ctx)}
        grid = QGridLayout()
        grid.addWidget(QLabel(self.tr("姓名")), 0, 1)
        grid.addWidget(QLabel(self.tr("执法证号")), 0, 2)
        self.names: list[QLineEdit] = []
        self.certs: list[QLineEdit] = []
        for i in range(max(OFFICER_ROWS, len(record.officers))):
            name, cert = QLineEdit(), QLineEdit()
            name.setObjectName(f"officer-name-{i + 1}")
            cert.setObjectName(f"officer-cert-{i + 1}")
            completer = QCompleter(list(self.inspectors), name)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            name.setCompleter(completer)
            completer.activated.connect(partial(self._fill_cert, cert))
            name.editingFinished.connect(partial(self._fill_cert, cert, name))
            if i < len(record.officers):
                name.setText(record.officers[i].name)
                cert.setText(record.officers[i].cert_no)
            grid.addWidget(QLabel(tr_args(self.tr("执法人员%1"), i + 1)), i + 1, 0)
            grid.addWidget(name, i + 1, 1)
            grid.addWidget(cert, i + 1, 2)
            self.names.append(name)
            self.certs.append(cert)
        self.form.addRow(grid)
        self.lay_out(note=self.tr("执法检查至少需要两名持执法证的执法人员；更换执法人员后，其签名须重新签。"))

    def _fill_cert(self, cert: QLineEdit, name) -> None:
        text = name if isinstance(name, str) else name.text()
        if text in self.inspectors and not cert.text():
            cert.setText(self.inspectors[text])

    def apply(self) -> None:
        svc.set_officers(self.ctx, self.record.id,
                         [svc.OfficerData(n.text(), c.text()) for n, c in zip(self.names, self.certs)])


class VoidDialog(FormDialog):
    """作废 an unsigned record: the reason is required; its numbers go to the void register."""

    def __init__(self, ctx: AppContext, record: svc.InspectionRecord, parent=None):
        super().__init__(tr_args(self.tr("作废检查记录 — %1"), record.number), parent)
        self.ctx, self.record = ctx, record
        self.voided: list[str] = []
        self.reason = self.add_row(self.tr("作废原因(&R)："), QPlainTextEdit())
        self.reason.setObjectName("void-reason")
        self.reason.setTabChangesFocus(True)
        self.reason.setPlaceholderText(self.tr("例如：误选监管对象；重复开立"))
        numbers = record.number + (f"、{record.rectification.number}" if record.rectification else "")
        self.lay_out(note=tr_args(self.tr("作废后记录保留、不能再修改，文书编号 %1 记入作废登记，不再使用。"), numbers))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("作废"))

    def apply(self) -> None:
        self.voided = void_draft(self.ctx, self.record.id, self.reason.toPlainText())


class CorrectionDialog(FormDialog):
    """更正 a signed record: what is corrected and why; makes the new record to edit."""

    def __init__(self, ctx: AppContext, record: svc.InspectionRecord, parent=None):
        super().__init__(tr_args(self.tr("更正已签名的记录 — %1"), record.number), parent, min_width=560)
        self.ctx, self.record = ctx, record
        self.correction_id: str | None = None
        self.statement = self.add_row(self.tr("更正内容(&S)："), QPlainTextEdit())
        self.statement.setObjectName("correction-statement")
        self.statement.setTabChangesFocus(True)
        self.reason = self.add_row(self.tr("更正原因(&R)："), QPlainTextEdit())
        self.reason.setObjectName("correction-reason")
        self.reason.setTabChangesFocus(True)
        self.lay_out(note=self.tr("原记录不作任何改动。将新建一份带新文书编号的更正记录（复制原记录内容），"
                                  "修改并完成后经站所管理员批准，再由当事人和执法人员重新签名锁定。"))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("新建更正记录"))

    def apply(self) -> None:
        self.correction_id = request_correction(self.ctx, self.record.id, statement=self.statement.toPlainText(),
                                                reason=self.reason.toPlainText())


class RecordActions(QObject):
    """The editor's extra buttons and the correction banner, shown or hidden by the record's state."""

    def __init__(self, editor):
        super().__init__(editor)
        self.editor = editor
        self.officers_button = QPushButton(self.tr("执法人员(&O)…"))
        self.void_button = QPushButton(self.tr("作废(&V)…"))
        self.correct_button = QPushButton(self.tr("更正(&E)…"))
        self.approve_button = QPushButton(self.tr("批准更正(&A)"))
        self.serve_button = QPushButton(self.tr("送达回证(&D)…"))
        self.serve_button.setToolTip(self.tr("登记责令改正通知书等文书的送达（范本10），含留置送达"))
        self.cases_button = QPushButton(self.tr("案件文书(&J)…"))
        self.cases_button.setToolTip(self.tr("立案审批表、先行登记保存、送达地址确认书等案件文书"))
        for button, slot in ((self.officers_button, self.edit_officers), (self.void_button, self.void),
                             (self.serve_button, self.serve), (self.cases_button, self.case_papers),
                             (self.correct_button, self.correct), (self.approve_button, self.approve)):
            button.clicked.connect(slot)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("border: 1px solid #8a6d00; background: #fff8e1; padding: 4px")

    @property
    def buttons(self) -> tuple[QPushButton, ...]:
        return (self.officers_button, self.void_button, self.correct_button, self.approve_button, self.serve_button,
                self.cases_button)

    def show_record(self, record: svc.InspectionRecord) -> None:
        ctx = self.editor.ctx
        info = correction_of(ctx, record.id)
        admin = ctx.user is None or ctx.user.role == "admin"
        self.officers_button.setVisible(not record.read_only)
        self.void_button.setVisible(not record.read_only)
        self.correct_button.setVisible(record.status == "signed")
        self.serve_button.setVisible(record.status == "signed")
        self.cases_button.setVisible(record.status == "signed")
        self.approve_button.setVisible(info is not None and admin and record.status == "completed"
                                       and not info.approval_current)
        self.banner.setVisible(info is not None or record.status == "voided")
        if info is not None:
            state = (tr_args(self.tr("已经%1批准"), info.approved_by) if info.approval_current
                     else self.tr("批准后内容有改动，待重新批准") if info.approved else self.tr("待站所管理员批准"))
            self.banner.setText(tr_args(self.tr("更正记录：更正 %1。更正内容：%2　更正原因：%3（%4）"),
                                        info.original_number, info.statement, info.reason, state))
        elif record.status == "voided":
            self.banner.setText(self.tr("本记录已作废，文书编号已记入作废登记，不再使用。"))

    def edit_officers(self) -> None:
        self.editor.flush()
        if OfficersDialog(self.editor.ctx, self.editor.record, parent=self.editor).exec():
            self.editor.after_change()

    def void(self) -> None:
        self.editor.flush()
        if VoidDialog(self.editor.ctx, self.editor.record, parent=self.editor).exec():
            self.editor.after_change()

    def correct(self) -> None:
        dialog = CorrectionDialog(self.editor.ctx, self.editor.record, parent=self.editor)
        if dialog.exec():
            self.editor.changed.emit()
            self.editor.open_requested.emit(dialog.correction_id)

    def approve(self) -> None:
        self.editor.flush()
        self.editor.save(approve_correction)

    def case_papers(self) -> None:
        from gui.case_papers import CasePapersDialog

        CasePapersDialog(self.editor.ctx, self.editor.record.id, runner=self.editor.runner, parent=self.editor).exec()

    def serve(self) -> None:
        """登记送达回证, then its print preview (rendered off the UI thread)."""
        from core.printing import render_service_receipt
        from gui.print_preview import PrintPreviewDialog
        from gui.service_dialog import ServiceDialog

        dialog = ServiceDialog(self.editor.ctx, self.editor.record, parent=self.editor)
        if not dialog.exec():
            return
        receipt = dialog.receipt
        self.editor.changed.emit()

        def done(pdf: bytes) -> None:
            PrintPreviewDialog(pdf, tr_args(self.tr("送达回证 %1"), receipt.number), f"送达回证-{receipt.number}.pdf",
                               parent=self.editor).exec()

        run_op(self.editor, self.tr("正在生成送达回证…"), lambda _p, _c: render_service_receipt(self.editor.ctx, receipt.id),
               on_done=done, failure_title=self.tr("无法生成文书"), runner=self.editor.runner)


class VoidRegisterDialog(QDialog):
    """作废登记: the numbers that will never be used, and the register printed as a PDF table."""

    def __init__(self, ctx: AppContext, *, runner, parent=None):
        super().__init__(parent)
        self.ctx, self.runner = ctx, runner
        self.setWindowTitle(self.tr("文书编号作废登记"))
        self.resize(860, 460)
        rows = list_voided(ctx)
        headers = [self.tr("文书编号"), self.tr("文书种类"), self.tr("作废原因"), self.tr("登记人"), self.tr("登记时间")]
        self.table = QTableWidget(len(rows), len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate((row.number, self.tr(row.doc_label), row.reason, row.voided_by,
                                      f"{row.voided_at:%Y-%m-%d %H:%M}")):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.count = QLabel(tr_args(self.tr("共 %1 个作废的文书编号。作废的编号不再使用。"), len(rows)))
        self.print_button = QPushButton(self.tr("打印预览(&P)…"))
        self.print_button.clicked.connect(self.preview)
        buttons = dialog_buttons(self, None)
        buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        layout.addWidget(buttons)

    def preview(self) -> None:
        from gui.print_preview import PrintPreviewDialog

        def done(pdf: bytes) -> None:
            PrintPreviewDialog(pdf, self.tr("文书编号作废登记表"), "文书编号作废登记表.pdf", parent=self).exec()

        run_op(self, self.tr("正在生成作废登记表…"), lambda _p, _c: voided_pdf(self.ctx), on_done=done,
               failure_title=self.tr("无法生成作废登记表"), runner=self.runner)
