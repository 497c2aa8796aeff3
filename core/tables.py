"""Reading the spreadsheets stations receive: .xlsx and .csv (UTF-8 or GBK), as rows of text."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from datetime import date, datetime
from pathlib import Path

from core.errors import InvalidInput


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path) -> list[list[str]]:
    """All rows of the first sheet of a .xlsx, or of a .csv, header first."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"找不到文件 {path}")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        if not zipfile.is_zipfile(path):  # a .xls, a .csv or a web page saved under an .xlsx name
            raise InvalidInput(f"{path.name} 不是有效的 Excel 文件（.xlsx）：请在 Excel 或 WPS 中打开后另存为 .xlsx 或 .csv 再导入")
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a bad file; its text is English
            raise InvalidInput(f"无法读取 Excel 文件 {path.name}：文件已损坏或不是 Excel 表格（{type(exc).__name__}）") from exc
        try:
            sheet = workbook.worksheets[0]
            rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(min_row=1, values_only=True)]
        finally:
            workbook.close()
    elif suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InvalidInput(f"无法识别 {path.name} 的文字编码（应为 UTF-8 或 GBK）")
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    else:
        raise InvalidInput(f"不支持的文件类型 {path.suffix or '(无扩展名)'}：请使用 .xlsx 或 .csv")
    if not rows:
        raise InvalidInput(f"文件 {path.name} 是空的")
    return rows


def fold(text: str) -> str:
    """Full-width letters, digits and spaces (ideographic too) to their plain forms, spaces collapsed.

    Chinese punctuation such as （） stays as typed: it belongs in names and addresses.
    """
    plain = "".join(unicodedata.normalize("NFKC", ch) if ch.isalnum() or ch.isspace() else ch for ch in text)
    return " ".join(plain.split())


def columns(header: list[str], wanted: dict[str, str]) -> dict[str, int]:
    """Map wanted column names (Chinese header → key) to their index in the header."""
    return {wanted[h.strip()]: i for i, h in enumerate(header) if h.strip() in wanted}


def cell(row: list[str], index: int | None) -> str:
    return row[index] if index is not None and index < len(row) else ""


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")


def parse_date(text: str) -> date | None:
    """2026-03-01, 2026/3/1, 2026.3.1, 2026年3月1日 (a time after it is ignored)."""
    match = _DATE.match(text.strip())
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
