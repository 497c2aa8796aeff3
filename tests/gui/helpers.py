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


def click_tab(qtbot, window: MainWindow, page: QWidget) -> QWidget:
    """Click the tab that shows ``page``, as a user would."""
    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(window.tabs.indexOf(page)).center())
    assert window.tabs.currentWidget() is page
    return page
