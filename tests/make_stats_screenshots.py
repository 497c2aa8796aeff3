"""Render the 统计 tab (docs/screenshots/stats-tab.png), the Excel report's first sheet and an
exported inspection list (stats-excel.png, stats-export-inspections.png).

    .venv/bin/python tests/make_stats_screenshots.py [--db COPY_OF_A_GENERATED_DB] [--period 2026Q4]

Without ``--db`` it uses the hand-built station of the statistics tests. The Excel report is
printed to PDF with LibreOffice headless and rendered with pdftoppm when both are installed; otherwise the workbook
is read back with openpyxl and its first sheet drawn cell by cell (values, merged title,
borders, number formats as Excel would show them) to docs/screenshots/stats-excel.png.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"


def draw_sheet(xlsx: Path, sheet_name: str, target: Path) -> None:
    """Draw one sheet as read back by openpyxl (no spreadsheet program on this machine)."""
    from openpyxl import load_workbook
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

    sheet = load_workbook(xlsx)[sheet_name]
    widths = [int((sheet.column_dimensions[chr(64 + c)].width or 10) * 8) for c in range(1, sheet.max_column + 1)]
    row_h, head_w = 26, 40
    image = QImage(head_w + sum(widths) + 2, row_h * (sheet.max_row + 1) + 2, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    p = QPainter(image)
    p.setFont(QFont("WenQuanYi Micro Hei", 10))
    p.fillRect(0, 0, image.width(), row_h, QColor("#eeeeee"))
    p.fillRect(0, 0, head_w, image.height(), QColor("#eeeeee"))
    x = head_w
    for c, w in enumerate(widths):
        p.drawText(QRect(x, 0, w, row_h), Qt.AlignmentFlag.AlignCenter, chr(65 + c))
        x += w
    merged = {str(r).split(":")[0]: r for r in sheet.merged_cells.ranges}
    for r in range(1, sheet.max_row + 1):
        y = row_h * r
        p.setPen(QPen(QColor("#888888")))
        p.drawText(QRect(0, y, head_w, row_h), Qt.AlignmentFlag.AlignCenter, str(r))
        x = head_w
        for c in range(1, sheet.max_column + 1):
            cell = sheet.cell(r, c)
            w = widths[c - 1]
            span = merged.get(cell.coordinate)
            if span is not None:
                w = sum(widths[span.min_col - 1:span.max_col])
            elif any(r == m.min_row and m.min_col < c <= m.max_col for m in merged.values()):
                x += widths[c - 1]
                continue
            rect = QRect(x, y, w, row_h)
            if cell.fill is not None and cell.fill.fgColor is not None and cell.fill.fill_type == "solid":
                p.fillRect(rect, QColor("#" + cell.fill.fgColor.rgb[-6:]))
            value = cell.value
            if isinstance(value, float) and "%" in cell.number_format:
                text = f"{value:.1%}"
            else:
                text = "" if value is None else str(value)
            font = QFont("WenQuanYi Micro Hei", 14 if r == 1 else 10)
            font.setBold(bool(cell.font and cell.font.bold))
            p.setFont(font)
            p.setPen(QPen(QColor("black")))
            align = (Qt.AlignmentFlag.AlignRight if isinstance(value, (int, float)) else
                     Qt.AlignmentFlag.AlignCenter if (cell.alignment and cell.alignment.horizontal == "center")
                     else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignVCenter
            p.drawText(rect.adjusted(4, 0, -4, 0), align, text)
            if cell.border is not None and cell.border.left is not None and cell.border.left.style:
                p.drawRect(rect)
            x += widths[c - 1]
    p.end()
    image.save(str(target))


def county_shot(tmp: Path) -> None:
    """The 统计 tab on a county's database (three stations' records), one station chosen:
    docs/screenshots/stats-stations.png."""
    import datetime as dt

    from core.context import AppContext
    from gui.jobs import ImmediateRunner
    from gui.main_window import MainWindow
    from tests.integration.test_stats_stations import _fill

    ctx = AppContext.open(tmp / "county.db")
    _fill(ctx)
    ctx.clock = lambda: dt.datetime(2026, 12, 1, 9, 0)
    window = MainWindow(ctx, runner=ImmediateRunner())
    window.resize(1440, 900)
    window.show()
    window.tabs.setCurrentWidget(window.stats_view)
    view = window.stats_view
    view.set_period("quarter", 2026, 4)
    view.station_box.setCurrentIndex(view.station_box.findData("乙所"))
    view.compute()
    view.table_list.setCurrentRow(0)
    view.drill_row(0)
    from PySide6.QtWidgets import QApplication

    for _ in range(5):
        QApplication.processEvents()
    window.grab().save(str(OUT / "stats-stations.png"))
    window.close()
    ctx.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="a database to read (a copy: settings may be added to it)")
    parser.add_argument("--period", default="2026Q4")
    args = parser.parse_args()
    from core.context import AppContext
    from core.reports import write_xlsx
    from core.stats import parse_period
    from gui.jobs import ImmediateRunner
    from gui.main_window import MainWindow

    from gui.app import setup_application

    app = setup_application([])
    tmp = Path(tempfile.mkdtemp(prefix="stats-shots-"))
    if args.db:
        ctx = AppContext.open(args.db)
    else:
        from tests.integration.stats_station import build

        ctx = AppContext.open(tmp / "station.db")
        build(ctx)
    period = parse_period(args.period)
    window = MainWindow(ctx, runner=ImmediateRunner())
    window.resize(1440, 900)
    window.show()
    window.tabs.setCurrentWidget(window.stats_view)
    view = window.stats_view
    view.set_period(period.kind, period.start.year, (period.start.month - 1) // 3 + 1 if period.kind == "quarter"
                    else period.start.month)
    view.compute()
    view.table_list.setCurrentRow(0)
    view.drill_row(len(view.tables[0].rows) - 1)
    for _ in range(5):
        app.processEvents()
    OUT.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(OUT / "stats-tab.png"))
    if not args.db:
        county_shot(tmp)
    xlsx = write_xlsx(view.result, tmp / "report.xlsx")
    from core.exports import ExportFilter, export_xlsx

    listed = export_xlsx(ctx, "inspections", tmp / "inspections.xlsx", ExportFilter(period=period, status="signed"))
    # LibreOffice finds the app's CJK font (the forms' WenQuanYi Micro Hei) through a fontconfig file of its own
    from core.paths import cjk_font_path

    (tmp / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{cjk_font_path().parent}</dir>'
        '<alias><family>SimSun</family><prefer><family>WenQuanYi Micro Hei</family></prefer></alias>'
        '<alias><family>Calibri</family><prefer><family>WenQuanYi Micro Hei</family></prefer></alias>'
        '</fontconfig>', encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(tmp / "fonts.conf"), "HOME": str(tmp)}
    for book, name in ((xlsx, "stats-excel.png"), (listed.path, "stats-export-inspections.png")):
        if shutil.which("soffice") and shutil.which("pdftoppm"):  # LibreOffice headless, printed: the first page
            subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp), str(book)],
                           check=True, capture_output=True, env=env)
            # the page's top part, where the table is
            crop = ["-x", "0", "-y", "150", "-W", "1870", "-H", "820"] if book == listed.path else [
                "-x", "80", "-y", "130", "-W", "900", "-H", "420"]
            subprocess.run(["pdftoppm", "-png", "-r", "160", "-f", "1", "-l", "1", *crop,
                            "-singlefile", str(tmp / f"{book.stem}.pdf"), str(OUT / Path(name).stem)], check=True)
        else:
            from openpyxl import load_workbook

            draw_sheet(book, load_workbook(book).sheetnames[0], OUT / name)
    print(OUT / "stats-tab.png", OUT / "stats-excel.png", OUT / "stats-export-inspections.png", xlsx)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
