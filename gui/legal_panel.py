"""The legal elements in the inspection editor: the 告知 answers, the person present, the
recorder, the body camera, the party's confirmation, refusal or absence with the witness, the
receipt of the 责令改正通知书, the 检查记录表's opinion and measures — and, per failed item,
which case of an either-or wording applies and the products concerned. Everything is saved
through ``core.inspections.set_legal`` / ``set_item_detail``."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QLabel,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from core import inspections as svc

PRODUCT_KEYS = ("name", "spec", "batch", "quantity")


class LegalPanel(QGroupBox):
    """The 笔录 elements beyond the original fields; lives on the editor's second tab."""

    def __init__(self, editor):
        super().__init__()
        self.setTitle(self.tr("笔录要素与送达"))
        self.editor = editor
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout(self)
        rows = (  # in the order of the printed 笔录
            ("party_id_no", self.tr("现场负责人身份证件号码：")),
            ("recorder", self.tr("记录人：")),
            ("credentials_answer", self.tr("问：是否看清执法证件？答：")),
            ("recusal_answer", self.tr("问：是否申请回避？答：")),
            ("camera_device", self.tr("执法记录仪编号：")),
            ("camera_file", self.tr("录像文件名或时段：")),
            ("confirmation", self.tr("当事人对笔录的确认意见：")),
            ("refusal_reason", self.tr("拒绝签字的理由：")),
            ("witness_id", self.tr("见证人身份证件号码或工作单位：")),
            ("witness_phone", self.tr("见证人联系电话：")),
            ("order_refusal_reason", self.tr("拒绝签收通知书的理由：")),
            ("checklist_opinion", self.tr("当事人对检查记录表的意见：")),
            ("measures", self.tr("处理措施（留空按记录生成）：")),
        )
        for key, label in rows:
            field = QLineEdit()
            field.setObjectName(f"legal-{key}")
            editor.debounced(field, lambda value, key=key: editor.save(svc.set_legal, **{key: value}))
            self.fields[key] = field
            form.addRow(label, field)
            if key == "confirmation":
                self.confirm_button = QPushButton(self.tr("当事人确认：以上笔录我已看过，与事实相符"))
                self.confirm_button.setObjectName("legal-confirm")
                self.confirm_button.clicked.connect(
                    lambda: editor.save(svc.set_legal, confirmation=svc.DEFAULT_CONFIRMATION))
                form.addRow("", self.confirm_button)
        self.absent = QCheckBox(self.tr("当事人不在场（由见证人见证）"))
        self.absent.setObjectName("legal-party_absent")
        self.absent.toggled.connect(lambda on: None if editor.loading else editor.save(svc.set_legal, party_absent=on))
        self.order_refused = QCheckBox(self.tr("当事人拒绝签收责令改正通知书"))
        self.order_refused.setObjectName("legal-order_refused")
        self.order_refused.toggled.connect(
            lambda on: None if editor.loading else editor.save(svc.set_legal, order_refused=on))
        form.insertRow(0, "", self.absent)
        form.addRow("", self.order_refused)
        # a record printed for wet signatures: the signed paper, scanned, kept as evidence
        self.scan_button = QPushButton(self.tr("附加纸质原件扫描件(&A)…"))
        self.scan_button.setObjectName("legal-attach-scan")
        self.scan_button.clicked.connect(self.attach_scan)
        self.scans = QLabel()
        scans = QHBoxLayout()
        scans.addWidget(self.scans, 1)
        scans.addWidget(self.scan_button)
        form.addRow(self.tr("纸质原件："), scans)

    def attach_scan(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("选择签名后的纸质文书扫描件或照片"), str(Path.home()),
            self.tr("图片 (*.jpg *.jpeg *.png *.bmp *.gif *.tif *.tiff *.webp);;所有文件 (*)"))
        if path:
            self.editor.save(svc.attach_paper_scan, Path(path))

    def show_record(self, record: svc.InspectionRecord) -> None:
        for key, field in self.fields.items():
            if self.editor.may_overwrite(field):
                field.setText(record.legal.get(key, ""))
        self.absent.setChecked(bool(record.legal.get("party_absent")))
        self.order_refused.setChecked(bool(record.legal.get("order_refused")))
        for widget in (*self.fields.values(), self.absent, self.order_refused, self.confirm_button):
            widget.setEnabled(not record.locked)
        wet = bool(record.legal.get("wet"))
        self.scan_button.setEnabled(wet and record.locked)
        count = len(svc.paper_scans(self.editor.ctx, record.id)) if wet else 0
        self.scans.setText(self.tr("不适用（在屏幕上签名）") if not wet else
                           self.tr("已附 %n 份扫描件", "", count))


class ItemFacts(QWidget):
    """Under a failed item: which case applies, and the products (a definite 违法事实)."""

    def __init__(self, editor, item):
        super().__init__()
        self.editor, self.item = editor, item
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.case = None
        if item.cases:
            self.case = QComboBox()
            self.case.setObjectName(f"{item.code}-case")
            self.case.addItem(self.tr("（选择适用的情形）"), "")
            for case in item.cases:
                self.case.addItem(case, case)
            self.case.currentIndexChanged.connect(self._case_chosen)
            layout.addWidget(self.case, 2)
        self.product: dict[str, QLineEdit] = {}
        if item.product:
            labels = (self.tr("产品名称"), self.tr("规格"), self.tr("批号"), self.tr("数量"))
            for key, label in zip(PRODUCT_KEYS, labels):
                field = QLineEdit()
                field.setObjectName(f"{item.code}-product-{key}")
                field.setPlaceholderText(label)
                editor.debounced(field, lambda _value: self._save_product())
                self.product[key] = field
                layout.addWidget(field, 1)

    def _case_chosen(self, _index: int) -> None:
        if not self.editor.loading:
            self.editor.save(svc.set_item_detail, self.item.code, case=self.case.currentData())

    def _save_product(self) -> None:
        self.editor.save(svc.set_item_detail, self.item.code,
                         product={key: field.text() for key, field in self.product.items()})

    def show_record(self, record: svc.InspectionRecord) -> None:
        failed = record.answer(self.item.code).result == "fail"
        self.setVisible(failed and bool(self.item.cases or self.item.product))
        detail = svc.item_detail(record, self.item.code)
        if self.case is not None:
            index = self.case.findData(detail.get("case", ""))
            self.case.setCurrentIndex(max(index, 0))
            self.case.setEnabled(not record.locked)
        product = detail.get("product") or {}
        for key, field in self.product.items():
            if self.editor.may_overwrite(field):
                field.setText(product.get(key, ""))
            field.setEnabled(not record.locked)
