"""The inspection editor: answer each item, write findings, collect signatures, print.

Every change is saved through the core at once (notes and texts after a short pause
and when the field loses focus), so closing or killing the app loses at most the
field being typed.
"""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import QDate, QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core import inspections as svc
from core.inspections.drafts import answer_remaining
from core.context import AppContext, on_top_of_changes
from core.errors import DomainError
from core.tasks import rectification_status_label
from core.verification import FORMS
from gui.i18n import tr_args
from gui.item_row import ItemRow, _Debounced
from gui.legal_panel import LegalPanel
from gui.widgets import clear_layout, number_tabs
from gui.windows import fit_to_screen

SIGNATURE_SIZE = QSize(160, 50)


class InspectionEditor(QWidget):
    changed = Signal()
    open_requested = Signal(str)  # another record to open (a correction just made)

    def __init__(self, ctx: AppContext, inspection_id: str, *, runner=None, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        from gui.jobs import JobRunner

        self.ctx, self.inspection_id = ctx, inspection_id
        self.runner = runner or JobRunner()
        self.loading = True
        self.record = svc.load_inspection(ctx, inspection_id)
        fit_to_screen(self, 1000, 760)
        self._savers: list[_Debounced] = []
        self._field_savers: dict[QWidget, _Debounced] = {}

        self.header = QLabel()
        self.header.setWordWrap(True)
        self.status = QLabel()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")

        self.rows: dict[str, ItemRow] = {}
        items_page = QWidget()
        items_layout = QVBoxLayout(items_page)
        for section in self.record.template.sections:
            box = QGroupBox(f"{section.group}　{section.title}" if section.group else section.title)
            box.setToolTip(tr_args(self.tr("依据：%1"), section.basis))
            box_layout = QVBoxLayout(box)
            for item in section.items:
                row = ItemRow(self, item)
                self.rows[item.code] = row
                box_layout.addWidget(row)
            items_layout.addWidget(box)
        items_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(items_page)
        scroll.setWidgetResizable(True)

        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, self.tr("检查项目"))
        self.tabs.addTab(self._build_record_tab(), self.tr("现场情况与签名"))
        number_tabs(self.tabs, self)

        self.remaining_button = QPushButton(self.tr("其余全部符合(&Y)"))
        self.remaining_button.setToolTip(self.tr("尚未选择结论的检查项全部记为“符合”"))
        self.remaining_button.clicked.connect(lambda: self.save(answer_remaining))
        self.complete_button = QPushButton(self.tr("完成检查(&C)"))
        self.complete_button.clicked.connect(self.complete)
        self.sign_button = QPushButton(self.tr("签名锁定(&L)"))
        self.sign_button.clicked.connect(self.sign)
        self.print_button = QPushButton(self.tr("打印预览(&P)"))
        self.print_menu = QMenu(self)
        for form, label in FORMS.items():
            action = self.print_menu.addAction(self.tr(label))
            action.setData(form)
            action.setVisible(form != "review" or self.record.purpose == "reinspection")  # 整改复查意见书
            action.triggered.connect(partial(self.preview, form))
        self.print_button.setMenu(self.print_menu)
        self.wet_button = QPushButton(self.tr("纸质签名打印(&W)…"))
        self.wet_button.clicked.connect(self.print_for_wet_signing)
        self.history_button = QPushButton(self.tr("修改记录(&H)…"))
        self.history_button.clicked.connect(self.show_history)
        self.questioning_button = QPushButton(self.tr("询问笔录(&Q)…"))
        self.questioning_button.setToolTip(self.tr("就本次检查询问有关人员，制作询问笔录（范本14）"))
        self.questioning_button.clicked.connect(self.open_questioning)
        from gui.record_actions import RecordActions

        self.actions = RecordActions(self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (*self.actions.buttons, self.history_button, self.questioning_button, self.remaining_button,
                       self.complete_button, self.sign_button, self.wet_button, self.print_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.actions.banner)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.show_record(self.record)

    # --- the second tab ---------------------------------------------------------
    def _text_field(self, widget, field: str):
        return self.debounced(widget, lambda value: self.save(svc.update_details, **{field: value}))

    def debounced(self, widget, save):
        """Save a text field a short pause after typing, when it loses focus, or on flush."""
        plain = isinstance(widget, QPlainTextEdit)
        saver = _Debounced(self, widget.toPlainText if plain else widget.text, save)
        self._field_savers[widget] = saver
        self._savers.append(saver)
        (widget.textChanged if plain else widget.textEdited).connect(lambda *_: None if self.loading else saver.touch())
        if not plain:
            widget.editingFinished.connect(saver.flush)
        return widget

    def _build_record_tab(self) -> QWidget:
        self.place = self._text_field(QLineEdit(), "place")
        self.notified_by = self._text_field(QLineEdit(), "notified_by")
        self.party_present = self._text_field(QLineEdit(), "party_present_name")
        self.findings = self._text_field(QPlainTextEdit(), "findings")
        self.findings.setTabChangesFocus(True)
        self.draft_button = QPushButton(self.tr("根据不符合项生成(&D)"))
        self.draft_button.clicked.connect(self.draft_findings)
        self.statement = self._text_field(QPlainTextEdit(), "party_statement")
        self.statement.setTabChangesFocus(True)
        self.statement.setPlaceholderText(self.tr("当事人对检查情况的陈述、申辩"))
        self.refused = QCheckBox(self.tr("当事人拒绝签字(&R)"))
        self.refused.toggled.connect(lambda on: None if self.loading else self.save(svc.update_details, party_refused=on))
        self.witness = self._text_field(QLineEdit(), "witness_name")
        self.witness.setPlaceholderText(self.tr("当事人拒绝签字时，由见证人签名"))

        form = QFormLayout()
        form.addRow(self.tr("检查地点："), self.place)
        form.addRow(self.tr("告知方式："), self.notified_by)
        form.addRow(self.tr("现场负责人："), self.party_present)
        findings_row = QVBoxLayout()
        findings_row.addWidget(self.findings)
        findings_row.addWidget(self.draft_button, 0, Qt.AlignmentFlag.AlignRight)
        form.addRow(self.tr("现场情况："), findings_row)
        form.addRow(self.tr("当事人陈述："), self.statement)
        form.addRow("", self.refused)
        form.addRow(self.tr("见证人："), self.witness)

        self.rect_box = QGroupBox(self.tr("责令改正通知书"))
        self.rect_number = QLabel()
        self.deadline = QDateEdit()
        self.deadline.setCalendarPopup(True)
        self.deadline.setDisplayFormat("yyyy年M月d日")
        self.requirements = QPlainTextEdit()
        self.requirements.setTabChangesFocus(True)
        self._rect_saver = _Debounced(self, lambda: None, lambda _v: self.save_rectification())
        self.requirements.textChanged.connect(lambda: None if self.loading else self._rect_saver.touch())
        self.deadline.dateChanged.connect(lambda _d: None if self.loading else self._rect_saver.touch())
        self._savers.append(self._rect_saver)
        rect_form = QFormLayout(self.rect_box)
        self.rect_status = QLabel()
        rect_form.addRow(self.tr("文书编号："), self.rect_number)
        rect_form.addRow(self.tr("整改状态："), self.rect_status)
        rect_form.addRow(self.tr("改正期限(&T)："), self.deadline)
        rect_form.addRow(self.tr("改正要求："), self.requirements)

        self.sign_box = QGroupBox(self.tr("签名"))
        self.sign_layout = QGridLayout(self.sign_box)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        self.legal_panel = LegalPanel(self)
        layout.addWidget(self.legal_panel)
        layout.addWidget(self.rect_box)
        layout.addWidget(self.sign_box)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        return scroll

    # --- showing ---------------------------------------------------------------
    def show_record(self, record: svc.InspectionRecord) -> None:
        self.loading = True
        self.record = record
        party = record.party
        self.setWindowTitle(tr_args(self.tr("检查 %1 — %2"), record.number, party.get("name", "")))
        officers = "、".join(f"{o.name}（{o.cert_no}）" for o in record.officers)
        self.header.setText(
            tr_args(self.tr("<b>%1</b>（第%2版）　%3<br>"), record.template.title, record.template.version, record.number)
            + tr_args(self.tr("当事人：%1　统一社会信用代码：%2<br>执法人员：%3"), party.get("name", ""),
                      party.get("credit_code") or self.tr("无"), officers)
        )
        for row in self.rows.values():
            row.show_record(record)
        for widget, value in (
            (self.place, record.place), (self.notified_by, record.notified_by),
            (self.party_present, record.party_present_name), (self.witness, record.witness_name),
        ):
            if self._may_overwrite(widget):
                widget.setText(value)
        for widget, value in ((self.findings, record.findings), (self.statement, record.party_statement)):
            if self._may_overwrite(widget) and widget.toPlainText() != value:
                widget.setPlainText(value)
        self.refused.setChecked(record.party_refused)
        rect = record.rectification
        self.rect_box.setVisible(rect is not None)
        if rect is not None:
            self.rect_number.setText(rect.number)
            self.rect_status.setText(self.tr(rectification_status_label(rect.status)))
            if not self._rect_saver.dirty:
                self.deadline.setDate(QDate(rect.deadline.year, rect.deadline.month, rect.deadline.day))
            if (self._may_overwrite(self.requirements, self._rect_saver)
                    and self.requirements.toPlainText() != rect.requirements):
                self.requirements.setPlainText(rect.requirements)
        self._show_signatures(record)
        self.actions.show_record(record)
        self.legal_panel.show_record(record)
        locked = record.read_only
        for widget in (self.place, self.notified_by, self.party_present, self.findings, self.statement,
                       self.witness, self.deadline, self.requirements):
            widget.setReadOnly(locked)  # readable, not greyed: what was signed is read here
        for widget in (self.refused, self.draft_button):
            widget.setEnabled(not locked)
        self.complete_button.setEnabled(record.status == "draft")
        self.remaining_button.setEnabled(record.status != "signed" and bool(record.unanswered()))
        self.sign_button.setEnabled(record.status == "completed")
        self.wet_button.setEnabled(record.status == "completed")
        failed = len(record.failed_items())
        answered = len(record.template.items) - len(record.unanswered())
        status = self.tr(svc.STATUS_LABELS[record.status])
        text = tr_args(self.tr("状态：%1　已检查 %2/%3 项，不符合 %4 项"), status, answered,
                       len(record.template.items), failed)
        if record.locked:
            text += tr_args(self.tr("　已签名锁定（内容哈希 %1…）"), (record.content_hash or "")[:16])
        self.status.setText(text)
        self.loading = False

    def may_overwrite(self, widget: QWidget) -> bool:
        return self._may_overwrite(widget)

    def _may_overwrite(self, widget: QWidget, saver: _Debounced | None = None) -> bool:
        """A field being typed in, or with an edit still waiting to be saved, keeps its text."""
        saver = saver or self._field_savers.get(widget)
        return not widget.hasFocus() and not (saver is not None and saver.dirty)

    def _show_signatures(self, record: svc.InspectionRecord) -> None:
        clear_layout(self.sign_layout)
        labels = svc.signer_labels(record)
        for row, role in enumerate(svc.signature_roles(record)):
            signature = record.signatures.get(role)
            self.sign_layout.addWidget(QLabel(labels[role]), row, 0)
            state = QLabel()
            state.setFixedSize(SIGNATURE_SIZE)
            if signature and signature.problem:  # the image file is missing or altered: say so
                state.setWordWrap(True)
                state.setText(self.tr("签名图像文件缺失或无法读取"))
                state.setToolTip(signature.problem)
            elif signature:
                pixmap = QPixmap()
                pixmap.loadFromData(signature.png)
                state.setPixmap(pixmap.scaled(SIGNATURE_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation))
                state.setToolTip(signature.signer_name)
            else:
                state.setText(self.tr("未签名"))
            self.sign_layout.addWidget(state, row, 1)
            button = QPushButton(self.tr("签名…") if not signature else self.tr("重新签名…"))
            button.setObjectName(f"sign-{role}")
            button.setEnabled(not record.read_only)
            button.clicked.connect(partial(self.collect_signature, role))
            self.sign_layout.addWidget(button, row, 2)

    # --- saving ----------------------------------------------------------------
    def save(self, action, *args, **kwargs) -> bool:
        """Run a core service on this inspection; show its message if it refuses. The user's change
        goes on top of what a package imported meanwhile changed (``on_top_of_changes``)."""
        try:
            on_top_of_changes(action, self.ctx, self.inspection_id, *args, **kwargs)
        except DomainError as exc:
            self.message.setText(exc.message)
            self.reload()
            return False
        self.message.clear()
        self.reload()
        self.changed.emit()
        return True

    def after_change(self) -> None:
        """A dialog changed the record through the core: show it anew."""
        self.message.clear()
        self.reload()
        self.changed.emit()

    def reload(self) -> None:
        self.show_record(svc.load_inspection(self.ctx, self.inspection_id))

    def flush(self) -> None:
        """Save every field still waiting for its pause."""
        for row in self.rows.values():
            row._note_save.flush()
        for saver in self._savers:
            saver.flush()

    def save_rectification(self) -> None:
        self.save(svc.set_rectification, deadline=self.deadline.date().toPython(),
                  requirements=self.requirements.toPlainText())

    def draft_findings(self) -> None:
        self.flush()
        self.findings.setPlainText(svc.draft_findings(self.record))
        self.save(svc.update_details, findings=self.findings.toPlainText())

    def open_questioning(self) -> None:
        from gui.questioning_dialog import open_questioning

        open_questioning(self)

    def collect_signature(self, role: str) -> None:
        from gui.signature_pad import SignatureDialog

        self.flush()
        labels = svc.signer_labels(self.record)
        officers = {svc.officer_role(i): o.name for i, o in enumerate(self.record.officers)}
        name = officers.get(role) or (self.record.witness_name if role == svc.WITNESS_ROLE else self.record.party_present_name)
        dialog = SignatureDialog(tr_args(self.tr("%1签名"), labels[role]), name, parent=self)
        if dialog.exec():
            self.save(svc.add_signature, role, dialog.name.text(), dialog.pad.png())

    def complete(self) -> None:
        self.flush()
        if self.save(svc.complete_inspection):
            self.tabs.setCurrentIndex(1)

    def _confirmed(self, title: str, text: str) -> bool:
        self.flush()
        return QMessageBox.question(self, title, text) == QMessageBox.StandardButton.Yes

    def sign(self) -> None:
        self.flush()
        problems = svc.signing_problems(self.record)
        if problems:  # what is missing first; the question only when signing can be done
            self.message.setText(tr_args(self.tr("还不能签名锁定：%1"), "；".join(problems)))
            return
        self._officers_sign(svc.sign_inspection, self.tr("签名锁定"),
                            self.tr("签名锁定后，本检查记录将不能再修改。请在场的每位执法人员输入本人密码签名。"))

    def _officers_sign(self, service, title: str, question: str) -> bool:
        """Each officer present types their password; their own key signs the record (``service``)."""
        from gui.officer_sign_dialog import OfficerSignDialog

        self.flush()
        dialog = OfficerSignDialog(svc.officer_signers(self.ctx, self.inspection_id),
                                   lambda passwords: service(self.ctx, self.inspection_id, passwords),
                                   title=title, question=question, runner=self.runner, parent=self)
        if not dialog.exec():
            return False
        self.after_change()
        return True

    def print_for_wet_signing(self) -> None:
        """Lock the record and print it with blank lines for handwritten signatures."""
        if self._officers_sign(svc.lock_for_wet_signing, self.tr("纸质签名打印"),
                               self.tr("将锁定本检查记录，打印带空白签名栏的纸质文书，由当事人和执法人员亲笔签名；"
                                       "签名后的纸质原件扫描件作为附件留存。锁定后不能再修改。"
                                       "请在场的每位执法人员输入本人密码签名。")):
            self.preview("record")

    def preview(self, form: str) -> None:
        from gui.print_preview import PrintPreviewDialog

        self.flush()
        PrintPreviewDialog.open_form(self.ctx, self.record, form, runner=self.runner, parent=self)

    def show_history(self) -> None:
        from gui.history_dialog import HistoryDialog

        self.flush()
        HistoryDialog(self.ctx, self.inspection_id, self.record.number, parent=self).exec()

    def closeEvent(self, event) -> None:
        self.flush()
        super().closeEvent(event)
