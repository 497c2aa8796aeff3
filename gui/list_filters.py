"""The registers' lists: subjects and inspections, paged as they scroll, with search and filters.

Each list counts what matches (the header stays true: 找到 120 个（共 20019 个）) and fetches
its rows a page at a time (``gui.models.PagedTableModel``); the queries are the core's
(``core.subjects.search_subjects``, ``core.inspections.search.search_inspections``).
"""
from __future__ import annotations

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from core.context import AppContext
from core.exports import ExportFilter
from core.inspections import STATUS_LABELS
from core.inspections.search import InspectionFilter, count_inspections, search_inspections
from core.station_filter import record_stations
from core.stats.period import Period
from core.subjects import CATEGORIES, STATUSES, count_subjects, list_grids, search_subjects
from gui.i18n import tr_args
from gui.models import InspectionTableModel, SubjectTableModel, tr
from gui.widgets import make_table


def choice(all_text: str, items: dict[str, str]) -> QComboBox:
    """A filter: 全部… first (data ""), then ``items`` (code → label)."""
    combo = QComboBox()
    combo.addItem(all_text, "")
    for code, label in items.items():
        combo.addItem(tr(label), code)
    return combo


def station_choice(ctx: AppContext, all_text: str) -> QComboBox:
    """The console's 站所 filter (a county's or city's database): 全部站所 first, then each station
    whose records the database holds; hidden on a station's own database (one station)."""
    combo = choice(all_text, {})
    names = record_stations(ctx)
    for name in names:
        combo.addItem(name, name)
    combo.setVisible(len(names) > 1)
    return combo


def fill_grids(combo: QComboBox, grids: list[str]) -> None:
    """The grid filter's choices anew, keeping the one chosen."""
    current = combo.currentData()
    combo.blockSignals(True)
    while combo.count() > 1:
        combo.removeItem(1)
    for grid in grids:
        combo.addItem(grid, grid)
    index = combo.findData(current)
    combo.setCurrentIndex(index if index >= 0 else 0)
    combo.blockSignals(False)


