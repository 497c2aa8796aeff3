"""询问笔录 (范本 14) of an inspection: the person asked, the 告知 answers, the questions and
answers as an ordered list (add, edit, move, remove), the confirmation, the signatures, signing
and the print preview. Every change goes through ``core.questioning``; its one message shows
on the red line when it refuses."""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core import questioning as q
from core.context import AppContext
from core.errors import DomainError
from core.printing import render_questioning
from gui.i18n import tr_args
from gui.operations import run_op
from core.void_register import void_questioning
from gui.widgets import FormDialog, clear_layout, message_label
from gui.windows import fit_to_screen

PERSON_LABELS = {"name": "姓名：", "sex": "性别：", "id_no": "身份证件号码：", "unit": "工作单位：",
                 "position": "职务：", "phone": "联系电话：", "address": "住址：", "relation": "与当事人关系："}


class VoidQuestioningDialog(FormDialog):
    """作废 an unsigned 询问笔录: the reason is required; its number goes to the void register."""

    def __init__(self, ctx: AppContext, record: q.QuestioningRecord, parent=None):
        super().__init__(tr_args(self.tr("作废询问笔录 — %1"), record.number), parent)
        self.ctx, self.record = ctx, record
        self.reason = self.add_row(self.tr("作废原因(&R)："), QPlainTextEdit())
        self.reason.setObjectName("void-questioning-reason")
        self.reason.setTabChangesFocus(True)
        self.lay_out(note=tr_args(self.tr("作废后笔录保留、不能再修改，文书编号 %1 记入作废登记，不再使用。"),
                                  record.number))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("作废"))

    def apply(self) -> None:
        void_questioning(self.ctx, self.record.id, self.reason.toPlainText())


