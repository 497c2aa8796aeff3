"""Render the new-inspection dialog of a pharmacy with an unfitting checklist picked (the warning
line shown) to docs/screenshots/checklists-new-inspection.png, the same for the demo's cold-chain
firm offered the retail list (checklists-cold-chain-warning.png), and pages of the demo's signed
cold-chain checklist (检查记录表): page 1 and the page with its 冷链 items (checklists-cold-chain-p1.png,
-cold.png).

    .venv/bin/python tests/make_checklists_screenshots.py
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


def main() -> None:
    from core.context import AppContext
    from core.demo import create_demo
    from core.subjects import search_subjects
    from gui.app import setup_application
    from gui.new_inspection_dialog import NewInspectionDialog

    app = setup_application([])
    work = Path(tempfile.mkdtemp(prefix="checklists-shots-"))
    ctx = AppContext.open(work / "station.db")
    create_demo(ctx)
    for subject, checklist, name in (("仁和大药房", "cosmetics-531", "checklists-new-inspection.png"),
                                     ("瑞康体外诊断试剂", "device-retail", "checklists-cold-chain-warning.png")):
        # the new-inspection dialog with a checklist that does not fit the subject: its warning
        [found] = search_subjects(ctx, subject)
        dialog = NewInspectionDialog(ctx, found)
        dialog.show()
        dialog.template.setCurrentIndex(dialog.template.findData(checklist))
        app.processEvents()
        dialog.adjustSize()
        app.processEvents()
        target = OUT / name
        dialog.grab().save(str(target))
        print(target, dialog.fit_warning.text())

    from core.inspections import list_inspections
    from core.printing import print_form
    from tests.support.screens import pdf_page_png

    [firm] = search_subjects(ctx, "瑞康体外诊断试剂")
    [summary] = [s for s in list_inspections(ctx) if s.subject_name == firm.name]
    pdf = print_form(ctx, summary.id, "checklist", work / "checklist.pdf")
    from pypdf import PdfReader

    texts = [page.extract_text() for page in PdfReader(str(pdf)).pages]
    cold = next(n for n, text in enumerate(texts, 1) if "P1" in text and "冷库" in text)
    for label, page in (("p1", 1), ("cold", cold)):
        print(pdf_page_png(pdf, OUT / f"checklists-cold-chain-{label}.png", page), f"page {page} of {len(texts)}")
    ctx.close()


if __name__ == "__main__":
    main()