class _FilteredList(QWidget):
    """A search line and filter row over a paged table; ``refresh()`` queries again."""

    opened = Signal(object)

    def __init__(self, ctx: AppContext, model, placeholder: str, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        model.setParent(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText(placeholder)
        self.search.setClearButtonEnabled(True)
        self.model = model
        self.view = make_table(self.model, self.opened.emit)
        self.count = QLabel()
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.search.returnPressed.connect(self._focus_results)
        self.filters = QHBoxLayout()
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        label = QLabel(self.tr("搜索(&S)："))
        label.setBuddy(self.search)
        row.addWidget(label)
        row.addWidget(self.search, 1)
        row.addWidget(self.count)
        layout.addLayout(row)
        layout.addLayout(self.filters)
        layout.addWidget(self.view)

    def add_filter(self, label: str, widget: QWidget) -> None:
        caption = QLabel(label)
        caption.setVisible(not widget.isHidden())  # the 站所 filter: only where there are several
        self.filters.addWidget(caption)
        self.filters.addWidget(widget)
        for signal in ("currentIndexChanged", "dateChanged", "toggled"):
            if hasattr(widget, signal):
                getattr(widget, signal).connect(lambda *_a: self.refresh())

    def _focus_results(self) -> None:
        if self.model.rowCount():
            self.view.setFocus()
            self.view.selectRow(0)

    def show_count(self, found: int, total: int, everything: str, filtered: bool) -> None:
        """找到 found 个（共 total 个） when narrowed, else ``everything`` (the caller's "共 … 个")."""
        self.count.setText(tr_args(self.tr("找到 %1 个（共 %2 个）"), found, total) if filtered else everything)

    def refresh(self) -> None:
        raise NotImplementedError


class SubjectList(_FilteredList):
    """监管对象: by any part of name, address, code or category; by category, grid and status."""

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(ctx, SubjectTableModel(), self.tr("按名称、地址、统一社会信用代码或类别的任意部分搜索"), parent)
        self.category = choice(self.tr("全部类别"), CATEGORIES)
        self.grid = choice(self.tr("全部网格"), {})
        self.status = choice(self.tr("全部状态"), STATUSES)
        self.station = station_choice(ctx, self.tr("全部站所"))
        for label, widget in ((self.tr("站所："), self.station), (self.tr("类别："), self.category),
                              (self.tr("网格："), self.grid), (self.tr("状态："), self.status)):
            self.add_filter(label, widget)
        self.filters.addStretch(1)

    def export_filter(self) -> ExportFilter:
        """What 导出Excel… writes: the register as filtered here (the search text aside)."""
        return ExportFilter(category=self.category.currentData() or None, grid=self.grid.currentData() or None,
                            status=self.status.currentData() or None)

    def refresh(self) -> None:
        fill_grids(self.grid, list_grids(self.ctx))
        text = self.search.text()
        chosen = dict(category=self.category.currentData() or None, grid=self.grid.currentData() or None,
                      status=self.status.currentData() or None, station=self.station.currentData() or None)
        found = count_subjects(self.ctx, text, **chosen)
        self.model.set_source(lambda offset, limit: search_subjects(self.ctx, text, limit=limit, offset=offset,
                                                                    **chosen), found)
        filtered = bool(text.strip()) or any(chosen.values())
        total = count_subjects(self.ctx) if filtered else found
        self.show_count(found, total, tr_args(self.tr("共 %1 个监管对象"), total), filtered)


class InspectionList(_FilteredList):
    """检查记录: by number, subject or category; by status, category, grid and the day it started."""

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(ctx, InspectionTableModel(), self.tr("按文书编号、监管对象名称、统一社会信用代码或类别搜索"),
                         parent)
        self.status = choice(self.tr("全部状态"), STATUS_LABELS)
        self.category = choice(self.tr("全部类别"), CATEGORIES)
        self.grid = choice(self.tr("全部网格"), {})
        self.station = station_choice(ctx, self.tr("全部站所"))
        self.by_date = QCheckBox(self.tr("检查日期"))
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addMonths(-1), calendarPopup=True)
        self.date_to = QDateEdit(today, calendarPopup=True)
        for edit in (self.date_from, self.date_to):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
        self.by_date.toggled.connect(self.date_from.setEnabled)
        self.by_date.toggled.connect(self.date_to.setEnabled)
        for label, widget in ((self.tr("站所："), self.station), (self.tr("状态："), self.status),
                              (self.tr("类别："), self.category), (self.tr("网格："), self.grid)):
            self.add_filter(label, widget)
        self.filters.addSpacing(12)
        self.filters.addWidget(self.by_date)
        self.by_date.toggled.connect(lambda _on: self.refresh())
        self.add_filter(self.tr("从"), self.date_from)
        self.add_filter(self.tr("至"), self.date_to)
        self.filters.addStretch(1)

    def current_filter(self) -> InspectionFilter:
        dated = self.by_date.isChecked()
        return InspectionFilter(
            text=self.search.text(), status=self.status.currentData(), category=self.category.currentData(),
            grid=self.grid.currentData(), station=self.station.currentData() or "",
            date_from=self.date_from.date().toPython() if dated else None,
            date_to=self.date_to.date().toPython() if dated else None,
        )

    def export_filter(self) -> ExportFilter:
        """What 导出Excel… writes: the records as filtered here (the search text aside)."""
        f = self.current_filter()
        period = Period.range(f.date_from, f.date_to) if f.date_from and f.date_to else None
        return ExportFilter(period=period, category=f.category or None, grid=f.grid or None, status=f.status or None)

    def refresh(self) -> None:
        fill_grids(self.grid, list_grids(self.ctx))
        f = self.current_filter()
        found = count_inspections(self.ctx, f)
        self.model.set_source(lambda offset, limit: search_inspections(self.ctx, f, limit=limit, offset=offset), found)
        filtered = f != InspectionFilter()
        total = count_inspections(self.ctx) if filtered else found
        self.show_count(found, total, tr_args(self.tr("共 %1 份检查记录"), total), filtered)

