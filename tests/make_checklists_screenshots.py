"""Render the new-inspection dialog of a pharmacy with an unfitting checklist picked (the warning
line shown) to docs/screenshots/checklists-new-inspection.png.

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
    [pharmacy] = search_subjects(ctx, "仁和大药房")
    dialog = NewInspectionDialog(ctx, pharmacy)
    dialog.show()
    dialog.template.setCurrentIndex(dialog.template.findData("cosmetics-531"))
    app.processEvents()
    dialog.adjustSize()
    app.processEvents()
    target = OUT / "checklists-new-inspection.png"
    dialog.grab().save(str(target))
    print(target, dialog.fit_warning.text())
    ctx.close()


if __name__ == "__main__":
    main()
