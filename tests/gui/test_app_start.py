"""The start-up path as a user meets it: log in, the right window for the role, background work."""
from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QApplication

from core.backup import list_backups
from core.demo import DEMO_PASSWORD


@pytest.fixture
def demo_path(demo_copy):
    """A fresh copy of the demo station (tests/conftest.py; ``create_demo`` as the ``demo`` command runs it)."""
    return demo_copy


def _start(monkeypatch, qapp, path, name):
    from core.users import log_in
    from gui import app as app_module
    from gui.login_dialog import LoginDialog

    def fake_exec(dialog):  # the user types name and password and presses 登录
        log_in(dialog.ctx, name, DEMO_PASSWORD)
        return 1

    shown = []

    def fake_app_exec(app):  # the event loop would run here: note what is on screen
        shown.extend(w for w in QApplication.topLevelWidgets() if w.isVisible())
        return 0

    monkeypatch.setattr(LoginDialog, "exec", fake_exec)
    monkeypatch.setattr(QApplication, "exec", fake_app_exec)
    assert app_module.run(str(path)) == 0
    return shown


@pytest.mark.parametrize("name, window_class", [("张所长", "MainWindow"), ("马红", "GridWorkerWindow")])
def test_each_role_gets_its_window_and_a_backup_is_made(monkeypatch, qapp, demo_path, name, window_class):
    windows = _start(monkeypatch, qapp, demo_path, name)
    assert window_class in {type(w).__name__ for w in windows}
    deadline = time.monotonic() + 30
    while not list_backups(demo_path) and time.monotonic() < deadline:  # made on a worker thread
        time.sleep(0.1)
    assert list_backups(demo_path)
    for window in windows:
        window.close()


def test_login_cancelled_starts_nothing(monkeypatch, qapp, demo_path):
    from gui import app as app_module
    from gui.login_dialog import LoginDialog

    monkeypatch.setattr(LoginDialog, "exec", lambda dialog: 0)
    assert app_module.run(str(demo_path)) == 0


def test_start_up_sends_unexpected_errors_to_the_log_in_the_user_data_folder(monkeypatch, qapp, demo_path, user_data):
    import sys

    from gui import crash

    windows = _start(monkeypatch, qapp, demo_path, "张所长")
    assert sys.excepthook is crash.handle_exception
    assert crash.log_file() == user_data / "logs" / "yxjc.log"
    assert crash.log_file().exists()
    for window in windows:
        window.close()
