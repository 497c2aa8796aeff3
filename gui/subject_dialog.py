"""Add or edit a subject of the register, with the credit code checked as it is typed."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from core import creditcode
from core.context import AppContext
from core.errors import DomainError
from core.subjects import CATEGORIES, STATUSES, SubjectData, SubjectRow, add_subject, licence_warnings, update_subject
from gui.widgets import dialog_buttons


class SubjectDialog(QDialog):
    def __init__(self, ctx: AppContext, subject: SubjectRow | None = None, parent=None):
        super().__init__(parent)
        self.ctx, self.subject = ctx, subject
        self.saved: SubjectRow | None = None
        self.setWindowTitle(self.tr("编辑监管对象") if subject else self.tr("新增监管对象"))
        self.setMinimumWidth(520)

        self.name = QLineEdit()
        self.credit_code = QLineEdit()
        self.credit_code.setMaxLength(20)
        self.credit_code.setPlaceholderText(self.tr("18位，无代码的个体工商户可留空"))
        self.code_hint = QLabel()
        self.code_hint.setWordWrap(True)
        self.category = QComboBox()
        for code, label in CATEGORIES.items():
            self.category.addItem(self.tr(label), code)
        self.licence_no = QLineEdit()
        self.filing_no = QLineEdit()
        self.legal_rep = QLineEdit()
        self.address = QLineEdit()
        self.phone = QLineEdit()
        self.grid = QLineEdit()
        self.status = QComboBox()
        for code, label in STATUSES.items():
            self.status.addItem(self.tr(label), code)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")

        form = QFormLayout()
        form.addRow(self.tr("名称(&N)："), self.name)
        form.addRow(self.tr("统一社会信用代码(&C)："), self.credit_code)
        form.addRow("", self.code_hint)
        form.addRow(self.tr("类别(&T)："), self.category)
        form.addRow(self.tr("许可证号："), self.licence_no)
        form.addRow(self.tr("备案号："), self.filing_no)
        form.addRow(self.tr("法定代表人(负责人)："), self.legal_rep)
        form.addRow(self.tr("地址(&A)："), self.address)
        form.addRow(self.tr("联系电话："), self.phone)
        form.addRow(self.tr("网格："), self.grid)
        form.addRow(self.tr("状态："), self.status)
        self.buttons = dialog_buttons(self, self.tr("保存"), self.save, save=True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        self.credit_code.textChanged.connect(self._check_code)
        if subject:
            self.name.setText(subject.name)
            self.credit_code.setText(subject.credit_code)
            self.category.setCurrentIndex(self.category.findData(subject.category))
            for widget, value in (
                (self.licence_no, subject.licence_no), (self.filing_no, subject.filing_no),
                (self.legal_rep, subject.legal_rep), (self.address, subject.address),
                (self.phone, subject.phone), (self.grid, subject.grid),
            ):
                widget.setText(value)
            self.status.setCurrentIndex(self.status.findData(subject.status))
        self._check_code()

    def _check_code(self) -> None:
        code = creditcode.normalize(self.credit_code.text())
        if not code:
            self.code_hint.setText(self.tr("未填写代码：可以保存，但该对象会被标记为待补全"))
            self.code_hint.setStyleSheet("color: #b35c00")
        elif len(code) < 18:
            self.code_hint.setText(self.tr("已输入 %n 位", "", len(code)))
            self.code_hint.setStyleSheet("color: gray")
        else:
            problem = creditcode.problem(code)
            self.code_hint.setText(problem or self.tr("代码校验通过"))
            self.code_hint.setStyleSheet("color: #b00020" if problem else "color: #1b7f3b")

    def data(self) -> SubjectData:
        return SubjectData(
            name=self.name.text(), category=self.category.currentData(),
            credit_code=self.credit_code.text(), licence_no=self.licence_no.text(),
            filing_no=self.filing_no.text(), legal_rep=self.legal_rep.text(),
            address=self.address.text(), phone=self.phone.text(), grid=self.grid.text(),
            status=self.status.currentData(),
        )

    def save(self) -> None:
        data = self.data()
        try:
            if self.subject:
                self.saved = update_subject(self.ctx, self.subject.id, data)
            else:
                self.saved = add_subject(self.ctx, data)
        except DomainError as exc:
            self.message.setText(exc.message)
            return
        warnings = licence_warnings(data)
        if warnings:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.warning(self, self.tr("请核对"), "\n".join(warnings))
        self.accept()
