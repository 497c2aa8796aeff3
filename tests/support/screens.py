"""Rendering a page of a printed PDF to PNG for docs/screenshots (the make_*_screenshots scripts)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def pdf_page_png(pdf: Path, target: Path, page: int = 1) -> Path:
    """Page ``page`` (1-based) of ``pdf`` as ``target`` (.png) at 80 dpi: pdftoppm, else QtPdf."""
    target = Path(target)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                        str(target.with_suffix(""))], check=True)
        return target
    from PySide6.QtCore import QSize
    from PySide6.QtPdf import QPdfDocument

    document = QPdfDocument()
    document.load(str(pdf))
    points = document.pagePointSize(page - 1)
    document.render(page - 1, QSize(int(points.width() * 80 / 72), int(points.height() * 80 / 72))).save(str(target))
    return target


LAPTOP_SCREEN = (1366, 768)  # the laptop screen the station's users have


def save_window(app, widget, target: Path) -> Path:
    """Show ``widget``, let it lay out, check it fits the laptop screen and save it as ``target``."""
    widget.show()
    for _ in range(3):
        app.processEvents()
    size = widget.size()
    assert size.width() <= LAPTOP_SCREEN[0] and size.height() <= LAPTOP_SCREEN[1], (target.name, size)
    widget.grab().save(str(target))
    return target
