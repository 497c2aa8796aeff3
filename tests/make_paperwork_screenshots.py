"""Render page 1 of the forms that follow an inspection to docs/screenshots/paperwork-*.png
(pdftoppm: 询问笔录, 送达回证 留置送达, 整改复查意见书 未整改到位), and the 询问笔录 dialog (``widget.grab()``).

    .venv/bin/python tests/make_paperwork_screenshots.py

A fresh demo station in a temporary folder; one signed inspection gets a signed 询问笔录.
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


def page_png(pdf: Path, name: str, page: int = 1) -> None:
    print(pdf_page_png(pdf, OUT / name, page))


QA = [
    ("你在本店担任什么职务？负责哪些工作？", "我是店长，负责进货、验收和日常销售。"),
    ("现场检查发现货架上的某品牌保湿乳（批号20260301）查询不到备案信息，这批货是从哪里进的？",
     "是上个月从市里的批发市场进的，一共进了6瓶，已经卖了3瓶。"),
    ("进货时是否查验了供货者的资质和产品的备案信息？有没有进货查验记录？",
     "当时只看了外包装，没有在网上查备案信息，也没有做进货查验记录。"),
    ("你对以上情况还有什么要补充的吗？", "没有了。我们愿意马上下架，按要求整改。"),
]


def main() -> None:
    from core import inspections as svc
    from core import questioning as q
    from core.context import AppContext
    from core.demo import create_demo
    from core.printing import print_questioning
    from tests.integration.helpers import signature_png

    work = Path(tempfile.mkdtemp(prefix="paperwork-shots-"))
    ctx = AppContext.open(work / "station.db")
    create_demo(ctx)
    signed = next(r for r in svc.list_inspections(ctx) if r.status == "signed" and r.failed)
    record = svc.load_inspection(ctx, signed.id)
    draft = q.create_questioning(ctx, inspection_id=signed.id)
    q.set_person(ctx, draft.id, name="李小梅", sex="女", id_no="410102199001011234", unit=record.party.get("name", ""),
                 position="店长", phone="13800000001", address="示例市西园路12号", relation="当事人的店长（现场负责人）")
    q.set_details(ctx, draft.id, recorder=record.officers[1].name, notice_answer="看清楚了", recusal_answer="不申请")
    for question, answer in QA:
        q.add_qa(ctx, draft.id, question, answer)
    q.set_details(ctx, draft.id, confirmation=q.DEFAULT_CONFIRMATION)
    for role in q.signature_roles(q.load_questioning(ctx, draft.id)):
        q.add_signature(ctx, draft.id, role, "签名人", signature_png())
    q.sign_questioning(ctx, draft.id)
    page_png(print_questioning(ctx, draft.id, work / "q.pdf"), "paperwork-questioning.png")
    from core.printing import print_service_receipt
    from core.service_receipts import record_service

    receipt = record_service(
        ctx, signed.id, method="留置送达", recipient=record.party.get("name", ""), place=record.party.get("address", ""),
        refusal_reason="负责人称对检查结果有异议，拒绝签收", witness_name="孙丽", witness_unit="西园路社区居委会",
        media_ref="执法记录仪 DSJ-0342，09时28分至09时35分；照片 留置-01.jpg、留置-02.jpg")
    page_png(print_service_receipt(ctx, receipt.id, work / "s.pdf"), "paperwork-service-receipt.png")
    review_png(ctx)
    dialog_png(ctx, signed.id)


def review_png(ctx) -> None:
    """A failed re-inspection of a demo order: 未整改到位."""
    from core.printing import print_form
    from tests.integration.helpers import failed_reinspection

    inspection_id, _order = failed_reinspection(ctx)
    with tempfile.TemporaryDirectory() as work:
        page_png(print_form(ctx, inspection_id, "review", Path(work) / "r.pdf"), "paperwork-review.png")


def dialog_png(ctx, inspection_id: str) -> None:
    from PySide6.QtWidgets import QApplication

    from gui.jobs import ImmediateRunner
    from gui.questioning_dialog import QuestioningDialog

    from gui.app import setup_application

    app = QApplication.instance() or setup_application([])
    dialog = QuestioningDialog(ctx, inspection_id, runner=ImmediateRunner())
    dialog.resize(900, 760)
    dialog.show()
    dialog.qa_list.setCurrentRow(1)
    app.processEvents()
    target = OUT / "paperwork-questioning-dialog.png"
    dialog.grab().save(str(target))
    print(target)


if __name__ == "__main__":
    main()
