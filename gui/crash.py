"""Unexpected errors never vanish: their traceback goes to a log file and the user sees a box.

A frozen windowed build has no console, so Python's default hook would print the
traceback to nowhere. ``install(log_dir)`` (called once at start-up, gui/app.py) sets
``sys.excepthook`` and ``threading.excepthook``; ``log_exception`` is what the operation
helper and the failure box use for the same log.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

from gui.i18n import tr_args

LOG_NAME = "yxjc.log"
MAX_BYTES = 1_000_000  # 1 MB a file, five old files kept
BACKUPS = 5
logger = logging.getLogger("yxjc")


def tr(text: str) -> str:
    return QCoreApplication.translate("crash", text)


class _ToMainThread(QObject):
    """Carries a worker thread's error to the main thread, where a box may be shown."""

    raised = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.raised.connect(self.show)  # the receiver lives on the main thread: a queued call

    @Slot(str)
    def show(self, text: str) -> None:
        _show(text)


class _State:
    handler: RotatingFileHandler | None = None
    log_file: Path | None = None
    previous: tuple | None = None  # (sys.excepthook, threading.excepthook) before install
    bridge: _ToMainThread | None = None
    showing = False  # one box at a time: errors raised while it is open are only logged


class _PrivateLog(RotatingFileHandler):
    """A rotating log readable by its owner only: tracebacks may quote record data."""

    def _open(self):
        stream = super()._open()
        try:
            os.chmod(self.baseFilename, 0o600)
        except OSError:
            pass
        return stream


def install(log_dir: Path) -> Path | None:
    """Log to ``log_dir`` (rotating, 1 MB × 5) and catch every unhandled exception.

    Returns the log file, or None if the folder cannot be written; the hooks are
    installed either way, so the user still sees what happened.
    """
    uninstall()
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = _PrivateLog(log_dir / LOG_NAME, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        handler = None
    if handler is not None:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        _State.handler, _State.log_file = handler, log_dir / LOG_NAME
    _State.previous = (sys.excepthook, threading.excepthook)
    sys.excepthook = handle_exception
    threading.excepthook = _handle_thread_exception
    if QApplication.instance() is not None:
        _State.bridge = _ToMainThread()
    return _State.log_file


def uninstall() -> None:
    """Put the previous hooks back and close the log (tests; a second install)."""
    if _State.previous is not None:
        sys.excepthook, threading.excepthook = _State.previous
    if _State.handler is not None:
        logger.removeHandler(_State.handler)
        _State.handler.close()
    _State.handler = _State.log_file = _State.previous = _State.bridge = None
    _State.showing = False


def log_file() -> Path | None:
    """The log file in use, if ``install`` could open one."""
    return _State.log_file


def log_exception(exc: BaseException, what: str = "unexpected error") -> Path | None:
    """Write ``exc`` with its traceback (also one raised on a worker thread) to the log."""
    logger.error(what, exc_info=(type(exc), exc, exc.__traceback__))
    return _State.log_file


def unexpected_error_text(exc: BaseException, path: Path | None) -> str:
    """What the user reads: where the details are, or the error itself when there is no log."""
    if path is not None:
        return tr_args(tr("程序出现意外错误，详细信息已写入日志：%1"), path)
    return tr_args(tr("程序出现意外错误：%1"), f"{type(exc).__name__}: {exc}")


def handle_exception(exc_type, exc, tb) -> None:
    """``sys.excepthook``: log, echo to the console if there is one, show a box."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    logger.error("unhandled exception", exc_info=(exc_type, exc, tb))
    if sys.stderr is not None:  # None in a windowed build
        traceback.print_exception(exc_type, exc, tb, file=sys.stderr)
    _show(unexpected_error_text(exc, _State.log_file))


def _handle_thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    logger.error("unhandled exception in thread %s", name, exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
    if _State.bridge is not None:
        _State.bridge.raised.emit(unexpected_error_text(args.exc_value, _State.log_file))  # queued to the main thread


def _show(text: str) -> None:
    if QApplication.instance() is None or _State.showing:
        return
    _State.showing = True
    try:
        QMessageBox.critical(QApplication.activeWindow(), tr("意外错误"), text)
    finally:
        _State.showing = False
