"""Steps the GUI tests share."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from gui.jobs import ImmediateRunner
from gui.main_window import MainWindow

LEFT = Qt.MouseButton.LeftButton


def open_main_window(qtbot, ctx) -> MainWindow:
    """The main window, shown, with background jobs run at once."""
    window = MainWindow(ctx, runner=ImmediateRunner())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def open_editor(qtbot, ctx, inspection_id):
    """The inspection editor for one record, shown, with background jobs run at once."""
    from gui.inspection_editor import InspectionEditor

    editor = InspectionEditor(ctx, inspection_id, runner=ImmediateRunner())
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    return editor


def click_tab(qtbot, window: MainWindow, page: QWidget) -> QWidget:
    """Click the tab that shows ``page``, as a user would."""
    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(window.tabs.indexOf(page)).center())
    assert window.tabs.currentWidget() is page
    return page


def click_row(qtbot, view, row: int) -> None:
    """Click the first cell of ``row`` in a table view, as a user would."""
    index = view.model().index(row, 0)
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.visualRect(index).center())
    assert view.currentIndex().row() == row
