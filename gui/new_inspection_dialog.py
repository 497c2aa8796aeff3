"""Start an inspection: checklist, kind, place and the officers with their 执法证号."""
from __future__ import annotations

import json
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from core.checklist_fit import checklist_for_category, checklist_fits
from core import published
from core.context import AppContext
from core.errors import DomainError
from core.inspections import KIND_LABELS, OfficerData, start_inspection
from core.inspectors import list_inspectors
from core.subjects import SubjectRow
from core.tasks import TaskRow, start_task
from gui.i18n import tr_args
from gui.widgets import dialog_buttons, message_label

OFFICER_ROWS = 3
WARNING_STYLE = "color: #a15c00; font-weight: bold;"
LAST_OFFICERS_KEY = "gui.last_officers"


class NewInspectionDialog(QDialog):
    """Start an inspection of a subject, or the inspection of a task (its checklist is fixed)."""

    def __init__(self, ctx: AppContext, subject: SubjectRow, parent=None, *, task: TaskRow | None = None):
        super().__init__(parent)
        self.ctx, self.subject, self.task = ctx, subject, task
        self.inspection_id: str | None = None
        self.setWindowTitle(tr_args(self.tr("开始任务检查 — %1") if task else self.tr("新建检查 — %1"), subject.name))
        self.setMinimumWidth(560)
        self.templates = published.templates(ctx)  # shipped + published by the levels above

        self.template = QComboBox()
        # the checklist the rules map the subject's category to first, then the others that fit
        self.rules = published.rules(ctx)[0]
        mapped = checklist_for_category(subject.category, rules=self.rules)
        ordered = sorted(self.templates.values(), key=lambda t: (
            t.code != mapped, subject.category not in t.subject_categories, t.code))
        for template in ordered:
            self.template.addItem(tr_args(self.tr("%1（第%2版）"), template.title, template.version), template.code)
        if task is not None:
            index = self.template.findData(task.template_code)
            if task.rectification_id:
                self.template.insertItem(0, self.tr("整改复查：只检查原不符合项"), task.template_code)
                index = 0
            self.template.setCurrentIndex(max(index, 0))
            self.template.setEnabled(False)
        # a visible line when the chosen checklist does not fit the subject (core decides)
        self.fit_warning = QLabel()
        self.fit_warning.setObjectName("checklistFitWarning")
        self.fit_warning.setWordWrap(True)
        self.fit_warning.setStyleSheet(WARNING_STYLE)
        self.template.currentIndexChanged.connect(self._check_fit)
        self._check_fit()
        self.kind = QComboBox()
        for code, label in KIND_LABELS.items():
            self.kind.addItem(self.tr(label), code)
        self.place = QLineEdit(subject.address)
        self.notified_by = QLineEdit(self.tr("现场出示执法证件后告知"))
        form = QFormLayout()
        form.addRow(self.tr("检查表(&T)："), self.template)
        form.addRow("", self.fit_warning)
        form.addRow(self.tr("检查类型："), self.kind)
        form.addRow(self.tr("检查地点(&P)："), self.place)
        form.addRow(self.tr("告知方式："), self.notified_by)

        officers_box = QGroupBox(self.tr("执法人员（执法检查至少两名）"))
        grid = QGridLayout(officers_box)
        grid.addWidget(QLabel(self.tr("姓名")), 0, 1)
        grid.addWidget(QLabel(self.tr("执法证号")), 0, 2)
        self.officer_names: list[QLineEdit] = []
        self.officer_certs: list[QLineEdit] = []
        remembered = json.loads(ctx.setting_or(LAST_OFFICERS_KEY, "[]"))
        if task is not None and task.officers:
            remembered = [[o.name, o.cert_no] for o in task.officers]
        self.inspectors = {o.name: o.cert_no for o in list_inspectors(ctx)}
        completer_names = list(self.inspectors)
        for i in range(OFFICER_ROWS):
            name, cert = QLineEdit(), QLineEdit()
            completer = QCompleter(completer_names, name)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            name.setCompleter(completer)
            completer.activated.connect(partial(self._fill_cert, cert))
            if i < len(remembered):
                name.setText(remembered[i][0])
                cert.setText(remembered[i][1])
            grid.addWidget(QLabel(tr_args(self.tr("执法人员%1"), i + 1)), i + 1, 0)
            grid.addWidget(name, i + 1, 1)
            grid.addWidget(cert, i + 1, 2)
            self.officer_names.append(name)
            self.officer_certs.append(cert)

        self.message = message_label()
        buttons = dialog_buttons(self, self.tr("开始检查"), self.start)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(officers_box)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def _check_fit(self) -> None:
        code = self.template.currentData()
        warning = checklist_fits(self.subject.category, code, templates=self.templates, rules=self.rules) if code else ""
        self.fit_warning.setText(warning)
        self.fit_warning.setVisible(bool(warning))

    def _fill_cert(self, cert: QLineEdit, name: str) -> None:
        """Officers are chosen from the station's list: picking a name fills the 执法证号."""
        if name in self.inspectors:
            cert.setText(self.inspectors[name])

    def officers(self) -> list[OfficerData]:
        return [OfficerData(n.text(), c.text()) for n, c in zip(self.officer_names, self.officer_certs)]

    def start(self) -> None:
        officers = self.officers()
        try:
            if self.task is not None:
                self.inspection_id = start_task(
                    self.ctx, self.task.id, officers, kind=self.kind.currentData(),
                    place=self.place.text(), notified_by=self.notified_by.text(),
                )
            else:
                self.inspection_id = start_inspection(
                    self.ctx, self.subject.id, self.template.currentData(), officers,
                    kind=self.kind.currentData(), place=self.place.text(), notified_by=self.notified_by.text(),
                    templates=self.templates,
                )
        except DomainError as exc:
            self.message.setText(exc.message)
            return
        kept = [[o.name.strip(), o.cert_no.strip()] for o in officers if o.name.strip()]
        self.ctx.set_setting(LAST_OFFICERS_KEY, json.dumps(kept, ensure_ascii=False))
        self.accept()
