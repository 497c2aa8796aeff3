"""Unexpected errors never vanish: the traceback is in the log, the user reads a Chinese box.

Also the operation helper: a refused action shows the core's message and logs nothing; an
unexpected error in a job shows the generic message and its traceback is in the same log.
"""
from __future__ import annotations

import logging
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QPushButton

from core.errors import InvalidInput
from gui import crash
from gui.jobs import ImmediateRunner
from gui.operations import run_op
from tests.gui.helpers import LEFT, open_main_window


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def log(qapp, tmp_path) -> Path:
    path = crash.install(tmp_path / "logs")
    assert path == tmp_path / "logs" / "yxjc.log"
    return path


def boom_in_the_sync_code():
    raise RuntimeError("索引越界 in boom")


def test_the_log_rotates_at_one_megabyte_keeping_five(log):
    [handler] = [h for h in logging.getLogger("yxjc").handlers if isinstance(h, RotatingFileHandler)]
    assert (handler.maxBytes, handler.backupCount) == (1_000_000, 5)
    assert Path(handler.baseFilename) == log
    logging.getLogger("yxjc").error("x" * 600_000)
    logging.getLogger("yxjc").error("y" * 600_000)  # past 1 MB: rotated, and the new file made private too
    files = sorted(log.parent.glob("yxjc.log*"))
    assert len(files) == 2 and all(f.stat().st_mode & 0o777 == 0o600 for f in files)


def test_an_unhandled_exception_is_logged_and_shown_in_chinese(log, message_boxes):
    try:
        boom_in_the_sync_code()
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "boom_in_the_sync_code" in text and "RuntimeError: 索引越界 in boom" in text
    [(kind, title, box)] = message_boxes.shown
    assert kind == "critical" and chinese(title)
    assert box == f"程序出现意外错误，详细信息已写入日志：{log}"


def test_an_exception_raised_in_a_slot_reaches_the_hook(log, message_boxes, qtbot):
    button = QPushButton("同步")
    qtbot.addWidget(button)
    button.clicked.connect(lambda: boom_in_the_sync_code())
    button.show()
    qtbot.mouseClick(button, LEFT)
    qtbot.waitUntil(lambda: len(message_boxes.shown) == 1)
    assert message_boxes.texts("critical") == [f"程序出现意外错误，详细信息已写入日志：{log}"]
    assert "boom_in_the_sync_code" in log.read_text(encoding="utf-8")

    QTimer.singleShot(0, boom_in_the_sync_code)  # from the event loop, not from a click
    qtbot.waitUntil(lambda: len(message_boxes.shown) == 2)
    assert log.read_text(encoding="utf-8").count("RuntimeError: 索引越界 in boom") == 2


def test_an_exception_on_a_worker_thread_is_logged_and_shown_on_the_main_thread(log, message_boxes, qtbot):
    worker = threading.Thread(target=boom_in_the_sync_code, name="backup")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(message_boxes.shown) == 1)
    assert message_boxes.texts("critical") == [f"程序出现意外错误，详细信息已写入日志：{log}"]
    text = log.read_text(encoding="utf-8")
    assert "thread backup" in text and "boom_in_the_sync_code" in text


def test_without_a_writable_log_folder_the_box_says_what_happened(qapp, tmp_path, message_boxes):
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the folder should be")
    assert crash.install(blocker) is None
    try:
        boom_in_the_sync_code()
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    assert message_boxes.texts("critical") == ["程序出现意外错误：RuntimeError: 索引越界 in boom"]


def test_a_refused_operation_shows_the_core_message_and_logs_nothing(log, message_boxes, qtbot):
    parent = QPushButton()
    qtbot.addWidget(parent)

    def job(_progress, _cancelled):
        raise InvalidInput("统一社会信用代码校验位不正确")

    run_op(parent, "正在导入…", job, on_done=lambda _r: None, runner=ImmediateRunner())
    assert message_boxes.shown == [("warning", "操作未完成", "统一社会信用代码校验位不正确")]
    assert log.read_text(encoding="utf-8") == ""


def test_an_operation_passing_its_own_handler_still_logs_the_unexpected(log, message_boxes, qtbot):
    parent = QPushButton()
    qtbot.addWidget(parent)
    seen = []
    run_op(parent, "正在导出…", lambda _p, _c: boom_in_the_sync_code(), on_done=seen.append, on_error=seen.append,
           runner=ImmediateRunner())
    assert len(seen) == 1 and isinstance(seen[0], RuntimeError)
    assert message_boxes.shown == []
    text = log.read_text(encoding="utf-8")
    assert "operation failed: 正在导出…" in text and "boom_in_the_sync_code" in text


def test_an_unexpected_error_while_importing_the_register(ctx, log, message_boxes, monkeypatch, qtbot, tmp_path):
    """Through the main window's own button path: generic Chinese message, traceback in the log."""
    from PySide6.QtWidgets import QFileDialog

    import gui.import_dialog

    register = tmp_path / "名册.csv"
    register.write_text("名称\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(register), ""))

    def broken_import(*_args, **_kwargs):
        boom_in_the_sync_code()

    monkeypatch.setattr(gui.import_dialog, "preview_import", broken_import)
    window = open_main_window(qtbot, ctx)
    window.import_action.trigger()
    assert message_boxes.shown == [("warning", "无法导入名册", f"程序出现意外错误，详细信息已写入日志：{log}")]
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "broken_import" in text
