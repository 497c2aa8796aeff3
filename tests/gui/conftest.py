"""GUI test helpers: typing Chinese, guarded modal dialogs, demo data, a small photo.

Chinese text cannot go through ``qtbot.keyClicks``: QTest maps each character to a
key code and aborts on anything outside Latin-1. Real Chinese typing reaches a widget
as an input-method commit, so ``type_text`` sends ASCII runs as key clicks and
Chinese runs as ``QInputMethodEvent`` commits; both make QLineEdit emit
``textEdited`` exactly as a person typing does.
"""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox


def _runs(text: str):
    """Split text into (is_ascii, run) pieces."""
    run, ascii_run = "", None
    for ch in text:
        is_ascii = ch.isascii()
        if run and is_ascii != ascii_run:
            yield ascii_run, run
            run = ""
        run += ch
        ascii_run = is_ascii
    if run:
        yield ascii_run, run


@pytest.fixture
def type_text(qtbot):
    def type_into(widget, text: str) -> None:
        for is_ascii, run in _runs(text):
            if is_ascii:
                qtbot.keyClicks(widget, run)
            else:
                event = QInputMethodEvent()
                event.setCommitString(run)
                QApplication.sendEvent(widget, event)

    return type_into


class MessageBoxes:
    """Stands in for QMessageBox's static dialogs: records them, answers questions as told."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str, str]] = []
        self.answer: QMessageBox.StandardButton | None = None

    def _record(self, kind):
        def show(_parent, title, text, *args, **kwargs):
            self.shown.append((kind, title, text))
            if kind == "question":
                if self.answer is None:
                    raise AssertionError(f"unexpected question: {title}: {text}")
                return self.answer
            return QMessageBox.StandardButton.Ok

        return show

    def texts(self, kind: str) -> list[str]:
        return [text for k, _title, text in self.shown if k == kind]


@pytest.fixture(autouse=True)
def message_boxes(monkeypatch):
    """No test ever blocks on a message box or a file dialog that it did not patch itself."""
    boxes = MessageBoxes()
    for kind in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, boxes._record(kind))

    def unexpected(name):
        def fail(*_args, **_kwargs):
            raise AssertionError(f"unexpected file dialog: QFileDialog.{name}")

        return fail

    for name in ("getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, name, unexpected(name))
    return boxes


@pytest.fixture(autouse=True)
def user_data(monkeypatch, tmp_path):
    """Start-up logs to the user data folder: a temporary one here; its hooks come off after the test."""
    from gui import app, crash

    folder = tmp_path / "user-data"
    monkeypatch.setattr(app, "user_data_dir", lambda: folder)
    yield folder
    crash.uninstall()


@pytest.fixture(scope="session")
def _demo_database(demo_template):
    """The folder of the demo station built once per worker (tests/conftest.py ``demo_template``:
    station.db, its key sidecar, anchors and attachments), copied for each test that wants it."""
    return demo_template.parent


@pytest.fixture
def demo_ctx(_demo_database, tmp_path):
    """A fresh copy of the demo station: 11 subjects, 6 signed inspections (each checklist) and a draft."""
    from core.context import AppContext

    target = tmp_path / "demo"
    shutil.copytree(_demo_database, target)
    context = AppContext.open(target / "station.db")
    yield context
    context.close()


@pytest.fixture
def png_file(tmp_path):
    from PIL import Image

    path = tmp_path / "现场照片.png"
    Image.new("RGB", (64, 48), (200, 40, 40)).save(path, format="PNG")
    return path


@pytest.fixture
def officer_sign(request, qtbot, monkeypatch):
    """The signing step's password dialog, driven as the officers would: each types their
    password into their own field (``password``, by default the tests' officers' one), then
    clicks 签名锁定. With the ``ctx`` fixture, the tests' officers are put on its list first
    (with passwords, so signing keys). ``dialogs`` records (title, officer labels, message)."""
    from PySide6.QtCore import Qt

    from gui.officer_sign_dialog import OfficerSignDialog
    from tests.integration.helpers import OFFICER_PASSWORD, register_officers

    if "ctx" in request.fixturenames:
        register_officers(request.getfixturevalue("ctx"))

    class Driver:
        password = OFFICER_PASSWORD
        dialogs: list[tuple[str, list[str], str]] = []

    def exec_(dialog: OfficerSignDialog) -> int:
        for field in dialog.passwords.values():
            field.setFocus()
            qtbot.keyClicks(field, Driver.password)
        qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
        labels = [dialog.form.itemAt(i, dialog.form.ItemRole.LabelRole).widget().text()
                  for i in range(dialog.form.rowCount())]
        Driver.dialogs.append((dialog.windowTitle(), labels, dialog.message.text()))
        return dialog.result()

    monkeypatch.setattr(OfficerSignDialog, "exec", exec_)
    Driver.dialogs = []
    return Driver
