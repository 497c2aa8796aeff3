"""Qt table models over core data: subjects and inspections."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


def tr(text: str) -> str:
    return QCoreApplication.translate("models", text)


class RowTableModel(QAbstractTableModel):
    """A read-only table of rows; columns are (header, getter). ``ROW_ROLE`` gives the row."""

    columns: Sequence[tuple[str, Callable[[Any], str]]] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return tr(self.columns[section][0])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.columns[index.column()][1](row)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.foreground(row)
        return None

    # rows whose attribute ``marked_by`` is true are drawn in ``marked_color``
    marked_by = ""
    marked_color = "#b00020"

    def foreground(self, row: Any) -> QBrush | None:
        return QBrush(QColor(self.marked_color)) if self.marked_by and getattr(row, self.marked_by) else None


class PagedTableModel(RowTableModel):
    """Rows fetched a page at a time as the view scrolls to the end (Qt's canFetchMore/fetchMore).

    ``set_source(fetch, total)``: ``fetch(offset, limit)`` gives a page of rows, ``total`` how
    many there are in all (the list's header says it). ``set_rows`` still shows a fixed list.
    """

    page_size = 200

    def __init__(self, parent=None):
        super().__init__(parent)
        self._fetch: Callable[[int, int], list] | None = None
        self.total = 0

    def set_source(self, fetch: Callable[[int, int], list], total: int) -> None:
        self.beginResetModel()
        self._fetch, self.total = fetch, total
        self._rows = list(fetch(0, self.page_size)) if total else []
        self.endResetModel()

    def set_rows(self, rows: list[Any]) -> None:
        self._fetch = None
        super().set_rows(rows)
        self.total = len(self._rows)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:
        return not parent.isValid() and self._fetch is not None and len(self._rows) < self.total

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        more = list(self._fetch(len(self._rows), self.page_size))
        if not more:  # rows went away since the count: nothing more to show
            self.total = len(self._rows)
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(more) - 1)
        self._rows.extend(more)
        self.endInsertRows()


class SubjectTableModel(PagedTableModel):
    columns = (
        ("名称", lambda r: r.name),
        ("统一社会信用代码", lambda r: r.credit_code or tr("（无代码）")),
        ("类别", lambda r: tr(r.category_label)),
        ("地址", lambda r: r.address),
        ("法定代表人", lambda r: r.legal_rep),
        ("网格", lambda r: r.grid),
    )

    marked_by, marked_color = "flagged", "#b35c00"  # no credit code: the register must be completed


class InspectionTableModel(PagedTableModel):
    columns = (
        ("文书编号", lambda r: r.number),
        ("监管对象", lambda r: r.subject_name),
        ("检查表", lambda r: r.template_title),
        ("检查时间", lambda r: r.started_at.strftime("%Y-%m-%d %H:%M")),
        ("状态", lambda r: tr(r.status_label)),
        ("不符合项", lambda r: str(r.failed)),
    )

    marked_by = "failed"  # any failed item


class TaskTableModel(RowTableModel):
    columns = (
        ("优先级", lambda r: tr(r.priority_label)),
        ("截止日期", lambda r: r.due.isoformat() + (tr("（逾期）") if r.overdue else "")),
        ("状态", lambda r: tr(r.status_label)),
        ("监管对象", lambda r: r.subject_name),
        ("网格", lambda r: r.grid),
        ("执法人员", lambda r: "、".join(o.name for o in r.officers)),
        ("原因", lambda r: "；".join(r.reasons)),
    )

    def foreground(self, row) -> QBrush | None:
        # overdue tasks stand out; high priority in dark red
        if row.overdue:
            return QBrush(QColor("#c00000"))
        return QBrush(QColor("#8b1a1a")) if row.priority == "high" and row.status in ("open", "in_progress") else None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.BackgroundRole and index.isValid() and self.row_at(index.row()).overdue:
            return QBrush(QColor("#fde3e3"))
        return super().data(index, role)


class PlanEntryModel(RowTableModel):
    columns = (
        ("统一社会信用代码", lambda r: r.credit_code or tr("（无代码）")),
        ("监管对象", lambda r: r.subject),
        ("理由", lambda r: r.reason),
        ("抽取的执法人员", lambda r: "、".join(f"{o.name}（{o.cert_no}）" for o in r.officers)),
    )


class GradeHistoryModel(RowTableModel):
    columns = (
        ("时间", lambda r: r.changed_at.strftime("%Y-%m-%d %H:%M")),
        ("调整", lambda r: r.text),
        ("理由", lambda r: r.reason),
        ("调整人", lambda r: r.changed_by),
    )
