"""Render page 1 of the case papers to docs/screenshots/paperwork-*.png (pdftoppm) and the
送达回证 dialog (``widget.grab()``):

    .venv/bin/python tests/make_casework_screenshots.py

A fresh demo station in a temporary folder: a demo order is re-inspected and still fails, the
立案审批表 is drafted from it, submitted and approved by the 所长; a signed inspection gets a
先行登记保存证据通知书, its 解除 and a 送达地址确认书.
"""
from __future__ import annotations

import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"

from tests.support.screens import pdf_page_png  # noqa: E402


def page_png(pdf: Path, name: str) -> None:
    print(pdf_page_png(pdf, OUT / name, 1))


def main() -> None:
    from core import inspections as svc
    from core.casework import cases, evidence
    from core.context import AppContext
    from core.demo import DEMO_ADMIN, create_demo
    from core.printing import print_case_document
    from tests.integration.helpers import submitted_case_filing

    work = Path(tempfile.mkdtemp(prefix="casework-shots-"))
    ctx = AppContext.open(work / "station.db")
    create_demo(ctx)
    review, filing = submitted_case_filing(ctx)
    cases.decide_case(ctx, filing.id, "approve", "同意立案。")
    ctx.user = None
    page_png(print_case_document(ctx, filing.id, work / "f.pdf"), "paperwork-case-filing.png")
    page_png(print_case_document(ctx, filing.parent_id, work / "c.pdf"), "paperwork-case-source.png")

    signed = svc.load_inspection(ctx, review)
    hold = evidence.hold_evidence(
        ctx, signed.id, cause="经营未备案的化妆品", place="当事人经营场所仓库（已加贴封条）", approved_by="所长 " + DEMO_ADMIN,
        items=[{"name": "某某保湿乳", "spec": "50ml/瓶", "batch": "20260301", "quantity": "3瓶", "kept_at": "仓库东侧货架"},
               {"name": "某某补水面膜", "spec": "25g×5片/盒", "batch": "B2026-02", "quantity": "6盒",
                "kept_at": "仓库东侧货架"}])
    page_png(print_case_document(ctx, hold.id, work / "h.pdf"), "paperwork-evidence-hold.png")
    release = evidence.release_evidence(ctx, hold.id, reason="经核查，上述物品已补办备案，不再需要保存",
                                        released_at=ctx.clock() + timedelta(days=3))
    page_png(print_case_document(ctx, release.id, work / "r.pdf"), "paperwork-evidence-release.png")
    address = evidence.confirm_address(ctx, signed.id, recipient=signed.party.get("name", ""),
                                       address=signed.party.get("address", ""), phone="13800000001", postcode="463000",
                                       addressee="李小梅（店长）", electronic="短信 13800000001")
    page_png(print_case_document(ctx, address.id, work / "a.pdf"), "paperwork-address-confirm.png")
    dialog_png(ctx, review)


def dialog_png(ctx, inspection_id: str) -> None:
    from PySide6.QtWidgets import QApplication

    from core import inspections as svc
    from gui.app import setup_application
    from gui.service_dialog import ServiceDialog

    app = QApplication.instance() or setup_application([])
    dialog = ServiceDialog(ctx, svc.load_inspection(ctx, inspection_id))
    dialog.method.setCurrentIndex(1)  # 留置送达
    dialog.reason.setText("负责人称对检查结果有异议，拒绝签收")
    dialog.witness.setText("孙丽")
    dialog.witness_unit.setText("西园路社区居委会")
    dialog.media.setText("执法记录仪 DSJ-0342，09时28分至09时35分")
    dialog.show()
    app.processEvents()
    target = OUT / "paperwork-service-dialog.png"
    dialog.grab().save(str(target))
    print(target)


if __name__ == "__main__":
    main()
