"""Importing a station's register of subjects as stations keep it (.xlsx or .csv).

Real registers have a title row (often merged) and blank rows above the header, their own
column names (企业名称, 社会信用代码, 主体类型 …) and category words (药店, 美容院, 医美 …),
and codes typed with full-width digits. The header is looked for in the first rows; column
and category spellings are data (``resources/rules/register-synonyms.v*.json``, extended by
a ``register-synonyms.json`` beside the station's database); every cell is folded (full-width
letters, digits and spaces) before it is checked. ``preview_import`` says what an import
would do without writing anything; ``import_subjects`` does it in one transaction.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from sqlalchemy import select

from core import published
from core.errors import InvalidInput
from core.rules import _newest, _validated, rules_dir
from core.subjects import CATEGORIES, CATEGORY_BY_LABEL, SubjectData, _clean, _fields
from core.tables import fold, read_table
from core.users import require
from db.models import Subject

if TYPE_CHECKING:
    from core.context import AppContext

HEADER_SEARCH_ROWS = 15  # the header is looked for in this many rows from the top
FIELD_LABELS = {
    "name": "名称", "credit_code": "统一社会信用代码", "category": "类别", "address": "地址",
    "legal_rep": "法定代表人", "phone": "联系电话", "grid": "网格", "licence_no": "许可证号", "filing_no": "备案号",
}
STATION_FILE = "register-synonyms.json"
OUTCOME_LABELS = {"import": "导入", "duplicate": "已存在，跳过", "rejected": "拒绝"}


def _header_key(text: str) -> str:
    """A header cell as compared: folded, no spaces, no marks such as * or a trailing colon."""
    return "".join(fold(text).split()).strip("*＊:：").replace("(", "（").replace(")", "）")


@dataclass(frozen=True)
class Synonyms:
    """Header text → field, category text → category code, and keywords tried in order."""

    headers: dict[str, str]
    categories: dict[str, str]
    keywords: tuple[tuple[str, str], ...]
    files: tuple[str, ...] = ()

    def category(self, text: str) -> str | None:
        text = "".join(fold(text).split())
        if not text:
            return "other"
        found = self.categories.get(text) or CATEGORY_BY_LABEL.get(text) or (text if text in CATEGORIES else None)
        if found:
            return found
        return next((code for word, code in self.keywords if word in text), None)


def _merge(data: dict, headers: dict, categories: dict, keywords: list) -> None:
    for key, names in data.get("headers", {}).items():
        for name in names:
            headers[_header_key(name)] = key
    for code, names in data.get("categories", {}).items():
        for name in names:
            categories["".join(fold(name).split())] = code
    keywords[:0] = [tuple(pair) for pair in data.get("category_keywords", [])]  # the station's first


@lru_cache(maxsize=8)
def _load(station_file: str | None, _mtime: float, above: tuple[int, str] | None = None) -> Synonyms:
    headers = {_header_key(label): key for key, label in FIELD_LABELS.items()}
    categories: dict[str, str] = {}
    keywords: list = []
    if above is not None:  # a newer version published by the level above (core.published)
        _merge(json.loads(above[1]), headers, categories, keywords)
        files = [f"register-synonyms.v{above[0]}（上级发布）"]
    else:
        base = _newest("register-synonyms", rules_dir())
        _merge(_validated(base, "schema.register-synonyms.json"), headers, categories, keywords)
        files = [base.name]
    if station_file:
        _merge(_validated(Path(station_file), "schema.register-synonyms.json"), headers, categories, keywords)
        files.append(station_file)
    return Synonyms(headers, categories, tuple(keywords), tuple(files))


def load_synonyms(ctx: AppContext | None = None) -> Synonyms:
    """The shipped synonyms (or a newer version the level above published), plus the station's own
    file beside its database when there is one."""
    station = None
    above = None
    if ctx is not None:
        shipped = int(_newest("register-synonyms", rules_dir()).stem.rsplit(".v", 1)[1])
        newer = published.newest_synonyms(ctx, shipped)
        above = None if newer is None else (newer[0], json.dumps(newer[1], ensure_ascii=False, sort_keys=True))
    if ctx is not None and ctx.engine.dialect.name == "sqlite" and ctx.engine.url.database:
        candidate = Path(ctx.engine.url.database).parent / STATION_FILE
        if candidate.is_file():
            station = candidate
    return _load(str(station) if station else None, station.stat().st_mtime if station else 0.0, above)


@dataclass(frozen=True)
class PlannedRow:
    """One row of the sheet and what importing it does (``outcome``: import, duplicate, rejected)."""

    row: int
    cells: tuple[str, ...]
    outcome: str
    reason: str = ""
    data: SubjectData | None = None
    values: dict[str, str] = field(default_factory=dict)  # field → the folded cell, as read

    @property
    def category_label(self) -> str:
        return CATEGORIES[self.data.category] if self.data else self.values.get("category", "")

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome] + (f"：{self.reason}" if self.reason else "")


@dataclass
class ImportPlan:
    """What an import of ``file_name`` does: where the header is, how columns map, each row's fate."""

    file_name: str
    header_row: int
    header: list[str]
    mapping: list[tuple[str, str]]  # (the sheet's header text, our field's label)
    unused: list[str]
    rows: list[PlannedRow] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def rejected(self) -> list[dict]:
        return [{"row": r.row, "reason": r.reason} for r in self.rows if r.outcome == "rejected"]

    @property
    def mapping_text(self) -> str:
        return "，".join(f"{theirs} → {ours}" if theirs != ours else ours for theirs, ours in self.mapping)


