"""Render the case papers' GUI forms (``widget.grab()``) and page 1 of the PDF each one issues
(pdftoppm) to docs/screenshots/casegui-*.png:

    .venv/bin/python tests/make_casegui_screenshots.py

A fresh demo station in a temporary folder: a demo order is re-inspected and still fails; the
立案审批表 is drafted, its 承办人意见 typed and submitted, and shown to the 所长 (the decision box
open); the 先行登记保存 and 送达地址确认书 forms are filled in and issued through their Save buttons;
last the 案件文书 dialog listing them all.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"

from tests.support.screens import pdf_page_png  # noqa: E402

ITEMS = [("某某保湿乳", "50ml/瓶", "20260301", "3瓶", "仓库东侧货架"),
         ("某某补水面膜", "25g×5片/盒", "B2026-02", "6盒", "仓库东侧货架")]


def grab(app, widget, name: str) -> None:
    widget.show()
    app.processEvents()
    target = OUT / name
    widget.grab().save(str(target))
    print(target)


def main() -> None:
    from PySide6.QtWidgets import QApplication, QTableWidgetItem

    from core import inspections as svc
    from core.context import AppContext
    from core.demo import DEMO_ADMIN, create_demo
    from core.printing import print_case_document
    from gui.app import setup_application
    from gui.case_filing import CaseFilingDialog
    from gui.case_papers import CasePapersDialog
    from gui.evidence_dialogs import AddressDialog, EvidenceHoldDialog
    from tests.integration.helpers import submitted_case_filing

    app = QApplication.instance() or setup_application([])
    work = Path(tempfile.mkdtemp(prefix="casegui-shots-"))
    ctx = AppContext.open(work / "station.db")
    create_demo(ctx)
    review, filing = submitted_case_filing(ctx)
    dialog = CaseFilingDialog(ctx, filing.id)
    dialog.decision_opinion.setPlainText("同意立案，由承办人依法调查。")
    grab(app, dialog, "casegui-case-filing-dialog.png")
    dialog.decide("approve")
    pdf_page_png(print_case_document(ctx, filing.id, work / "f.pdf"), OUT / "casegui-case-filing.png", 1)
    ctx.user = None

    record = svc.load_inspection(ctx, review)
    hold = EvidenceHoldDialog(ctx, record)
    hold.cause.setText("经营未备案的化妆品")
    hold.place.setText("当事人经营场所仓库（已加贴封条）")
    hold.approved_by.setText(DEMO_ADMIN)
    hold.add_item()
    for r, row in enumerate(ITEMS):
        for c, text in enumerate(row):
            hold.items.setItem(r, c, QTableWidgetItem(text))
    grab(app, hold, "casegui-evidence-hold-dialog.png")
    hold._save()
    assert hold.paper is not None, hold.message.text()
    pdf_page_png(print_case_document(ctx, hold.paper.id, work / "h.pdf"), OUT / "casegui-evidence-hold.png", 1)

    address = AddressDialog(ctx, record)
    address.phone.setText("13800000001")
    address.postcode.setText("463000")
    address.addressee.setText("李小梅（店长）")
    address.consent.setChecked(True)
    address.electronic.setText("短信 13800000001")
    grab(app, address, "casegui-address-dialog.png")
    address._save()
    assert address.paper is not None, address.message.text()
    pdf_page_png(print_case_document(ctx, address.paper.id, work / "a.pdf"), OUT / "casegui-address-confirm.png", 1)
    papers = CasePapersDialog(ctx, review)
    grab(app, papers, "casegui-case-papers.png")


if __name__ == "__main__":
    main()
