"""One sheet laid out as a station sends it: the look shared by the statistics report
(core/reports.py) and the list exports (core/exports.py).

Rows 1–4: title (merged, large, bold), then lines such as 填报单位 / 统计期间 / unit and time
made (merged); the header row bordered, bold and shaded; data rows bordered; frozen panes
below the header (and right of the first column); numbers stored as numbers, dates as dates,
shares with a percent format; column widths from the contents (a CJK character counts two).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable, Sequence

HEADER_ROW = 5  # rows 1–4: the title and three lines


def units(value) -> int:
    """Width in Excel's character units: a CJK character takes two."""
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(value))


def sheet_name(title: str, taken: list[str]) -> str:
    name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31]
    base, n = name, 2
    while name in taken:
        name = f"{base[:28]}{n}"
        n += 1
    return name


def write_sheet(book, title: str, lines: Sequence[str], headers: Sequence[str], rows: Sequence[Sequence], *,
                percent: Callable[[int, Sequence], bool] = lambda column, row: False,
                sheet_title: str | None = None, freeze_first_column: bool = True):
    """Add one formatted sheet to ``book`` (an openpyxl Workbook) and return it.

    ``percent(column, row)``: whether a float in that cell is a share (shown as a percentage).
    Cells: str, int, float, date, datetime or None (shown as "—" after the first column).
    """
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet = book.create_sheet(sheet_name(sheet_title or title, book.sheetnames))
    width = len(headers)
    last = get_column_letter(width)
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"] = title
    sheet["A1"].font = Font(name="SimSun", size=16, bold=True)
    sheet["A1"].alignment = centre
    sheet.row_dimensions[1].height = 30
    for n, text in enumerate(lines[:3], 2):
        sheet.merge_cells(f"A{n}:{last}{n}")
        sheet[f"A{n}"] = text
    for col, head in enumerate(headers, 1):
        cell = sheet.cell(row=HEADER_ROW, column=col, value=head)
        cell.font, cell.alignment, cell.border = Font(bold=True), centre, border
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
    right, middle, bold = Alignment(horizontal="right"), Alignment(horizontal="center"), Font(bold=True)
    for r, row in enumerate(rows, HEADER_ROW + 1):
        for col, value in enumerate(row, 1):
            cell = sheet.cell(row=r, column=col, value=value)
            cell.border = border
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                share = isinstance(value, float) and percent(col - 1, row)
                cell.number_format = "0.0%" if share else ("0" if isinstance(value, int) else "0.0")
                cell.alignment = right
            elif value is None and col > 1:
                cell.value = "—"
                cell.alignment = middle
        if row and str(row[0]).startswith("合计"):
            for col in range(1, width + 1):
                sheet.cell(row=r, column=col).font = bold
    sheet.freeze_panes = f"{'B' if freeze_first_column else 'A'}{HEADER_ROW + 1}"
    sample = rows[:500]  # widths from the first rows, as the app's tables do
    widths = [min(max(10, max(units(v) for v in (headers[c], *(row[c] for row in sample))) + 2), 48)
              for c in range(width)]
    # the merged title and lines above the table must fit: widen the first column if needed
    needed = max(units(title) * 1.5, *(units(text) + 2 for text in lines))
    widths[0] += max(0, needed - sum(widths))
    for col, value in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(col)].width = value
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "portrait" if width <= 5 else "landscape"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True  # printed one page wide, as many long as needed
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    return sheet
