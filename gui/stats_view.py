"""The 统计 tab: pick a period, see the report's tables and charts, list the records behind a number.

The figures are computed by ``core.stats.report`` on a worker (``gui.operations.run_op``)
with a progress indicator; the tables are ``core.reports.report_tables``, the same ones the
Excel and PDF reports contain. Clicking a row lists its records (``core.stats.drill``);
opening one opens the inspection or the subject as everywhere else.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCharts import (
    QAbstractBarSeries,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QDate, QMargins, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QSplitter,
    QGridLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.context import AppContext
from core.reports import Table, report_tables, write_pdf, write_xlsx
from core.stats import DrillRow, Period, drill, report
from core.stats import stations as stats_stations
from core.subjects import CATEGORIES
from gui.i18n import tr_args
from gui.models import RowTableModel
from gui.operations import run_op
from gui.widgets import make_table


def _tr(text: str) -> str:
    return QCoreApplication.translate("stats", text)


def _cell_text(table: Table, row: list, column: int) -> str:
    value = row[column]
    if value is None:
        return "—"
    if isinstance(value, float) and (column in table.percent_columns or str(row[0]).endswith("比例")):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:g}"
    return _tr(value) if isinstance(value, str) else str(value)


class StatsTableModel(QAbstractTableModel):
    """One report table; numbers right-aligned, rows with records behind them marked as links."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table: Table | None = None

    def set_table(self, table: Table | None) -> None:
        self.beginResetModel()
        self.table = table
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() or self.table is None else len(self.table.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() or self.table is None else len(self.table.headers)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if self.table is not None and role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return _tr(self.table.headers[section])
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.table is None:
            return None
        row = self.table.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell_text(self.table, row, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and not isinstance(row[index.column()], str):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and self.drill_of(index.row()) is not None:
            return _tr("单击列出这些记录")
        if role == Qt.ItemDataRole.ForegroundRole and self.drill_of(index.row()) is not None and index.column() > 0:
            from PySide6.QtGui import QBrush, QColor

            return QBrush(QColor("#0b57d0"))
        return None

    def drill_of(self, row: int):
        if self.table is None or row >= len(self.table.drill):
            return None
        return self.table.drill[row]


class DrillModel(RowTableModel):
    columns = (
        ("文书编号", lambda r: r.number),
        ("监管对象", lambda r: r.subject),
        ("时间", lambda r: r.at.strftime("%Y-%m-%d %H:%M") if r.at else ""),
        ("说明", lambda r: _tr(CATEGORIES.get(r.text, r.text))),
    )


def _bar_chart(title: str, categories: list[str], series: list[tuple[str, list[float]]], *,
               horizontal: bool = False, percent: bool = False) -> QChart:
    from PySide6.QtWidgets import QApplication

    font = QApplication.font()
    chart = QChart()
    chart.setTitle(title)
    chart.setTitleFont(font)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    bars = QHorizontalBarSeries() if horizontal else QBarSeries()
    top = 0.0
    for name, values in series:
        bar_set = QBarSet(name)
        bar_set.setLabelColor(QColor("#202020"))
        scaled = [round(float(v or 0) * 100, 1) if percent else float(v or 0) for v in values]
        for value in scaled:
            bar_set.append(value)
        top = max([top, *scaled])
        bars.append(bar_set)
    bars.setLabelsVisible(True)
    bars.setLabelsPosition(QAbstractBarSeries.LabelsPosition.LabelsOutsideEnd)
    bars.setLabelsFormat("@value%" if percent else "@value")
    chart.addSeries(bars)
    axis_categories = QBarCategoryAxis()
    axis_categories.append(categories or [_tr("（无）")])
    values_axis = QValueAxis()
    values_axis.setRange(0, 100 if percent else max(4.0, top * 1.15))
    values_axis.applyNiceNumbers()
    values_axis.setTickCount(5)
    values_axis.setLabelFormat("%d")
    for axis in (axis_categories, values_axis):
        axis.setLabelsFont(font)
    axis_categories.setTruncateLabels(False)
    if horizontal:
        chart.addAxis(axis_categories, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(values_axis, Qt.AlignmentFlag.AlignBottom)
    else:
        chart.addAxis(axis_categories, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(values_axis, Qt.AlignmentFlag.AlignLeft)
    bars.attachAxis(axis_categories)
    bars.attachAxis(values_axis)
    chart.legend().setVisible(len(series) > 1)
    return chart


class StatsView(QWidget):
    """The 统计 tab."""

    computed = Signal()

    def __init__(self, ctx: AppContext, *, runner, open_inspection: Callable[[str], None],
                 open_subject: Callable[[str], None], parent=None):
        super().__init__(parent)
        self.ctx, self.runner = ctx, runner
        self._open_inspection, self._open_subject = open_inspection, open_subject
        self.result: dict | None = None
        self.tables: list[Table] = []
        self.period: Period | None = None

        self.kind = QComboBox()
        for code, text in (("quarter", self.tr("季度")), ("month", self.tr("月")), ("year", self.tr("年")),
                           ("range", self.tr("自定义"))):
            self.kind.addItem(text, code)
        today = ctx.clock().date()
        self.year = QSpinBox(minimum=2000, maximum=2100, value=today.year)
        self.year.setSuffix(self.tr(" 年"))
        self.part = QComboBox()
        self.date_from, self.date_to = QDateEdit(calendarPopup=True), QDateEdit(calendarPopup=True)
        for edit in (self.date_from, self.date_to):
            edit.setDisplayFormat("yyyy-MM-dd")
        self.date_from.setDate(QDate(today.year, 1, 1))
        self.date_to.setDate(QDate(today.year, today.month, today.day))
        self.to_label = QLabel(self.tr("至"))
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        # a county's or city's database: which station(s) to count (hidden for a station's own database)
        self.station_box = QComboBox()
        self.station_box.addItem(self.tr("全部站所"), None)
        for name in stats_stations(ctx):
            self.station_box.addItem(name, name)
        self.station_label = QLabel(self.tr("站所(&S)："))
        self.station_label.setBuddy(self.station_box)
        for widget in (self.station_label, self.station_box):
            widget.setVisible(self.station_box.count() > 2)
        self.stations: list[str] | None = None
        self.part.setCurrentIndex((today.month - 1) // 3)
        self.compute_button = QPushButton(self.tr("统计(&T)"))
        self.compute_button.clicked.connect(self.compute)
        self.xlsx_button = QPushButton(self.tr("导出 Excel…"))
        self.xlsx_button.clicked.connect(lambda: self.export("xlsx"))
        self.pdf_button = QPushButton(self.tr("导出 PDF…"))
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        self.summary = QLabel()
        self.summary.setWordWrap(True)

        bar = QHBoxLayout()
        label = QLabel(self.tr("统计期间(&P)："))
        label.setBuddy(self.kind)
        for widget in (label, self.kind, self.year, self.part, self.date_from, self.to_label, self.date_to,
                       self.station_label, self.station_box, self.compute_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.xlsx_button)
        bar.addWidget(self.pdf_button)

        self.table_list = QListWidget()
        self.table_list.currentRowChanged.connect(self._show_table)
        self.table_model = StatsTableModel(self)
        self.table_view = QTableView()
        self.table_view.setModel(self.table_model)
        self.table_view.verticalHeader().setVisible(False)
        self.table_view.horizontalHeader().setStretchLastSection(True)
        self.table_view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table_view.clicked.connect(lambda index: self.drill_row(index.row()))
        self.table_view.activated.connect(lambda index: self.drill_row(index.row()))
        self.charts = QWidget()
        grid = QGridLayout(self.charts)
        grid.setContentsMargins(0, 0, 0, 0)
        self.chart_views: list[QChartView] = []
        for n in range(4):
            view = QChartView()
            view.setRenderHint(QPainter.RenderHint.Antialiasing)
            view.setMinimumSize(260, 200)
            self.chart_views.append(view)
            grid.addWidget(view if n != 1 else self._headings_panel(view), n // 2, n % 2)
        self.drill_label = QLabel(self.tr("单击表中蓝色的数字，列出其背后的记录；双击记录打开。"))
        self.drill_model = DrillModel(self)
        self.drill_view = make_table(self.drill_model, self._open_row)

        tables = QSplitter(Qt.Orientation.Vertical)
        tables.addWidget(self.table_list)
        tables.addWidget(self.table_view)
        tables.setSizes([150, 330])
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(tables)
        top.addWidget(self.charts)
        top.setSizes([520, 700])
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.drill_label)
        bottom_layout.addWidget(self.drill_view)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(top)
        body.addWidget(bottom)
        body.setSizes([480, 200])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(body, 1)
        self._set_enabled_exports(False)

    # --- the period -------------------------------------------------------------------------
    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        self.part.clear()
        if kind == "quarter":
            for n in range(1, 5):
                self.part.addItem(tr_args(self.tr("第%1季度"), "一二三四"[n - 1]), n)
        elif kind == "month":
            for n in range(1, 13):
                self.part.addItem(tr_args(self.tr("%1月"), n), n)
        self.part.setVisible(kind in ("quarter", "month"))
        self.year.setVisible(kind != "range")
        for edit in (self.date_from, self.to_label, self.date_to):
            edit.setVisible(kind == "range")

    def set_period(self, kind: str, year: int | None = None, part: int | None = None,
                   start: date | None = None, end: date | None = None) -> None:
        """Pick a period as a person would with the controls."""
        self.kind.setCurrentIndex(self.kind.findData(kind))
        if year is not None:
            self.year.setValue(year)
        if part is not None:
            self.part.setCurrentIndex(self.part.findData(part))
        if start is not None:
            self.date_from.setDate(QDate(start.year, start.month, start.day))
        if end is not None:
            self.date_to.setDate(QDate(end.year, end.month, end.day))

    def chosen_period(self) -> Period:
        kind, year = self.kind.currentData(), self.year.value()
        if kind == "quarter":
            return Period.quarter(year, self.part.currentData())
        if kind == "month":
            return Period.month(year, self.part.currentData())
        if kind == "year":
            return Period.year(year)
        return Period.range(self.date_from.date().toPython(), self.date_to.date().toPython())

    # --- computing --------------------------------------------------------------------------
    def compute(self) -> None:
        from core.errors import DomainError
        from gui.messages import show_failure

        try:
            period = self.chosen_period()
        except DomainError as exc:
            show_failure(self, exc)
            return
        self.compute_button.setEnabled(False)
        chosen = self.station_box.currentData()
        stations = [chosen] if chosen else None

        def job(progress, _cancelled):
            return period, stations, report(self.ctx, period, progress=progress, stations=stations)

        run_op(self, tr_args(self.tr("正在统计 %1…"), period.label), job, on_done=self._computed,
               runner=self.runner, on_error=self._failed)

    def _failed(self, exc: Exception) -> None:
        from gui.messages import show_failure

        self.compute_button.setEnabled(True)
        show_failure(self, exc)

    def _computed(self, value) -> None:
        self.period, self.stations, self.result = value
        self.compute_button.setEnabled(True)
        self.tables = report_tables(self.result)
        r = self.result
        self.summary.setText(tr_args(
            self.tr("%1　%2（%3 至 %4）：检查 %5 家次、%6 户；发现问题 %7 家次；责令改正 %8 份，完成整改 %9 份，"
                    "期末逾期 %10 份；覆盖率 %11。"),
            r["station"], self.period.label, self.period.start.isoformat(), self.period.end.isoformat(),
            r["inspections"]["total"], r["subjects_inspected"]["total"], r["inspections_with_problems"]["total"],
            r["rectifications_ordered"]["total"], r["rectifications_completed"]["total"],
            r["rectifications_overdue"]["total"],
            "—" if r["coverage"]["rate"] is None else f"{r['coverage']['rate']:.1%}"))
        current = max(0, self.table_list.currentRow())
        self.table_list.blockSignals(True)
        self.table_list.clear()
        for table in self.tables:
            self.table_list.addItem(_tr(table.title))
        self.table_list.blockSignals(False)
        self.table_list.setCurrentRow(min(current, len(self.tables) - 1))
        self._show_table(self.table_list.currentRow())
        self._draw_charts()
        self.drill_model.set_rows([])
        self._set_enabled_exports(True)
        self.computed.emit()

    def _set_enabled_exports(self, enabled: bool) -> None:
        self.xlsx_button.setEnabled(enabled)
        self.pdf_button.setEnabled(enabled)

    def _show_table(self, row: int) -> None:
        self.table_model.set_table(self.tables[row] if 0 <= row < len(self.tables) else None)
        self.table_view.resizeColumnsToContents()

    def _draw_charts(self) -> None:
        r = self.result
        months = r["inspections"]["by_month"]
        charts = [_bar_chart(self.tr("每月检查家次"), list(months), [(self.tr("检查家次"), list(months.values()))])]
        charts.append(self._headings_chart(refill=True))
        coverage = r["coverage"]["by_category"]
        charts.append(_bar_chart(self.tr("覆盖率（按类别）"), [_tr(CATEGORIES.get(c, c)) for c in coverage],
                                 [(self.tr("覆盖率"), [row["rate"] for row in coverage.values()])], percent=True,
                                 horizontal=True))
        days = r["leads"]["handling_days"]
        charts.append(_bar_chart(self.tr("线索处置用时（工作日）"), [tr_args(self.tr("%1天"), d) for d in days],
                                 [(self.tr("线索"), list(days.values()))]))
        for view, chart in zip(self.chart_views, charts):
            old = view.chart()
            view.setChart(chart)
            if old is not None:
                old.deleteLater()

    # --- problems by heading: one checklist at a time ---------------------------------------
    def _headings_panel(self, view: QChartView) -> QWidget:
        """The headings chart with its 检查表 chooser: each checklist's own headings (5+3+1: 五查 / 三有 / 一要)."""
        self.heading_template = QComboBox()
        self.heading_template.currentIndexChanged.connect(lambda _i: self._redraw_headings())
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        label = QLabel(self.tr("检查表(&K)："))
        label.setBuddy(self.heading_template)
        row.addWidget(label)
        row.addWidget(self.heading_template, 1)
        layout.addLayout(row)
        layout.addWidget(view, 1)
        return panel

    def _headings_chart(self, *, refill: bool = False) -> QChart:
        by_template = self.result["failed_items"]["by_heading"]  # the checklist with most failures first
        if refill:
            chosen = self.heading_template.currentText()
            self.heading_template.blockSignals(True)
            self.heading_template.clear()
            self.heading_template.addItems(list(by_template))
            self.heading_template.setCurrentIndex(max(0, self.heading_template.findText(chosen)))
            self.heading_template.blockSignals(False)
        template = self.heading_template.currentText()
        headings = list(by_template.get(template, {}).items())[::-1]  # drawn bottom-up: the first on top
        return _bar_chart(tr_args(self.tr("不符合项（%1，按章节）"), template or self.tr("无")),
                          [h for h, _ in headings], [(self.tr("不符合项"), [n for _, n in headings])], horizontal=True)

    def _redraw_headings(self) -> None:
        if self.result is None:
            return
        view = self.chart_views[1]
        old = view.chart()
        view.setChart(self._headings_chart())
        if old is not None:
            old.deleteLater()

    # --- drill-down -------------------------------------------------------------------------
    def drill_row(self, row: int) -> None:
        target = self.table_model.drill_of(row)
        if target is None or self.period is None:
            return
        figure, breakdown, key = target
        period, stations, title = self.period, self.stations, self.table_model.table.title
        label = str(self.table_model.table.rows[row][0])

        def job(_progress, _cancelled):
            return drill(self.ctx, period, figure, breakdown, key, stations=stations)

        def done(rows: list[DrillRow]) -> None:
            self.drill_model.set_rows(rows)
            self.drill_label.setText(tr_args(self.tr("%1 · %2：%3 条记录（双击打开）"), _tr(title), _tr(label), len(rows)))

        run_op(self, self.tr("正在列出记录…"), job, on_done=done, runner=self.runner)

    def _open_row(self, row: DrillRow | None) -> None:
        if row is None:
            return
        if row.kind == "inspection":
            self._open_inspection(row.id)
        elif row.kind == "subject":
            self._open_subject(row.id)

    # --- export -----------------------------------------------------------------------------
    def export(self, what: str) -> None:
        if self.result is None:
            return
        default = Path.home() / f"{self.result['station']}统计{self.period.label}.{what}"
        pattern = self.tr("Excel 工作簿 (*.xlsx)") if what == "xlsx" else self.tr("PDF 文件 (*.pdf)")
        path, _ = QFileDialog.getSaveFileName(self, self.tr("导出统计报表"), str(default), pattern)
        if not path:
            return
        if not path.lower().endswith(f".{what}"):
            path += f".{what}"
        result = self.result
        writer = write_xlsx if what == "xlsx" else write_pdf

        def job(_progress, _cancelled):
            return writer(result, Path(path))

        run_op(self, self.tr("正在导出…"), job, runner=self.runner,
               on_done=lambda p: self.drill_label.setText(tr_args(self.tr("已导出：%1"), p)))
