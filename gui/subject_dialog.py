"""Add or edit a subject of the register, with the credit code checked as it is typed."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit

from core import creditcode
from core.context import AppContext
from core.subjects import CATEGORIES, STATUSES, SubjectData, SubjectRow, add_subject, licence_warnings, update_subject
from gui.widgets import FormDialog


class SubjectDialog(FormDialog):
    def __init__(self, ctx: AppContext, subject: SubjectRow | None = None, parent=None):
        super().__init__(self.tr("编辑监管对象") if subject else self.tr("新增监管对象"), parent, min_width=520)
        self.ctx, self.subject = ctx, subject
        self.saved: SubjectRow | None = None

        self.name = self.add_row(self.tr("名称(&N)："), QLineEdit())
        self.credit_code = self.add_row(self.tr("统一社会信用代码(&C)："), QLineEdit())
        self.credit_code.setMaxLength(20)
        self.credit_code.setPlaceholderText(self.tr("18位，无代码的个体工商户可留空"))
        self.code_hint = self.add_row("", QLabel())
        self.code_hint.setWordWrap(True)
        self.category = self.add_row(self.tr("类别(&T)："), QComboBox())
        for code, label in CATEGORIES.items():
            self.category.addItem(self.tr(label), code)
        self.licence_no = self.add_row(self.tr("许可证号："), QLineEdit())
        self.filing_no = self.add_row(self.tr("备案号："), QLineEdit())
        self.legal_rep = self.add_row(self.tr("法定代表人(负责人)："), QLineEdit())
        self.address = self.add_row(self.tr("地址(&A)："), QLineEdit())
        self.phone = self.add_row(self.tr("联系电话："), QLineEdit())
        self.grid = self.add_row(self.tr("网格："), QLineEdit())
        self.status = self.add_row(self.tr("状态："), QComboBox())
        for code, label in STATUSES.items():
            self.status.addItem(self.tr(label), code)
        self.lay_out()

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

    def apply(self) -> None:
        data = self.data()
        if self.subject:
            self.saved = update_subject(self.ctx, self.subject.id, data)
        else:
            self.saved = add_subject(self.ctx, data)
        warnings = licence_warnings(data)  # saved: only a reminder to check the licence numbers
        if warnings:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.warning(self, self.tr("请核对"), "\n".join(warnings))
