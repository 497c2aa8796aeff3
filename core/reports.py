"""The statistics report as tables, and those tables as Excel (openpyxl) and PDF (reportlab).

``report_tables(report)`` turns ``core.stats.report``'s dict into titled tables, the one
layout the 统计 tab, the workbook and the PDF share. The workbook is laid out as a station
sends it upward: title, station, period, unit, merged and bordered headers, frozen panes,
one sheet per table, numbers stored as numbers (shares as percentages).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InvalidInput
from core.stats.common import (
    DOMAIN_LABELS,
    GRADE_LABELS,
    HANDLING_LABELS,
    KIND_LABELS,
    ORIGIN_LABELS,
)
from core.stats.drills import heading_key
from core.subjects import CATEGORIES
from core.version import app_banner
from core.xlsx import write_sheet

PERCENT = "percent"


@dataclass(frozen=True)
class Table:
    """One table of the report. ``cells[r][c]`` are str, int, float (``PERCENT`` columns) or None.

    ``drill[r]``: (figure, breakdown, key) whose records are behind row r's numbers, or None.
    """

    code: str
    title: str
    unit: str
    headers: tuple[str, ...]
    rows: list[list] = field(default_factory=list)
    percent_columns: tuple[int, ...] = ()
    drill: list[tuple[str, str | None, str | None] | None] = field(default_factory=list)

    def add(self, row: list, drill: tuple[str, str | None, str | None] | None = None) -> None:
        """One row, and the records behind its numbers (None: nothing to list)."""
        self.rows.append(row)
        self.drill.append(drill)


def _label(mapping: dict, key: str) -> str:
    return mapping.get(key, key) if key else "（未填）"


def _breakdown(report: dict, code: str, title: str, dimension: str, labels: dict | None, head: str) -> Table:
    inspections, subjects = report["inspections"][dimension], report["subjects_inspected"][dimension]
    table = Table(code, title, "家次、户", (head, "检查家次", "检查户数"))
    for key, n in inspections.items():
        label = _label(labels, key) if labels is not None else (key or "（未填）")
        table.add([label, n, subjects.get(key, 0)], ("inspections", dimension, key))
    table.add(["合计" if dimension != "by_inspector" else "合计（去重）", report["inspections"]["total"],
               report["subjects_inspected"]["total"]], ("inspections", None, None))
    return table


def report_tables(report: dict) -> list[Table]:
    """The report's tables, in the order the issue lists the figures."""
    tables = [
        _breakdown(report, "by_domain", "检查家次和户数（按药械化）", "by_domain", DOMAIN_LABELS, "领域"),
        _breakdown(report, "by_category", "检查家次和户数（按监管对象类别）", "by_category", CATEGORIES, "类别"),
        _breakdown(report, "by_grid", "检查家次和户数（按网格）", "by_grid", None, "网格"),
        _breakdown(report, "by_inspector", "检查家次和户数（按执法人员）", "by_inspector", None, "执法人员"),
        _breakdown(report, "by_kind", "检查家次和户数（按检查类型）", "by_kind", KIND_LABELS, "检查类型"),
        _breakdown(report, "by_origin", "检查家次和户数（按检查来由）", "by_origin", ORIGIN_LABELS, "来由"),
        _breakdown(report, "by_month", "检查家次和户数（按月份）", "by_month", None, "月份"),
    ]
    if "by_station" in report["inspections"]:  # a county's or city's database: its stations first
        tables.insert(0, _breakdown(report, "by_station", "检查家次和户数（按站所）", "by_station", None, "站所"))
    problems = Table("problems", "发现问题家次", "家次", ("领域", "检查家次", "发现问题家次", "发现问题比例"),
                     percent_columns=(3,))
    for key, n in report["inspections"]["by_domain"].items():
        found = report["inspections_with_problems"]["by_domain"].get(key, 0)
        problems.add([_label(DOMAIN_LABELS, key), n, found, round(found / n, 4) if n else None],
                     ("inspections_with_problems", "by_domain", key))
    total, found = report["inspections"]["total"], report["inspections_with_problems"]["total"]
    problems.add(["合计", total, found, round(found / total, 4) if total else None], ("inspections_with_problems", None, None))
    tables.append(problems)

    failed = Table("failed_items", "不符合项（按检查表章节）", "项", ("检查表", "章节", "不符合项数"))
    for template, by_heading in report["failed_items"]["by_heading"].items():
        for heading, n in by_heading.items():
            failed.add([template, heading, n], ("failed_items", "by_heading", heading_key(template, heading)))
    failed.add(["合计", "", report["failed_items"]["total"]], ("failed_items", None, None))
    failed.add(["另：提示性条款不符合（不计入）", "", report["failed_items"]["advisory"]], ("failed_items", "advisory", None))
    tables.append(failed)

    domains = list(DOMAIN_LABELS)
    rect = Table("rectifications", "责令改正和整改情况", "份", ("项目", "合计", *(DOMAIN_LABELS[d] for d in domains)))
    for key, title in (("rectifications_ordered", "责令改正（份）"), ("rectifications_completed", "完成整改"),
                       ("rectifications_overdue", "期末逾期未整改"), ("case_suggestions", "立案建议")):
        figure = report[key]
        rect.add([title, figure["total"], *(figure["by_domain"].get(d, 0) for d in domains)], (key, None, None))
    tables.append(rect)

    cov = Table("coverage", "监管覆盖率（按类别）", "户", ("类别", "在册户数", "已检查户数", "覆盖率"),
                percent_columns=(3,))
    for key, row in report["coverage"]["by_category"].items():
        cov.add([_label(CATEGORIES, key), row["register"], row["inspected"], row["rate"]],
                ("coverage", "by_category", key))
    c = report["coverage"]
    cov.add(["合计", c["register"], c["inspected"], c["rate"]], ("coverage", None, None))
    tables.append(cov)

    p = report["plan"]
    plan = Table("plan", f"{p['year']}年度双随机抽查计划执行情况", "户", ("项目", "户数"))
    for key, title in (("drawn", "抽取户数"), ("done", "已完成"), ("outstanding", "未完成"), ("overdue", "其中逾期"),
                       ("cancelled", "已取消")):
        plan.add([title, p[key]], ("plan", key, None))
    tables.append(plan)

    t = report["triggers"]
    trig = Table("triggers", "触发式监管", "件", ("项目", "数量"))
    for key, n in t["by_type"].items():
        trig.add([f"触发事件：{t['type_labels'].get(key, key)}", n], ("triggers", "by_type", key))
    for title, value in (("触发事件合计", t["events"]), ("新建检查任务", t["tasks_created"]),
                         ("并入已有任务", t["tasks_merged"]), ("已检查（签名）", t["inspected"]),
                         ("事件至检查天数（中位数）", t["median_days_to_inspection"]),
                         ("在规则期限内检查", t["within_deadline"])):
        trig.add([title, value], ("triggers", None, None) if title == "触发事件合计" else None)
    trig.add(["期限内检查比例", t["within_deadline_share"]])
    tables.append(trig)

    ld = report["leads"]
    leads = Table("leads", "网格线索", "条", ("项目", "数量"))
    for key, n in ld["by_grid"].items():
        leads.add([f"网格：{key or '（未填）'}", n], ("leads", "by_grid", key))
    for key, n in ld.get("by_worker", {}).items():
        leads.add([f"网格员：{key}", n], ("leads", "by_worker", key))
    for title, value in (("上报线索合计", ld["reported"]), ("已处置", ld["handled"]),
                         ("处置用时（工作日，中位数）", ld["median_working_days"]),
                         ("15个工作日内处置", ld["within_15_working_days"]), ("超过15个工作日", ld["late"])):
        leads.add([title, value], ("leads", None, None) if title == "上报线索合计" else None)
    for key, n in ld["outcomes"].items():
        leads.add([f"处置结果：{HANDLING_LABELS[key]}", n])
    leads.add(["15个工作日内处置比例", ld["within_share"]])
    tables.append(leads)

    g = report["grades"]
    grades = Table("grades", "风险分级", "户", ("项目", "数量"))
    for key, n in g["subjects_by_grade"].items():
        grades.add([f"期末{GRADE_LABELS.get(int(key), key)}风险", n], ("grades", "by_grade", key))
    for key, title in (("changes", "期内等级调整"), ("raised", "其中上调"), ("lowered", "其中下调")):
        grades.add([title, g[key]], ("grades", key, None))
    tables.append(grades)
    return tables


