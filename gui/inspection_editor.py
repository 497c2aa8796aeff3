"""The inspection editor: answer each item, write findings, collect signatures, print.

Every change is saved through the core at once (notes and texts after a short pause
and when the field loses focus), so closing or killing the app loses at most the
field being typed.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QDate, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core import inspections as svc
from core.inspections.drafts import answer_remaining
from core.checklists import ChecklistItem
from core.context import AppContext
from core.errors import DomainError
from core.tasks import rectification_status_label
from core.verification import FORMS
from gui.i18n import tr_args
from gui.windows import fit_to_screen

AUTOSAVE_MS = 400
THUMB = QSize(72, 54)
SIGNATURE_SIZE = QSize(160, 50)
RESULT_TEXT = (("pass", "符合"), ("fail", "不符合"), ("na", "不适用"))


class _Debounced:
    """Calls ``save(value)`` a short pause after the last edit, or at once on ``flush()``."""

    def __init__(self, parent, read, save):
        self.read, self.save = read, save
        self.timer = QTimer(parent, singleShot=True, interval=AUTOSAVE_MS)
        self.timer.timeout.connect(self.flush)
        self.dirty = False

    def touch(self, *_args) -> None:
        self.dirty = True
        self.timer.start()

    def flush(self) -> None:
        if self.dirty:
            self.dirty = False
            self.timer.stop()
            self.save(self.read())


class ItemRow(QFrame):
    """One checklist item: result buttons, note, photos."""

    def __init__(self, editor: InspectionEditor, item: ChecklistItem):
        super().__init__()
        self.editor, self.item = editor, item
        self.setFrameShape(QFrame.Shape.StyledPanel)
        text = QLabel(f"<b>{item.code}</b>　{item.text}")
        text.setWordWrap(True)
        text.setToolTip(tr_args(editor.tr("依据：%1"), item.basis))
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        buttons = QHBoxLayout()
        for code, label in RESULT_TEXT:
            button = QRadioButton(editor.tr(label))
            button.setObjectName(f"{item.code}-{code}")
            self.group.addButton(button)
            self.buttons[code] = button
            buttons.addWidget(button)
            button.toggled.connect(partial(self._toggled, code))
        buttons.addStretch(1)
        self.note = QLineEdit()
        self.note.setPlaceholderText(editor.tr("说明（不符合时必填）"))
        self._note_save = _Debounced(self, self.note.text, lambda text: editor.save(svc.set_note, item.code, text))
        self.note.textEdited.connect(self._note_save.touch)
        self.note.editingFinished.connect(self._note_save.flush)
        self.photo_button = QPushButton(editor.tr("添加照片…"))
        self.photo_button.clicked.connect(self.add_photo)
        self.thumbs = QHBoxLayout()
        self.thumbs.addStretch(1)
        self._photo_ids: list[str] = []

        layout = QGridLayout(self)
        layout.addWidget(text, 0, 0, 1, 3)
        layout.addLayout(buttons, 1, 0)
        layout.addWidget(self.note, 1, 1)
        layout.addWidget(self.photo_button, 1, 2)
        layout.addLayout(self.thumbs, 2, 0, 1, 3)
        layout.setColumnStretch(1, 1)

    def _toggled(self, code: str, checked: bool) -> None:
        if checked and not self.editor.loading:
            self.editor.save(svc.set_answer, self.item.code, code)
            self._mark(code)

    def _mark(self, result: str | None) -> None:
        self.setStyleSheet("ItemRow { background: #fdecec; }" if result == "fail" else "")

    def show_record(self, record: svc.InspectionRecord) -> None:
        answer = record.answer(self.item.code)
        self.group.setExclusive(False)
        for code, button in self.buttons.items():
            button.setChecked(code == answer.result)
        self.group.setExclusive(True)
        if not self.note.hasFocus() and not self._note_save.dirty:
            self.note.setText(answer.note)
        self._mark(answer.result)
        photos = record.photos_of(self.item.code)
        if [p.id for p in photos] != self._photo_ids:  # decode thumbnails only when they changed
            self._photo_ids = [p.id for p in photos]
            while self.thumbs.count() > 1:
                widget = self.thumbs.takeAt(0).widget()
                if widget:
                    widget.deleteLater()
            for photo in photos:
                thumb = _thumbnail(photo.path, photo.original_name)
                thumb.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
                remove = QAction(self.editor.tr("删除这张照片"), thumb)
                remove.triggered.connect(lambda _checked=False, pid=photo.id: self.editor.save(svc.remove_photo, pid))
                thumb.addAction(remove)
                self.thumbs.insertWidget(self.thumbs.count() - 1, thumb)
        locked = record.locked
        for widget in (*self.buttons.values(), self.photo_button):
            widget.setEnabled(not locked)
        self.note.setReadOnly(locked)  # a signed record's note stays readable, not greyed

    def add_photo(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, self.editor.tr("选择照片"), str(Path.home()),
            self.editor.tr("图片 (*.jpg *.jpeg *.png *.bmp *.gif *.tif *.tiff *.webp);;所有文件 (*)"),
        )
        for path in paths:
            if not self.editor.save(svc.add_photo, self.item.code, Path(path)):
                break


def _thumbnail(path: Path, name: str) -> QLabel:
    """A small preview; big photos are decoded at thumbnail size, the file stays whole."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio))
    label = QLabel()
    label.setPixmap(QPixmap.fromImage(reader.read()))
    label.setToolTip(name)
    label.setFrameShape(QFrame.Shape.Box)
    return label


