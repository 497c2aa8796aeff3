"""Opening the database at start: the first start after installing a newer build migrates it
behind a progress dialog, on a worker thread (it may take minutes on a station's database).

The steps are ``core.schema.pending_upgrades``; the database is backed up first, then
``AppContext.open`` runs every migration in one transaction (``db.engine.upgrade``) and
reports each step. A database at the newest schema (or a new one) opens at once, no dialog.
"""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal
from PySide6.QtWidgets import QProgressBar, QProgressDialog

from core.context import AppContext
from core.schema import back_up_before_upgrade, pending_upgrades
from core.version import app_version
from gui import crash
from gui.i18n import tr_args


class _Signals(QObject):
    step = Signal(int)
    finished = Signal(object)
    failed = Signal(object)


class UpgradeDialog(QProgressDialog):
    """第 X 步，共 Y 步 while the migrations run; no cancel (the upgrade is all or nothing anyway)."""

    def __init__(self, steps: int):
        super().__init__()
        self.setWindowTitle(self.tr("升级数据库 — 药械化现场检查"))
        self.setLabelText(tr_args(self.tr("正在把数据库升级到 %1 版（共 %2 步），请稍候……\n"
                                          "升级前已自动备份；升级要么全部完成，要么保持原样，中途断电也不会损坏数据。"),
                                  app_version(), steps))
        self.setCancelButton(None)
        bar = QProgressBar()
        bar.setFormat(self.tr("第 %v 步，共 %m 步"))  # QProgressBar's own placeholders: value, maximum
        self.setBar(bar)
        self.setRange(0, steps)
        self.setValue(0)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.setMinimumWidth(460)

    def reject(self) -> None:  # Esc: the upgrade goes on, and so does its dialog
        pass

    def closeEvent(self, event) -> None:  # the window's close button: likewise, until open_context hides it
        if self.isVisible() and self.value() < self.maximum():
            event.ignore()
            return
        super().closeEvent(event)


def open_context(db: str | Path, *, encrypt: bool | None = None) -> AppContext:
    """``AppContext.open(db)``; behind ``UpgradeDialog`` when the database has migrations to run.
    ``encrypt``: as ``AppContext.open`` (True: a new database is made encrypted).

    Raises what ``AppContext.open`` raises (a DomainError with its Chinese message).
    """
    steps = pending_upgrades(db)
    if not steps:
        return AppContext.open(db, encrypt=encrypt)
    dialog = UpgradeDialog(len(steps))
    signals = _Signals()
    outcome: dict[str, object] = {}
    loop = QEventLoop()

    def work() -> None:
        done: list[str] = []

        def step(revision: str) -> None:
            done.append(revision)
            signals.step.emit(len(done))

        try:
            back_up_before_upgrade(db)
            ctx = AppContext.open(db, progress=step, encrypt=encrypt)
        except Exception as exc:  # delivered to the main thread, raised there
            signals.failed.emit(exc)
        else:
            signals.finished.emit(ctx)

    def finish(key: str, value: object) -> None:
        outcome[key] = value
        loop.quit()

    signals.step.connect(dialog.setValue)
    signals.finished.connect(lambda ctx: finish("ctx", ctx))
    signals.failed.connect(lambda exc: finish("error", exc))
    dialog.show()
    worker = threading.Thread(target=work, name="upgrade-database", daemon=True)
    worker.start()
    loop.exec()
    worker.join()
    dialog.hide()  # not close(): its closeEvent refuses while the steps are not all done
    dialog.deleteLater()
    if "error" in outcome:
        crash.logger.info("database upgrade to %s refused or failed: %s", steps[-1], outcome["error"])
        raise outcome["error"]
    crash.logger.info("database upgraded to %s in %d steps (%s)", steps[-1], len(steps), ", ".join(steps))
    return outcome["ctx"]
