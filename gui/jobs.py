"""Run long work off the UI thread, with progress and cancel: the runners under ``gui.operations``.

A job is a plain function ``fn(progress, cancelled)``; it never touches widgets. The
result or the error comes back on the main thread. Screens call ``gui.operations.run_op``,
which decides how a failure is shown; tests pass ``ImmediateRunner``.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

Job = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]


class _Signals(QObject):
    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, job: Job, signals: _Signals, cancel: threading.Event):
        super().__init__()
        self.job, self.signals, self.cancel = job, signals, cancel

    def run(self) -> None:
        try:
            result = self.job(lambda done, total: self.signals.progress.emit(done, total), self.cancel.is_set)
        except Exception as exc:  # delivered to the main thread, shown there
            self.signals.failed.emit(exc)
        else:
            self.signals.finished.emit(result)


class JobRunner:
    """Runs jobs on Qt's thread pool behind a modal progress dialog with a cancel button."""

    def __init__(self) -> None:
        self._alive: set[_Signals] = set()

    def run(
        self,
        parent: QWidget,
        label: str,
        job: Job,
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        cancel = threading.Event()
        dialog = QProgressDialog(label, parent.tr("取消"), 0, 0, parent)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.canceled.connect(cancel.set)
        signals = _Signals()
        self._alive.add(signals)

        def progress(done: int, total: int) -> None:
            dialog.setMaximum(total)
            dialog.setValue(done)

        def finish(callback, value) -> None:
            self._alive.discard(signals)
            dialog.reset()
            dialog.deleteLater()
            callback(value)

        signals.progress.connect(progress)
        signals.finished.connect(lambda result: finish(on_done, result))
        signals.failed.connect(lambda exc: finish(on_error, exc))
        QThreadPool.globalInstance().start(_Task(job, signals, cancel))


class ImmediateRunner:
    """Runs the job at once on the calling thread: deterministic tests."""

    def run(self, parent, label, job, on_done, on_error) -> None:
        try:
            result = job(lambda done, total: None, lambda: False)
        except Exception as exc:
            on_error(exc)
        else:
            on_done(result)
