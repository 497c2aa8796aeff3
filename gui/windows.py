"""Every window opens inside the available screen, its buttons visible, on a 1366×768 laptop too.

Screens ask for the size they would like (``resize``); when a top-level window or dialog is
first shown, ``ScreenFit`` (installed on the application at start-up) shrinks it to the
screen's available area less a window frame, and moves it inside that area — a window with
a parent is centred over it. The screens whose content is taller than a small screen put it
in a scroll area; this keeps their frame and buttons on the screen.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

FRAME_WIDTH = 16  # what a window manager adds around a window (borders)
FRAME_HEIGHT = 40  # and above and below it (the title bar, the bottom border)
_FITTED = "_screen_fitted"


def available_area(widget: QWidget) -> QRect:
    """The part of the widget's screen that windows may use (without task bars)."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fit_to_screen(window: QWidget) -> None:
    """Shrink ``window`` to the available screen (frame included) and move it fully onto it."""
    area = available_area(window)
    max_w, max_h = area.width() - FRAME_WIDTH, area.height() - FRAME_HEIGHT
    width, height = min(window.width(), max_w), min(window.height(), max_h)
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
    parent = window.parentWidget()
    if parent is not None and parent.isVisible():
        centre = parent.window().frameGeometry().center()
        top_left = QPoint(centre.x() - width // 2, centre.y() - height // 2)
    elif window.testAttribute(Qt.WidgetAttribute.WA_Moved):
        top_left = window.pos()
    else:
        top_left = QPoint(area.left() + (area.width() - width) // 2, area.top() + (area.height() - height) // 2)
    x = max(area.left(), min(top_left.x(), area.right() + 1 - width - FRAME_WIDTH))
    y = max(area.top(), min(top_left.y(), area.bottom() + 1 - height - FRAME_HEIGHT))
    window.move(x, y)


class ScreenFit(QObject):
    """Fits each top-level window to the screen the first time it is shown."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and isinstance(watched, QWidget) and watched.isWindow():
            kind = watched.windowType()
            if kind in (Qt.WindowType.Window, Qt.WindowType.Dialog) and not watched.property(_FITTED):
                watched.setProperty(_FITTED, True)
                fit_to_screen(watched)
        return False


def install_screen_fit(app: QApplication) -> None:
    """Once per application: every top-level window is fitted when first shown."""
    if app.property(_FITTED):
        return
    fitter = ScreenFit(app)
    app.installEventFilter(fitter)
    app.setProperty(_FITTED, True)
