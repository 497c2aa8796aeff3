"""Every window opens inside the available screen, its buttons visible, on a 1366×768 laptop too.

A screen asks for the size it would like through ``fit_to_screen(window, width, height)``
instead of ``resize``: it gets that size, or the screen's available area less a window
frame when that is smaller. A top-level window (not a dialog) is also placed: centred over
its visible parent, else on the screen. Dialogs are placed by Qt itself (centred over their
parent and kept on the screen), so they are only sized. Screens whose content is taller than
a small screen keep it in a scroll area.

(An application-wide event filter would do this for every window without each asking, but
PySide converts every event's object for a Python filter, and one being destroyed crashes it.)
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QWidget

FRAME_WIDTH = 16  # what a window manager adds around a window (borders)
FRAME_HEIGHT = 40  # and above and below it (the title bar, the bottom border)


def available_area(widget: QWidget) -> QRect:
    """The part of the widget's screen (or its parent's) that windows may use, without task bars."""
    anchor = widget.parentWidget() or widget
    screen = anchor.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """``window`` sized ``width``×``height`` or as much of the screen as there is; a top-level
    window (not a dialog) moved fully onto the screen, centred over its parent when that is shown."""
    area = available_area(window)
    width, height = min(width, area.width() - FRAME_WIDTH), min(height, area.height() - FRAME_HEIGHT)
    window.resize(width, height)
    if isinstance(window, QDialog):
        return
    parent = window.parentWidget()
    if parent is not None and parent.isVisible():
        centre = parent.window().frameGeometry().center()
    else:
        centre = area.center()
    x = max(area.left(), min(centre.x() - width // 2, area.right() + 1 - width - FRAME_WIDTH))
    y = max(area.top(), min(centre.y() - height // 2, area.bottom() + 1 - height - FRAME_HEIGHT))
    window.move(QPoint(x, y))