def _is_share_row(table: Table, row: list) -> bool:
    return table.headers[-1] == "数量" and str(row[0]).endswith("比例")


# --- Excel ------------------------------------------------------------------------------------

def write_xlsx(report: dict, path: Path) -> Path:
    """The report as a workbook: one sheet per table (the look: core/xlsx.py)."""
    from openpyxl import Workbook

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InvalidInput(f"Excel 文件名应以 .xlsx 结尾：{path.name}")
    book = Workbook()
    book.remove(book.active)
    period = report["period"]
    for table in report_tables(report):
        lines = (f"填报单位：{report['station']}", f"统计期间：{period['label']}（{period['from']} 至 {period['to']}）",
                 f"单位：{table.unit}    制表时间：{report['generated_at'].replace('T', ' ')}")
        write_sheet(book, table.title, lines, table.headers, table.rows,
                    percent=lambda col, row, t=table: col in t.percent_columns or (col > 0 and _is_share_row(t, row)))
    book.properties.title = f"{report['station']}药械化监管统计（{period['label']}）"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


# --- PDF --------------------------------------------------------------------------------------

def _font() -> str:
    """The forms' body font (core.typeset), embedded as a subset."""
    from core import typeset

    return typeset.font(typeset.BODY)


def _text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:g}"
    return str(value)


