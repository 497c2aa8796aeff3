"""Small widgets several screens build the same way: the read-only table, a button and a row of
buttons, a labelled form row, the red message line, the dialog button row, the form dialog
(a form, a message line, Save and Cancel), and Alt+1… on a window's tabs.

Callers pass text already translated (``self.tr("…")`` at their call site, where
pyside6-lupdate finds it); only the few words these helpers add themselves are translated here.
"""
from __future__ import annotations

from functools import partial
from typing import Callable, Iterable, TypeVar

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QPushButton,
    QTabWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.errors import DomainError
from gui.models import ROW_ROLE

F = TypeVar("F", bound="QWidget | QLayout")
SB = QDialogButtonBox.StandardButton
ERROR_STYLE = "color: #b00020"


def number_tabs(tabs: QTabWidget, owner: QWidget) -> None:
    """Alt+1, Alt+2… in ``owner`` switch to ``tabs``' first, second… tab, shown as each tab's tool
    tip. The labels stay without "(&1)": beside a Chinese label the digit reads as a count."""
    for index in range(tabs.count()):
        shortcut = QShortcut(QKeySequence(f"Alt+{index + 1}"), owner)
        shortcut.activated.connect(partial(tabs.setCurrentIndex, index))
        tabs.setTabToolTip(index, f"Alt+{index + 1}")


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


def push_button(text: str, on_click: Callable[[], object], *, default: bool = False) -> QPushButton:
    """A button that calls ``on_click``; ``default``: the one Enter presses."""
    button = QPushButton(text)
    if default:
        button.setDefault(True)
    button.clicked.connect(on_click)
    return button


def button_row(left: Iterable[QWidget], right: Iterable[QWidget] = ()) -> QHBoxLayout:
    """``left`` from the left edge, a stretch, ``right`` against the right edge."""
    row = QHBoxLayout()
    for widget in left:
        row.addWidget(widget)
    row.addStretch(1)
    for widget in right:
        row.addWidget(widget)
    return row


def add_row(form: QFormLayout, label: str, field: F) -> F:
    """``field`` (a widget or a layout) on a new row of ``form`` behind ``label``; returns it."""
    form.addRow(label, field)
    return field


def clear_layout(layout) -> None:
    """Remove every widget from ``layout`` (to fill it anew)."""
    while layout.count():
        widget = layout.takeAt(0).widget()
        if widget:
            widget.deleteLater()


def message_label() -> QLabel:
    """The red, word-wrapped line where a dialog says why it did not do what was asked."""
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    return label


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


class FormDialog(QDialog):
    """A form over a red message line (``self.message``) and Save/Cancel (``self.buttons``).

    A subclass adds its fields with ``add_row``, then calls ``lay_out`` (so the fields come
    before the buttons in the Tab order). Save calls ``apply()``: a DomainError it raises is
    shown on the message line and the dialog stays open; otherwise the dialog is accepted.
    """

    def __init__(self, title: str, parent=None, *, min_width: int = 480):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(min_width)
        self.form = QFormLayout()
        self.message = message_label()
        self.buttons = dialog_buttons(self, self.tr("保存"), self._save, save=True)

    def add_row(self, label: str, field: F) -> F:
        return add_row(self.form, label, field)

    def lay_out(self, note: str | None = None) -> None:
        """The form; ``note``, a line of explanation, under it; the message line; the buttons."""
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        if note is not None:
            hint = QLabel(note)
            hint.setWordWrap(True)
            layout.addWidget(hint)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def apply(self) -> None:
        raise NotImplementedError

    def _save(self) -> None:
        try:
            self.apply()
        except DomainError as exc:
            self.message.setText(exc.message)
            return
        self.accept()
