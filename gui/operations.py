"""One way to run a core call from a screen: off the UI thread, with progress and cancel,
and its failure reported one way (Anki's ``CollectionOp``).

The job is ``job(progress, cancelled)`` and never touches widgets; ``on_done(result)``
runs on the main thread. A failure goes to the failure box (``gui.messages.show_failure``:
a DomainError's own Chinese message; anything else a generic message, its traceback in
the log) unless the screen passes ``on_error`` to show it its own way; an unexpected
error is logged then too. Tests pass ``runner=ImmediateRunner()``.

``run_import`` is the import screens' flow over it: pick a file, import it, show the summary.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtWidgets import QFileDialog, QWidget

from core.errors import DomainError
from gui import crash
from gui.jobs import Job
from gui.messages import show_failure, show_import_summary


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


def run_import(
    parent: QWidget,
    import_file: Callable[..., Any],
    *,
    title: str,
    file_filter: str,
    label: str,
    describe: Callable[[Any], str],
    runner,
    after: Callable[[], None] | None = None,
) -> None:
    """Ask for a file (``title``, ``file_filter``), import it behind ``label``, show what it did.

    ``import_file(path, progress=..., cancelled=...)`` is the core call; its summary has the
    ``rejected`` rows. When it is done ``after()`` runs first (the lists reload), then the
    summary box shows ``describe(summary)`` with the rejected rows as details.
    """
    path, _ = QFileDialog.getOpenFileName(parent, title, str(Path.home()), file_filter)
    if not path:
        return

    def job(progress, cancelled):
        return import_file(Path(path), progress=progress, cancelled=cancelled)

    def done(summary) -> None:
        if after is not None:
            after()
        show_import_summary(parent, describe(summary), summary.rejected)

    run_op(parent, label, job, on_done=done, runner=runner)
