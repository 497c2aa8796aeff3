"""Render the encrypted attachments as the app shows them to docs/screenshots/files-*.png:
the photo viewer (a photo whose file was edited, then one decrypted) and the 检查记录表's
photo appendix printed from encrypted files (pdftoppm).

    .venv/bin/python tests/make_files_screenshots.py

A fresh demo station in a temporary folder, with ``ctx.file_key`` set before the demo is made,
so every photo is written encrypted.
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


def main() -> None:
    from PySide6.QtWidgets import QApplication
    from pypdf import PdfReader

    from core import inspections as svc
    from core.attachments import MAGIC
    from core.context import AppContext
    from core.demo import create_demo
    from core.printing import print_form
    from gui.photo_viewer import PhotoViewer

    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="files-shots-"))
    ctx = AppContext.open(work / "station.db")
    ctx.file_key = os.urandom(32)
    create_demo(ctx)
    with_photos = [r for r in svc.list_inspections(ctx) if r.failed]
    record = next(svc.load_inspection(ctx, r.id) for r in with_photos if svc.load_inspection(ctx, r.id).photos)
    assert all(p.path.read_bytes().startswith(MAGIC) for p in record.photos)
    pdf = print_form(ctx, record.id, "checklist", work / "checklist.pdf")
    print(pdf_page_png(pdf, OUT / "files-checklist-photos.png", len(PdfReader(str(pdf)).pages)))

    first = record.photos[0].path
    edited = work / first.name  # a copy of the file with one byte changed
    raw = bytearray(first.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    edited.write_bytes(bytes(raw))
    viewer = PhotoViewer("线索照片 — 示例", ctx, [edited, first])
    viewer.resize(820, 560)
    viewer.show()
    app.processEvents()
    viewer.grab().save(str(OUT / "files-photo-viewer.png"))
    print(OUT / "files-photo-viewer.png")
    ctx.close()


if __name__ == "__main__":
    main()
