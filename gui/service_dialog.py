"""送达回证 (范本 10) of a signed record: which document was served, how, to whom, where and when;
留置送达 (the recipient refuses to sign) asks the reason, a witness and the photo or video
reference; 邮寄送达 the tracking number. ``core.service_receipts.record_service`` checks and
records it (locked, own number); the print preview follows."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QLineEdit

from core import inspections as svc
from core import service_receipts as sr
from core.context import AppContext
from gui.i18n import tr_args
from gui.widgets import FormDialog


class ServiceDialog(FormDialog):
    """登记送达回证 for one signed inspection; ``receipt`` holds what was recorded."""

    def __init__(self, ctx: AppContext, record: svc.InspectionRecord, parent=None):
        super().__init__(tr_args(self.tr("登记送达回证 — %1"), record.number), parent, min_width=560)
        self.ctx, self.record = ctx, record
        self.receipt: sr.ServiceRecord | None = None
        self.document = self.add_row(self.tr("送达文书(&D)："), QComboBox())
        if record.rectification is not None:
            self.document.addItem(tr_args(self.tr("责令改正通知书（%1）"), record.rectification.number), "rectification")
        self.document.addItem(tr_args(self.tr("现场检查笔录（%1）"), record.number), "record")
        self.document.addItem(self.tr("其他文书（写明名称和文号）"), "other")
        self.doc_name = self.add_row(self.tr("文书名称："), QLineEdit())
        self.doc_number = self.add_row(self.tr("文书文号："), QLineEdit())
        self.method = self.add_row(self.tr("送达方式(&M)："), QComboBox())
        labels = {"直接送达": self.tr("直接送达"), "留置送达": self.tr("留置送达"), "邮寄送达": self.tr("邮寄送达"),
                  "委托送达": self.tr("委托送达"), "电子送达": self.tr("电子送达")}
        for method in sr.METHODS:
            self.method.addItem(labels.get(method, method), method)
        self.recipient = self.add_row(self.tr("受送达人(&R)："), QLineEdit(record.party_present_name or
                                                                      record.party.get("name", "")))
        self.place = self.add_row(self.tr("送达地点(&P)："), QLineEdit(record.party.get("address", "")))
        self.reason = self.add_row(self.tr("拒绝签收的理由："), QLineEdit())
        self.witness = self.add_row(self.tr("见证人姓名："), QLineEdit())
        self.witness_unit = self.add_row(self.tr("见证人单位："), QLineEdit())
        self.media = self.add_row(self.tr("拍照或录像记录："), QLineEdit())
        self.media.setPlaceholderText(self.tr("例如：执法记录仪 DSJ-01，文件 20260512_0931.mp4"))
        self.mail_no = self.add_row(self.tr("邮件号码："), QLineEdit())
        self.note = self.add_row(self.tr("备注："), QLineEdit())
        for name, widget in (("service-document", self.document), ("service-method", self.method),
                             ("service-recipient", self.recipient), ("service-place", self.place),
                             ("service-reason", self.reason), ("service-witness", self.witness),
                             ("service-witness-unit", self.witness_unit), ("service-media", self.media),
                             ("service-mail-no", self.mail_no)):
            widget.setObjectName(name)
        self.method.currentIndexChanged.connect(self._show_fields)
        self.document.currentIndexChanged.connect(self._show_fields)
        self.lay_out(note=self.tr("受送达人拒绝签收的，选“留置送达”，写明理由、见证人，并记录拍照或录像；"
                                  "登记后送达回证锁定，打印后由受送达人、见证人和送达人在纸上签名。"))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("登记并预览"))
        self._show_fields()

    def _show_fields(self) -> None:
        method, other = self.method.currentData(), self.document.currentData() == "other"
        for widget in (self.reason, self.witness, self.witness_unit, self.media):
            widget.setEnabled(method == sr.LEFT)
        self.mail_no.setEnabled(method == "邮寄送达")
        self.doc_name.setEnabled(other)
        self.doc_number.setEnabled(other)

    def apply(self) -> None:
        left = self.method.currentData() == sr.LEFT
        self.receipt = sr.record_service(
            self.ctx, self.record.id, method=self.method.currentData(), recipient=self.recipient.text(),
            place=self.place.text(), document=self.document.currentData(), doc_name=self.doc_name.text(),
            doc_number=self.doc_number.text(), refusal_reason=self.reason.text() if left else "",
            witness_name=self.witness.text() if left else "", witness_unit=self.witness_unit.text() if left else "",
            media_ref=self.media.text() if left else "",
            mail_no=self.mail_no.text() if self.method.currentData() == "邮寄送达" else "", note=self.note.text())

