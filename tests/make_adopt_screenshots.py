"""Render the adoption screens to docs/screenshots/adopt-*.png at a 1366×768 laptop's size.

    .venv/bin/python tests/make_adopt_screenshots.py

The register import preview of a station's own sheet, the filtered lists, a record's
readable history, the print preview fitted to the screen. Offscreen, on a 1366×768 screen.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
_screen = Path(tempfile.mkdtemp(prefix="adopt-screen-")) / "screen.json"
_screen.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 768,
                                            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_screen}"


def main() -> None:
    from core import inspections as svc
    from core.context import AppContext
    from core.demo import create_demo
    from core.printing import render_form
    from core.register_import import preview_import
    from gui.app import setup_application
    from gui.history_dialog import HistoryDialog
    from gui.import_dialog import RegisterImportDialog
    from gui.jobs import ImmediateRunner
    from gui.main_window import MainWindow
    from gui.print_preview import PrintPreviewDialog
    from tests.support.registers import write_station_register

    app = setup_application([])
    OUT.mkdir(parents=True, exist_ok=True)

    from PySide6.QtTest import QTest

    def save(widget, name: str) -> None:
        widget.show()
        QTest.qWait(800)  # the PDF view renders its pages in the background
        widget.grab().save(str(OUT / f"adopt-{name}.png"))

    with tempfile.TemporaryDirectory() as tmp:
        ctx = AppContext.open(Path(tmp) / "demo.db")
        create_demo(ctx)
        sheet = write_station_register(Path(tmp) / "驿城区药械化名册.xlsx")
        dialog = RegisterImportDialog(ctx, sheet, preview_import(ctx, sheet), runner=ImmediateRunner(),
                                      after=lambda: None)
        save(dialog, "import-preview")
        dialog.import_button.click()
        save(dialog, "import-done")
        dialog.close()

        window = MainWindow(ctx, runner=ImmediateRunner())
        window.resize(1366, 768)
        window.subject_list.search.setText("化妆品")
        window.subject_list.refresh()
        save(window, "subjects-by-category")
        window.search.clear()
        window.tabs.setCurrentWidget(window.inspection_list)
        window.inspection_list.status.setCurrentIndex(window.inspection_list.status.findData("signed"))
        save(window, "inspections-filtered")

        signed = next(s for s in svc.list_inspections(ctx) if s.status == "signed" and s.failed)
        history = HistoryDialog(ctx, signed.id, signed.number)
        save(history, "history")
        record = svc.load_inspection(ctx, signed.id)
        preview = PrintPreviewDialog(render_form(ctx, record, "record"), "现场检查笔录", "a.pdf")
        save(preview, "print-preview")
        ctx.close()


if __name__ == "__main__":
    main()
