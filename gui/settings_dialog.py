"""站所设置: the names printed on forms, document-number prefixes, this device's number."""
from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QSpinBox, QWidget

from core.context import AppContext
from core.numbering import format_number
from core.station import MAX_DEVICE_NO, StationSettings, get_settings, update_settings
from gui.widgets import FormDialog


class SettingsDialog(FormDialog):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(self.tr("站所设置"), parent, min_width=520)
        self.ctx = ctx
        current = get_settings(ctx)
        self.station_name = self.add_row(self.tr("所名："), QLineEdit(current.station_name))
        self.organ_name = self.add_row(self.tr("执法机关名称（印在文书上）："), QLineEdit(current.organ_name))
        self.inspection_prefix = self.add_row(self.tr("现场检查笔录文号前缀："), QLineEdit(current.inspection_prefix))
        self.rectification_prefix = self.add_row(self.tr("责令改正通知书文号前缀："),
                                                 QLineEdit(current.rectification_prefix))
        self.questioning_prefix = self.add_row(self.tr("询问笔录文号前缀："), QLineEdit(current.questioning_prefix))
        self.service_prefix = self.add_row(self.tr("送达回证文号前缀："), QLineEdit(current.service_prefix))
        # the case papers' series, two a line (core.casework)
        case_box = QWidget()
        case_grid = QGridLayout(case_box)
        case_grid.setContentsMargins(0, 0, 0, 0)
        self.case_prefixes: dict[str, QLineEdit] = {}
        for i, (field, label) in enumerate((
                ("case_source_prefix", self.tr("案件来源登记表")), ("case_filing_prefix", self.tr("立案审批表")),
                ("evidence_hold_prefix", self.tr("先行登记保存")), ("evidence_release_prefix", self.tr("解除先行登记保存")),
                ("address_confirm_prefix", self.tr("送达地址确认书")))):
            edit = QLineEdit(getattr(current, field))
            edit.setObjectName(field)
            self.case_prefixes[field] = edit
            case_grid.addWidget(QLabel(label), i // 2, (i % 2) * 2)
            case_grid.addWidget(edit, i // 2, (i % 2) * 2 + 1)
        self.add_row(self.tr("案件文书文号前缀："), case_box)
        self.device_no = self.add_row(self.tr("本机设备号："), QSpinBox())
        self.device_no.setRange(0, MAX_DEVICE_NO)
        self.device_no.setValue(current.device_no)
        self.days = self.add_row(self.tr("默认改正期限："), QSpinBox())
        self.days.setRange(1, 365)
        self.days.setSuffix(self.tr(" 天"))
        self.days.setValue(current.rectification_days)
        # the 复议/诉讼 notice printed on the 责令改正通知书
        self.review_organ = self.add_row(self.tr("行政复议机关："), QLineEdit(current.review_organ))
        self.review_days = self.add_row(self.tr("申请行政复议期限："), QSpinBox())
        self.review_days.setRange(60, 365)
        self.review_days.setSuffix(self.tr(" 日"))
        self.review_days.setValue(current.review_days)
        self.court = self.add_row(self.tr("行政诉讼管辖法院："), QLineEdit(current.court))
        self.lawsuit_months = self.add_row(self.tr("提起行政诉讼期限："), QSpinBox())
        self.lawsuit_months.setRange(6, 24)
        self.lawsuit_months.setSuffix(self.tr(" 个月"))
        self.lawsuit_months.setValue(current.lawsuit_months)
        self.example = self.add_row(self.tr("文号示例："), QLabel())
        for widget in (self.inspection_prefix, self.rectification_prefix):
            widget.textChanged.connect(self._show_example)
        self.device_no.valueChanged.connect(self._show_example)
        self.lay_out(note=self.tr("所里的电脑用设备号 0；每台笔记本用不同的设备号，离线时文号也不会重复。"))
        self._show_example()

    def _show_example(self) -> None:
        from datetime import date

        year, device = date.today().year, self.device_no.value()
        self.example.setText(f"{format_number(self.inspection_prefix.text(), year, 1, device)}　"
                             f"{format_number(self.rectification_prefix.text(), year, 1, device)}")

    def apply(self) -> None:
        update_settings(self.ctx, StationSettings(
            station_name=self.station_name.text(), organ_name=self.organ_name.text(),
            inspection_prefix=self.inspection_prefix.text(),
            rectification_prefix=self.rectification_prefix.text(),
            device_no=self.device_no.value(), rectification_days=self.days.value(),
            review_organ=self.review_organ.text(), review_days=self.review_days.value(),
            court=self.court.text(), lawsuit_months=self.lawsuit_months.value(),
            questioning_prefix=self.questioning_prefix.text(), service_prefix=self.service_prefix.text(),
            **{field: edit.text() for field, edit in self.case_prefixes.items()},
        ))
