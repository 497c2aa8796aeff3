"""One way to run a core call from a screen: off the UI thread, with progress and cancel,
and its failure reported one way (Anki's ``CollectionOp``).

The job is ``job(progress, cancelled)`` and never touches widgets; ``on_done(result)``
runs on the main thread. A failure goes to the failure box (``gui.messages.show_failure``:
a DomainError's own Chinese message; anything else a generic message, its traceback in
the log) unless the screen passes ``on_error`` to show it its own way; an unexpected
error is logged then too. Tests pass ``runner=ImmediateRunner()``.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import QWidget

from core.errors import DomainError
from gui import crash
from gui.jobs import Job
from gui.messages import show_failure


def run_op(
    parent: QWidget,
    label: str,
    job: Job,
    *,
    on_done: Callable[[Any], None],
    runner,
    on_error: Callable[[Exception], None] | None = None,
    failure_title: str | None = None,
) -> None:
    """Run ``job`` through ``runner`` (a JobRunner, or ImmediateRunner in tests) behind ``label``."""

    def failed(exc: Exception) -> None:
        if on_error is None:
            show_failure(parent, exc, failure_title)
            return
        if not isinstance(exc, DomainError):
            crash.log_exception(exc, f"operation failed: {label}")
        on_error(exc)

    runner.run(parent, label, job, on_done, failed)