class InspectionEditor(QWidget):
    changed = Signal()

    def __init__(self, ctx: AppContext, inspection_id: str, *, runner=None, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        from gui.jobs import JobRunner

        self.ctx, self.inspection_id = ctx, inspection_id
        self.runner = runner or JobRunner()
        self.loading = True
        self.record = svc.load_inspection(ctx, inspection_id)
        fit_to_screen(self, 1000, 760)

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
        self.tabs.addTab(scroll, self.tr("检查项目(&1)"))
        self.tabs.addTab(self._build_record_tab(), self.tr("现场情况与签名(&2)"))

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
            action.triggered.connect(partial(self.preview, form))
        self.print_button.setMenu(self.print_menu)
        self.history_button = QPushButton(self.tr("修改记录(&H)…"))
        self.history_button.clicked.connect(self.show_history)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (self.history_button, self.remaining_button, self.complete_button, self.sign_button,
                       self.print_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.show_record(self.record)

    # --- the second tab ---------------------------------------------------------
    def _text_field(self, widget, field: str):
        read = widget.toPlainText if isinstance(widget, QPlainTextEdit) else widget.text
        saver = _Debounced(self, read, lambda value: self.save(svc.update_details, **{field: value}))
        self._field_savers[widget] = saver
        (widget.textChanged if isinstance(widget, QPlainTextEdit) else widget.textEdited).connect(
            lambda *_: None if self.loading else saver.touch()
        )
        if isinstance(widget, QLineEdit):
            widget.editingFinished.connect(saver.flush)
        self._savers.append(saver)
        return widget

    def _build_record_tab(self) -> QWidget:
        self._savers: list[_Debounced] = []
        self._field_savers: dict[QWidget, _Debounced] = {}
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
        locked = record.locked
        for widget in (self.place, self.notified_by, self.party_present, self.findings, self.statement,
                       self.witness, self.deadline, self.requirements):
            widget.setReadOnly(locked)  # readable, not greyed: what was signed is read here
        for widget in (self.refused, self.draft_button):
            widget.setEnabled(not locked)
        self.complete_button.setEnabled(record.status == "draft")
        self.remaining_button.setEnabled(record.status != "signed" and bool(record.unanswered()))
        self.sign_button.setEnabled(record.status == "completed")
        failed = len(record.failed_items())
        answered = len(record.template.items) - len(record.unanswered())
        status = self.tr(svc.STATUS_LABELS[record.status])
        text = tr_args(self.tr("状态：%1　已检查 %2/%3 项，不符合 %4 项"), status, answered,
                       len(record.template.items), failed)
        if locked:
            text += tr_args(self.tr("　已签名锁定（内容哈希 %1…）"), (record.content_hash or "")[:16])
        self.status.setText(text)
        self.loading = False

    def _may_overwrite(self, widget: QWidget, saver: _Debounced | None = None) -> bool:
        """A field being typed in, or with an edit still waiting to be saved, keeps its text."""
        saver = saver or self._field_savers.get(widget)
        return not widget.hasFocus() and not (saver is not None and saver.dirty)

    def _show_signatures(self, record: svc.InspectionRecord) -> None:
        while self.sign_layout.count():
            widget = self.sign_layout.takeAt(0).widget()
            if widget:
                widget.deleteLater()
        labels = svc.signer_labels(record)
        for row, role in enumerate(svc.signature_roles(record)):
            signature = record.signatures.get(role)
            self.sign_layout.addWidget(QLabel(labels[role]), row, 0)
            state = QLabel()
            state.setFixedSize(SIGNATURE_SIZE)
            if signature:
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
            button.setEnabled(not record.locked)
            button.clicked.connect(partial(self.collect_signature, role))
            self.sign_layout.addWidget(button, row, 2)

    # --- saving ----------------------------------------------------------------
    def save(self, action, *args, **kwargs) -> bool:
        """Run a core service on this inspection; show its message if it refuses."""
        try:
            action(self.ctx, self.inspection_id, *args, **kwargs)
        except DomainError as exc:
            self.message.setText(exc.message)
            self.reload()
            return False
        self.message.clear()
        self.reload()
        self.changed.emit()
        return True

    def reload(self) -> None:
        self.show_record(svc.load_inspection(self.ctx, self.inspection_id))

    def flush(self) -> None:
        """Save every field still waiting for its pause."""
        for row in self.rows.values():
            row._note_save.flush()
        for saver in self._savers:
            saver.flush()

    def save_rectification(self) -> None:
        d = self.deadline.date()
        from datetime import date

        self.save(svc.set_rectification, deadline=date(d.year(), d.month(), d.day()),
                  requirements=self.requirements.toPlainText())

    def draft_findings(self) -> None:
        self.flush()
        self.findings.setPlainText(svc.draft_findings(self.record))
        self.save(svc.update_details, findings=self.findings.toPlainText())

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

    def sign(self) -> None:
        self.flush()
        problems = svc.signing_problems(self.record)
        if problems:  # what is missing first; the question only when signing can be done
            self.message.setText(tr_args(self.tr("还不能签名锁定：%1"), "；".join(problems)))
            return
        answer = QMessageBox.question(
            self, self.tr("签名锁定"),
            self.tr("签名锁定后，本检查记录将不能再修改。确定吗？"),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.save(svc.sign_inspection)

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