class QuestioningDialog(QDialog):
    """The 询问笔录 of one inspection: the last one made, or a new one (its own number)."""

    def __init__(self, ctx: AppContext, inspection_id: str, *, runner=None, parent=None):
        super().__init__(parent)
        self.ctx, self.inspection_id, self.runner = ctx, inspection_id, runner
        self.record: q.QuestioningRecord | None = None
        fit_to_screen(self, 900, 760)
        self.setWindowTitle(self.tr("询问笔录"))
        self.number = QLabel()
        self.new_button = QPushButton(self.tr("新建询问笔录(&N)"))
        self.new_button.clicked.connect(self.create)

        person_box = QGroupBox(self.tr("被询问人"))
        person_form = QGridLayout(person_box)
        self.person: dict[str, QWidget] = {}
        for i, (key, label) in enumerate(PERSON_LABELS.items()):
            if key == "sex":
                field = QComboBox()
                field.addItems(["", self.tr("男"), self.tr("女")])
            else:
                field = QLineEdit()
            field.setObjectName(f"person-{key}")
            self.person[key] = field
            person_form.addWidget(QLabel(self.tr(label)), i // 2, (i % 2) * 2)
            person_form.addWidget(field, i // 2, (i % 2) * 2 + 1)

        details = QFormLayout()
        self.place = QLineEdit()
        self.recorder = QLineEdit()
        self.notice_answer = QLineEdit()
        self.recusal_answer = QLineEdit()
        for name, widget, label in (("place", self.place, "询问地点："), ("recorder", self.recorder, "记录人："),
                                    ("notice_answer", self.notice_answer, "是否看清执法证件（答）："),
                                    ("recusal_answer", self.recusal_answer, "是否申请回避（答）：")):
            widget.setObjectName(name)
            details.addRow(self.tr(label), widget)

        qa_box = QGroupBox(self.tr("询问内容（问答）"))
        self.qa_list = QListWidget()
        self.qa_list.setObjectName("qa-list")
        self.qa_list.currentRowChanged.connect(self._pick)
        self.question = QLineEdit()
        self.question.setObjectName("question")
        self.question.setPlaceholderText(self.tr("问："))
        self.answer = QPlainTextEdit()
        self.answer.setObjectName("answer")
        self.answer.setTabChangesFocus(True)
        self.answer.setPlaceholderText(self.tr("答："))
        self.answer.setMaximumHeight(80)
        self.add_button = QPushButton(self.tr("添加问答(&A)"))
        self.edit_button = QPushButton(self.tr("修改所选(&E)"))
        self.up_button = QPushButton(self.tr("上移"))
        self.down_button = QPushButton(self.tr("下移"))
        self.remove_button = QPushButton(self.tr("删除所选"))
        self.add_button.clicked.connect(self.add_qa)
        self.edit_button.clicked.connect(self.edit_qa)
        self.up_button.clicked.connect(partial(self.move_qa, -1))
        self.down_button.clicked.connect(partial(self.move_qa, 1))
        self.remove_button.clicked.connect(self.remove_qa)
        qa_buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.up_button, self.down_button, self.remove_button):
            qa_buttons.addWidget(button)
        qa_layout = QVBoxLayout(qa_box)
        qa_layout.addWidget(self.qa_list, 1)
        qa_layout.addWidget(self.question)
        qa_layout.addWidget(self.answer)
        qa_layout.addLayout(qa_buttons)

        self.confirmation = QLineEdit()
        self.confirmation.setObjectName("confirmation")
        self.confirmation.setPlaceholderText(self.tr("由被询问人阅读笔录后填写"))
        self.confirm_button = QPushButton(self.tr("填入确认语"))
        self.confirm_button.clicked.connect(lambda: self.confirmation.setText(q.DEFAULT_CONFIRMATION))
        confirm_row = QHBoxLayout()
        confirm_row.addWidget(QLabel(self.tr("被询问人意见：")))
        confirm_row.addWidget(self.confirmation, 1)
        confirm_row.addWidget(self.confirm_button)

        self.sign_layout = QGridLayout()
        self.message = message_label()
        self.save_button = QPushButton(self.tr("保存(&S)"))
        self.save_button.clicked.connect(self.save_fields)
        self.lock_button = QPushButton(self.tr("签名锁定(&L)"))
        self.lock_button.clicked.connect(self.sign)
        self.print_button = QPushButton(self.tr("打印预览(&P)"))
        self.print_button.clicked.connect(self.preview)
        self.void_button = QPushButton(self.tr("作废(&V)…"))
        self.void_button.clicked.connect(self.void)
        close = QPushButton(self.tr("关闭"))
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.number, 1)
        for button in (self.new_button, self.save_button, self.lock_button, self.void_button, self.print_button, close):
            buttons.addWidget(button)

        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(person_box)
        body.addLayout(details)
        body.addWidget(qa_box, 1)
        body.addLayout(confirm_row)
        body.addLayout(self.sign_layout)
        layout = QVBoxLayout(self)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        existing = q.list_questionings(ctx, inspection_id)
        self.show_record(existing[-1] if existing else None)

    # --- showing ----------------------------------------------------------------
    def show_record(self, record: q.QuestioningRecord | None) -> None:
        self.record = record
        editable = record is not None and record.status == "draft"
        self.body.setEnabled(record is not None)
        for widget in (*self.person.values(), self.place, self.recorder, self.notice_answer, self.recusal_answer,
                       self.question, self.answer, self.confirmation, self.add_button, self.edit_button,
                       self.up_button, self.down_button, self.remove_button, self.confirm_button):
            widget.setEnabled(editable)
        self.save_button.setEnabled(editable)
        self.lock_button.setEnabled(editable)
        self.void_button.setEnabled(editable)
        self.print_button.setEnabled(record is not None)
        if record is None:
            self.number.setText(self.tr("本次检查尚无询问笔录"))
            return
        state = {"signed": self.tr("已签名锁定"), "voided": self.tr("已作废")}.get(record.status, self.tr("草稿"))
        self.number.setText(tr_args(self.tr("询问笔录 %1（%2）"), record.number, state))
        for key, widget in self.person.items():
            value = record.person.get(key, "")
            widget.setCurrentText(value) if isinstance(widget, QComboBox) else widget.setText(value)
        for key, widget in (("place", self.place), ("recorder", self.recorder), ("notice_answer", self.notice_answer),
                            ("recusal_answer", self.recusal_answer), ("confirmation", self.confirmation)):
            widget.setText(record.details.get(key, ""))
        row = self.qa_list.currentRow()
        self.qa_list.blockSignals(True)
        self.qa_list.clear()
        for n, item in enumerate(record.qa, 1):
            entry = QListWidgetItem(f"{n}. 问：{item['q']}\n    答：{item.get('a', '')}")
            self.qa_list.addItem(entry)
        self.qa_list.setCurrentRow(min(row, self.qa_list.count() - 1))
        self.qa_list.blockSignals(False)
        self._show_signatures(record)

    def _show_signatures(self, record: q.QuestioningRecord) -> None:
        clear_layout(self.sign_layout)
        labels = q.signer_labels(record)
        for row, role in enumerate(q.signature_roles(record)):
            signature = record.signatures.get(role)
            self.sign_layout.addWidget(QLabel(labels[role]), row, 0)
            self.sign_layout.addWidget(QLabel(self.tr("已签名") if signature else self.tr("未签名")), row, 1)
            button = QPushButton(self.tr("签名…") if not signature else self.tr("重新签名…"))
            button.setObjectName(f"sign-q-{role}")
            button.setEnabled(record.status == "draft")
            button.clicked.connect(partial(self.collect_signature, role))
            self.sign_layout.addWidget(button, row, 2)

    def _pick(self, row: int) -> None:
        if self.record is not None and 0 <= row < len(self.record.qa):
            self.question.setText(self.record.qa[row]["q"])
            self.answer.setPlainText(self.record.qa[row].get("a", ""))

    # --- changing ---------------------------------------------------------------
    def _run(self, action, *args, **kwargs) -> bool:
        try:
            record = action(self.ctx, *args, **kwargs)
        except DomainError as exc:
            self.message.setText(exc.message)
            return False
        self.message.clear()
        if isinstance(record, q.QuestioningRecord):
            self.show_record(record)
        return True

    def create(self) -> None:
        self._run(lambda ctx: q.create_questioning(ctx, inspection_id=self.inspection_id))

    def save_fields(self) -> bool:
        """Save the person and the details as typed (nothing changed: the signatures stay)."""
        if self.record is None or self.record.status != "draft":
            return True
        person = {k: (w.currentText() if isinstance(w, QComboBox) else w.text()) for k, w in self.person.items()}
        details = dict(place=self.place.text(), recorder=self.recorder.text(), notice_answer=self.notice_answer.text(),
                       recusal_answer=self.recusal_answer.text(), confirmation=self.confirmation.text())
        rid = self.record.id  # both read before either is saved: showing the saved record refills the fields
        return self._run(q.set_person, rid, **person) and self._run(q.set_details, rid, **details)

    def done(self, result: int) -> None:
        """Closing saves what was typed (nothing typed is lost); a refusal keeps the window open."""
        if self.save_fields():
            super().done(result)

    def add_qa(self) -> None:
        if self.save_fields() and self._run(q.add_qa, self.record.id, self.question.text(), self.answer.toPlainText()):
            self.qa_list.setCurrentRow(self.qa_list.count() - 1)
            self.question.clear()
            self.answer.clear()
            self.question.setFocus()

    def edit_qa(self) -> None:
        row = self.qa_list.currentRow()
        if self.save_fields():
            self._run(q.edit_qa, self.record.id, row, self.question.text(), self.answer.toPlainText())

    def move_qa(self, step: int) -> None:
        row = self.qa_list.currentRow()
        if row >= 0 and 0 <= row + step < self.qa_list.count() and self._run(q.move_qa, self.record.id, row, row + step):
            self.qa_list.setCurrentRow(row + step)

    def remove_qa(self) -> None:
        if self.qa_list.currentRow() >= 0:
            self._run(q.remove_qa, self.record.id, self.qa_list.currentRow())

    def collect_signature(self, role: str) -> None:
        from gui.signature_pad import SignatureDialog

        if not self.save_fields():
            return
        record = self.record
        officers = {q.officer_role(i): o.name for i, o in enumerate(record.officers)}
        name = officers.get(role) or record.person.get("name", "")
        dialog = SignatureDialog(tr_args(self.tr("%1签名"), q.signer_labels(record)[role]), name, parent=self)
        if dialog.exec():
            self._run(q.add_signature, record.id, role, dialog.name.text(), dialog.pad.png())

    def void(self) -> None:
        if not self.save_fields():
            return
        dialog = VoidQuestioningDialog(self.ctx, self.record, parent=self)
        if dialog.exec():
            self.show_record(q.load_questioning(self.ctx, self.record.id))

    def sign(self) -> None:
        if self.save_fields():
            self._run(q.sign_questioning, self.record.id)

    def preview(self) -> None:
        from gui.print_preview import PrintPreviewDialog

        if not self.save_fields():
            return
        record = self.record

        def done(pdf: bytes) -> None:
            title = f"{q.TITLE} {record.number}"
            PrintPreviewDialog(pdf, title, f"{q.TITLE}-{record.number}.pdf", parent=self).exec()

        run_op(self, self.tr("正在生成文书…"), lambda _p, _c: render_questioning(self.ctx, record.id), on_done=done,
               failure_title=self.tr("无法生成文书"), runner=self.runner)


def open_questioning(editor) -> QuestioningDialog:
    """The editor's 询问笔录… button: a window of its own, beside the editor."""
    editor.flush()
    dialog = QuestioningDialog(editor.ctx, editor.inspection_id, runner=editor.runner, parent=editor)
    dialog.setWindowModality(Qt.WindowModality.NonModal)
    dialog.show()
    editor.questioning_dialog = dialog
    return dialog
