"""The case papers issued at once from a signed record (``core.casework.evidence``):
先行登记保存证据通知书 (范本 19) with its item list — rows added and removed, each cell typed in —
its 解除, and the 送达地址确认书 (范本 10). Each is a FormDialog: Save calls the core service,
whose one message stays on the red line; ``paper`` holds what was issued (number, QR on print)."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox, QDialogButtonBox, QHBoxLayout, QHeaderView, QLineEdit, QTableWidget, QTableWidgetItem, QVBoxLayout,
)

from core.casework import evidence as ev
from core.casework.store import CaseRecord
from core.context import AppContext
from core.inspections import InspectionRecord
from gui.i18n import tr_args
from gui.widgets import FormDialog, push_button

SB = QDialogButtonBox.StandardButton


class EvidenceHoldDialog(FormDialog):
    """出具先行登记保存证据通知书 for a signed inspection."""

    def __init__(self, ctx: AppContext, record: InspectionRecord, parent=None):
        super().__init__(tr_args(self.tr("先行登记保存证据 — %1"), record.number), parent, min_width=760)
        self.ctx, self.record = ctx, record
        self.paper: CaseRecord | None = None
        self.cause = self.add_row(self.tr("涉嫌违法行为(&C)："), QLineEdit())
        self.cause.setPlaceholderText(self.tr("例如：经营未备案的化妆品"))
        self.place = self.add_row(self.tr("保存地点(&L)："), QLineEdit())
        self.place.setPlaceholderText(self.tr("例如：当事人经营场所仓库（已加贴封条）"))
        self.keeping = self.add_row(self.tr("保存方式："), QLineEdit(self.tr("就地封存，由当事人保管")))
        self.approved_by = self.add_row(self.tr("批准的负责人(&A)："), QLineEdit())
        headers = [self.tr("物品名称"), self.tr("规格"), self.tr("批号（生产日期）"), self.tr("数量"), self.tr("存放地点")]
        self.items = QTableWidget(0, len(headers))
        self.items.setHorizontalHeaderLabels(headers)
        self.items.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.items.setMinimumHeight(160)
        self.add_item_button = push_button(self.tr("添加物品(&I)"), self.add_item)
        self.remove_item_button = push_button(self.tr("删除所选物品"), self.remove_item)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_item_button)
        buttons.addWidget(self.remove_item_button)
        buttons.addStretch(1)
        box = QVBoxLayout()
        box.addWidget(self.items)
        box.addLayout(buttons)
        self.add_row(self.tr("物品清单："), box)
        self.lay_out(note=self.tr("依据《中华人民共和国行政处罚法》第五十六条，经负责人批准先行登记保存，"
                                  "七日内作出处理决定。出具后通知书锁定，打印后由当事人和执法人员在纸上签名。"))
        self.buttons.button(SB.Save).setText(self.tr("出具"))
        self.add_item()

    def add_item(self) -> None:
        row = self.items.rowCount()
        self.items.insertRow(row)
        for column in range(self.items.columnCount()):
            self.items.setItem(row, column, QTableWidgetItem(""))
        self.items.setCurrentCell(row, 0)

    def remove_item(self) -> None:
        row = self.items.currentRow()
        if row >= 0:
            self.items.removeRow(row)

    def item_list(self) -> list[dict]:
        """The rows typed in; wholly empty rows are left out (the core refuses half-filled ones)."""
        keys = list(ev.ITEM_FIELDS)
        rows = []
        for r in range(self.items.rowCount()):
            row = {k: (self.items.item(r, c).text() if self.items.item(r, c) else "") for c, k in enumerate(keys)}
            if any(v.strip() for v in row.values()):
                rows.append(row)
        return rows

    def apply(self) -> None:
        self.paper = ev.hold_evidence(self.ctx, self.record.id, cause=self.cause.text(), items=self.item_list(),
                                      place=self.place.text(), keeping=self.keeping.text(),
                                      approved_by=self.approved_by.text())


class EvidenceReleaseDialog(FormDialog):
    """出具解除先行登记保存证据通知书 for an issued notice."""

    def __init__(self, ctx: AppContext, hold: CaseRecord, parent=None):
        super().__init__(tr_args(self.tr("解除先行登记保存 — %1"), hold.number), parent, min_width=520)
        self.ctx, self.hold = ctx, hold
        self.paper: CaseRecord | None = None
        names = "、".join(i["name"] for i in hold.content.get("items", []))
        self.reason = self.add_row(self.tr("解除理由(&R)："), QLineEdit())
        self.reason.setPlaceholderText(self.tr("例如：经核查，上述物品已补办备案，不再需要保存"))
        self.lay_out(note=tr_args(self.tr("解除先行登记保存的物品：%1。出具后通知书锁定。"), names))
        self.buttons.button(SB.Save).setText(self.tr("出具解除通知书"))

    def apply(self) -> None:
        self.paper = ev.release_evidence(self.ctx, self.hold.id, reason=self.reason.text())


class AddressDialog(FormDialog):
    """登记送达地址确认书 for a signed inspection (the party signs the printed paper)."""

    def __init__(self, ctx: AppContext, record: InspectionRecord, parent=None):
        super().__init__(tr_args(self.tr("送达地址确认书 — %1"), record.number), parent, min_width=560)
        self.ctx, self.record = ctx, record
        self.paper: CaseRecord | None = None
        party = record.party
        self.recipient = self.add_row(self.tr("受送达人(&R)："), QLineEdit(party.get("name", "")))
        self.address = self.add_row(self.tr("送达地址(&A)："), QLineEdit(party.get("address", "")))
        self.postcode = self.add_row(self.tr("邮政编码："), QLineEdit())
        self.phone = self.add_row(self.tr("联系电话(&P)："), QLineEdit(party.get("phone", "")))
        self.addressee = self.add_row(self.tr("收件人："), QLineEdit())
        self.consent = self.add_row(self.tr("电子送达："), QCheckBox(self.tr("受送达人同意电子送达(&E)")))
        self.electronic = self.add_row(self.tr("电子送达方式："), QLineEdit())
        self.electronic.setPlaceholderText(self.tr("手机号码（短信）、传真或电子邮箱"))
        self.matter = self.add_row(self.tr("事项："), QLineEdit())
        self.matter.setPlaceholderText(tr_args(self.tr("默认：现场检查笔录 %1 及其后续文书"), record.number))
        self.consent.toggled.connect(self.electronic.setEnabled)
        self.electronic.setEnabled(False)
        self.lay_out(note=self.tr("登记后确认书锁定；打印后由受送达人在“受送达人签名（盖章）”处签名，送达人签名。"))
        self.buttons.button(SB.Save).setText(self.tr("登记"))

    def apply(self) -> None:
        self.paper = ev.confirm_address(
            self.ctx, self.record.id, recipient=self.recipient.text(), address=self.address.text(),
            phone=self.phone.text(), postcode=self.postcode.text(), addressee=self.addressee.text(),
            electronic=self.electronic.text(), matter=self.matter.text(), consent=self.consent.isChecked())
