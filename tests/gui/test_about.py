"""关于: the toolbar's button (F1) shows the program's version and where its data lives."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QToolBar

from core.version import app_version
from tests.gui.helpers import LEFT, open_main_window


def _capture_about(monkeypatch):
    from gui.about_dialog import AboutDialog

    shown = []

    def exec_(dialog):  # the modal loop would run here: note what the dialog says
        shown.append([label.text() for label in dialog.findChildren(QLabel)])
        return 0

    monkeypatch.setattr(AboutDialog, "exec", exec_)
    return shown


def test_about_shows_the_version_and_the_database(qtbot, ctx, monkeypatch):
    shown = _capture_about(monkeypatch)
    window = open_main_window(qtbot, ctx)
    toolbar = window.findChild(QToolBar)
    button = toolbar.widgetForAction(window.about_action)
    assert button is not None and button.isVisible() and button.text() == "关于"
    qtbot.mouseClick(button, LEFT)
    assert len(shown) == 1
    texts = shown[0]
    assert app_version() in texts and ctx.where in texts
    assert any(f"版本 {app_version()}" in t for t in texts)
    assert any("安装新版本不会改动数据文件夹" in t for t in texts)
    assert window.about_action.shortcut().toString() == "F1"
