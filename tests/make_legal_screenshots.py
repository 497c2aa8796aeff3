"""Render page 1 and the last page of each form of the demo's refused inspection (failed items,
a refusal, a photo) to docs/screenshots/legal-*.png with pdftoppm.

    .venv/bin/python tests/make_legal_screenshots.py
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    from pypdf import PdfReader

    from core.context import AppContext
    from core.demo import DEMO_INSPECTIONS, DEMO_SUBJECTS, create_demo
    from core.inspections import list_inspections
    from core.printing import print_form
    from tests.support.screens import pdf_page_png

    refused = next(DEMO_SUBJECTS[i].name for i, _f, was_refused, _d in DEMO_INSPECTIONS if was_refused)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        ctx = AppContext.open(work / "demo.db")
        create_demo(ctx)
        [summary] = [s for s in list_inspections(ctx) if s.subject_name == refused]
        for form in ("record", "checklist", "rectification"):
            pdf = print_form(ctx, summary.id, form, work / f"{form}.pdf")
            pages = len(PdfReader(str(pdf)).pages)
            for label, page in (("p1", 1), ("last", pages)):
                target = pdf_page_png(pdf, OUT / f"legal-{form}-{label}.png", page)
                print(f"{target}  (page {page} of {pages})")
        ctx.close()


if __name__ == "__main__":
    main()