@dataclass
class ImportSummary:
    imported: int = 0
    skipped: int = 0
    rejected: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"imported": self.imported, "skipped": self.skipped, "rejected": self.rejected}


def find_header(rows: list[list[str]], synonyms: Synonyms, file_name: str) -> tuple[int, dict[str, int]]:
    """The index of the header row among the first rows, and field → column index.

    The header is the row naming the most known columns, one of them the name; title rows
    (one merged cell), notes and blank rows above it are skipped.
    """
    best: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for column, text in enumerate(row):
            key = synonyms.headers.get(_header_key(text))
            if key and key not in found:
                found[key] = column
        if "name" in found and (best is None or len(found) > len(best[1])):
            best = (index, found)
    if best is None:
        examples = "、".join(sorted({n for n, k in synonyms.headers.items() if k == "name"})[:6])
        raise InvalidInput(f"文件 {file_name} 缺少“名称”列：前 {HEADER_SEARCH_ROWS} 行里没有找到表头"
                           f"（名称列可写作：{examples} 等）")
    return best


def plan_rows(rows: list[list[str]], synonyms: Synonyms, file_name: str, known_codes: set, known_plain: set,
              *, progress: Callable[[int, int], None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> ImportPlan:
    """Each row's fate against the subjects already known (``known_*`` grow with the good rows)."""
    header_index, columns = find_header(rows, synonyms, file_name)
    header = rows[header_index]
    used = set(columns.values())
    plan = ImportPlan(
        file_name=file_name, header_row=header_index + 1, header=list(header),
        mapping=[(fold(header[i]), FIELD_LABELS[key]) for key, i in sorted(columns.items(), key=lambda kv: kv[1])],
        unused=[fold(h) for i, h in enumerate(header) if h.strip() and i not in used],
    )
    body = rows[header_index + 1:]
    for offset, row in enumerate(body):
        if cancelled and cancelled():
            raise InvalidInput("导入已取消，未做任何更改")
        if progress and offset % 50 == 0:
            progress(offset, len(body))
        row_no = header_index + offset + 2  # the spreadsheet's own row number
        values = {key: fold(row[i]) if i < len(row) else "" for key, i in columns.items()}
        if not any(values.values()):
            continue
        cells = tuple(row)
        category_text = values.get("category", "")
        category = synonyms.category(category_text)
        if category is None:
            plan.rows.append(PlannedRow(row_no, cells, "rejected",
                                        f"未知的类别“{category_text}”（可用：{'、'.join(CATEGORIES.values())}）",
                                        values=values))
            continue
        try:
            data = _clean(SubjectData(category=category, **{k: v for k, v in values.items() if k != "category"}))
        except InvalidInput as exc:
            plan.rows.append(PlannedRow(row_no, cells, "rejected", exc.message, values=values))
            continue
        key = data.credit_code or (data.name, data.address)
        if key in known_codes or key in known_plain:
            plan.rows.append(PlannedRow(row_no, cells, "duplicate", data=data, values=values))
            continue
        (known_codes if data.credit_code else known_plain).add(key)
        plan.rows.append(PlannedRow(row_no, cells, "import", data=data, values=values))
    if progress:
        progress(len(body), len(body))
    return plan


def _known(session) -> tuple[set, set]:
    codes = set(session.scalars(select(Subject.credit_code).where(Subject.credit_code.is_not(None))))
    plain = {(n, a) for n, a in session.execute(select(Subject.name, Subject.address)
                                                 .where(Subject.credit_code.is_(None)))}
    return codes, plain


def _read(ctx: AppContext, path: Path) -> tuple[list[list[str]], Synonyms]:
    """Permission first, then the file's rows and the synonyms in force."""
    require(ctx, "subjects")
    return read_table(Path(path)), load_synonyms(ctx)


def preview_import(ctx: AppContext, path: Path, *, progress: Callable[[int, int], None] | None = None,
                   cancelled: Callable[[], bool] | None = None) -> ImportPlan:
    """What importing ``path`` would do, row by row; nothing is written."""
    rows, synonyms = _read(ctx, path)
    with ctx.sessions() as s:
        return plan_rows(rows, synonyms, Path(path).name, *_known(s), progress=progress, cancelled=cancelled)


def import_subjects(
    ctx: AppContext,
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportSummary:
    """Import a station's register. Good rows go in, bad rows are reported by row number.

    A row matching an existing subject (same credit code, or same name and address when
    it has none) is skipped, so importing the same file twice duplicates nothing.
    All rows go in one transaction: a cancelled import changes nothing.
    """
    rows, synonyms = _read(ctx, path)
    with ctx.transaction() as s:
        plan = plan_rows(rows, synonyms, Path(path).name, *_known(s), progress=progress, cancelled=cancelled)
        for planned in plan.rows:
            if planned.outcome == "import":
                s.add(Subject(device_id=ctx.device_id, **_fields(planned.data)))
    return ImportSummary(imported=plan.count("import"), skipped=plan.count("duplicate"), rejected=plan.rejected)


def export_rejected(plan: ImportPlan, path: Path) -> int:
    """The rejected rows, as they were, with their row number and reason, to an .xlsx to fix and re-import."""
    from openpyxl import Workbook

    from core.files import write_through_temp

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "未导入的行"
    sheet.append(list(plan.header) + ["原行号", "拒绝原因"])
    rejected = [r for r in plan.rows if r.outcome == "rejected"]
    for r in rejected:
        cells = list(r.cells) + [""] * (len(plan.header) - len(r.cells))
        sheet.append(cells[:len(plan.header)] + [r.row, r.reason])
    write_through_temp(Path(path), workbook.save)
    return len(rejected)

