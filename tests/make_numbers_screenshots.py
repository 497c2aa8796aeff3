"""Render the correction's page 1, the void register and the editor of a correction to
docs/screenshots/numbers-*.png (pdftoppm for the PDFs, ``widget.grab()`` for the editor).

    .venv/bin/python tests/make_numbers_screenshots.py

A fresh demo station in a temporary folder: its draft is voided, one signed record is
corrected (statement, reason, approval, signatures) and one order is dropped on reopening.
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


def main() -> None:
    from core import inspections as svc
    from core.context import AppContext
    from core.corrections import approve_correction, request_correction
    from core.demo import create_demo
    from core.printing import print_form
    from core.void_register import print_voided, void_draft
    from tests.integration.helpers import answer_all, sign_all

    work = Path(tempfile.mkdtemp(prefix="numbers-shots-"))
    ctx = AppContext.open(work / "station.db")
    create_demo(ctx)
    rows = svc.list_inspections(ctx)
    draft = next(r for r in rows if r.status == "draft")
    void_draft(ctx, draft.id, "误选监管对象，已在正确的对象下重新检查")
    signed = next(r for r in rows if r.status == "signed" and r.failed)
    record = svc.load_inspection(ctx, signed.id)
    failed = record.failed_items()[0]
    correction = request_correction(
        ctx, signed.id, statement=f"第 {failed.item.code} 项的说明更正为“货架上 2 批次产品无备案信息”",
        reason="现场记录笔误，经核对进货单据后更正")
    svc.set_note(ctx, correction, failed.item.code, "货架上 2 批次产品无备案信息")
    svc.complete_inspection(ctx, correction)
    approve_correction(ctx, correction)
    sign_all(ctx, correction, refused=svc.load_inspection(ctx, correction).party_refused)
    # an order dropped on reopening
    other = svc.start_inspection(ctx, rows[-1].subject_id, "cosmetics-531", record.officers)
    answer_all(ctx, other, {"B2": "无备案信息"})
    svc.complete_inspection(ctx, other)
    svc.set_answer(ctx, other, "B2", "pass")
    svc.complete_inspection(ctx, other)
    OUT.mkdir(parents=True, exist_ok=True)
    page_png(print_form(ctx, correction, "record", work / "correction.pdf"), "numbers-correction-record.png")
    page_png(print_voided(ctx, work / "voided.pdf"), "numbers-void-register.png")

    from gui.app import setup_application
    from gui.inspection_editor import InspectionEditor
    from gui.jobs import ImmediateRunner
    from gui.record_actions import VoidRegisterDialog

    app = setup_application([])
    editor = InspectionEditor(ctx, correction, runner=ImmediateRunner())
    editor.resize(1280, 720)
    editor.show()
    editor.tabs.setCurrentIndex(1)
    app.processEvents()
    editor.grab().save(str(OUT / "numbers-correction-editor.png"))
    dialog = VoidRegisterDialog(ctx, runner=ImmediateRunner())
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(OUT / "numbers-void-register-window.png"))
    ctx.close()


if __name__ == "__main__":
    main()
