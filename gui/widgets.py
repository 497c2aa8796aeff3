"""Small widgets several screens build the same way: the read-only table, the dialog button row."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QTableView

from gui.models import ROW_ROLE

SB = QDialogButtonBox.StandardButton


def make_table(model, on_open) -> QTableView:
    """A keyboard-friendly read-only table: Enter or double-click opens the row."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    # size columns from the first rows only: measuring every row of a long list delays the first paint
    view.horizontalHeader().setResizeContentsPrecision(60)
    view.horizontalHeader().setStretchLastSection(True)
    view.activated.connect(lambda index: on_open(index.data(ROW_ROLE)))
    return view


def dialog_buttons(dialog: QDialog, ok_text: str | None, on_ok: Callable[[], None] | None = None, *,
                   cancel_text: str | None = None, save: bool = False) -> QDialogButtonBox:
    """OK (or Save) and Cancel, labelled in Chinese; with ``ok_text=None`` a single Close button."""
    tr = lambda text: QCoreApplication.translate("widgets", text)  # noqa: E731
    if ok_text is None:
        box = QDialogButtonBox(SB.Close)
        box.button(SB.Close).setText(tr("关闭"))
        box.rejected.connect(dialog.reject)
        return box
    ok = SB.Save if save else SB.Ok
    box = QDialogButtonBox(ok | SB.Cancel)
    box.button(ok).setText(ok_text)
    box.button(SB.Cancel).setText(cancel_text or tr("取消"))
    box.accepted.connect(on_ok)
    box.rejected.connect(dialog.reject)
    return box