def write_pdf(report: dict, path: Path) -> Path:
    """The same tables on A4 pages for printing."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as PdfTable
    from reportlab.platypus import TableStyle

    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise InvalidInput(f"PDF 文件名应以 .pdf 结尾：{path.name}")
    font = _font()
    title = ParagraphStyle("t", fontName=font, fontSize=16, leading=22, alignment=1)
    head = ParagraphStyle("h", fontName=font, fontSize=11.5, leading=16, spaceBefore=8)
    small = ParagraphStyle("s", fontName=font, fontSize=8.5, leading=12)
    cell = ParagraphStyle("c", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    number = ParagraphStyle("n", parent=cell, alignment=2)
    period = report["period"]
    story = [Paragraph(f"{report['station']}药械化监管统计报表", title),
             Paragraph(f"统计期间：{period['label']}（{period['from']} 至 {period['to']}）    "
                       f"制表时间：{report['generated_at'].replace('T', ' ')}", small), Spacer(1, 4 * mm)]
    for table in report_tables(report):
        data = [[Paragraph(h, cell) for h in table.headers]]
        for row in table.rows:
            data.append([Paragraph(_text(v) if not (isinstance(v, float) and (i in table.percent_columns or
                                                   _is_share_row(table, row))) else f"{v:.1%}",
                                   cell if isinstance(v, str) else number)
                         for i, v in enumerate(row)])
        width = 174 * mm
        first = width * (0.4 if len(table.headers) > 2 else 0.7)
        rest = (width - first) / max(1, len(table.headers) - 1)
        pdf_table = PdfTable(data, colWidths=[first] + [rest] * (len(table.headers) - 1), repeatRows=1)
        pdf_table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("FONTNAME", (0, 0), (-1, -1), font),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#D9E1F2")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]))
        story.append(KeepTogether([Paragraph(f"{table.title}（单位：{table.unit}）", head), pdf_table])
                     if len(table.rows) < 25 else Paragraph(f"{table.title}（单位：{table.unit}）", head))
        if len(table.rows) >= 25:
            story.append(pdf_table)
    def footer(canvas, doc) -> None:
        canvas.setFont(font, 8.5)
        canvas.drawCentredString(A4[0] / 2, 9 * mm, f"{report['station']}  {period['label']}  第 {doc.page} 页")

    path.parent.mkdir(parents=True, exist_ok=True)
    SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                      bottomMargin=16 * mm, initialFontName=font, initialFontSize=9, creator=app_banner(),
                      title=f"{report['station']}药械化监管统计（{period['label']}）").build(
        story, onFirstPage=footer, onLaterPages=footer)
    return path
