"""The message boxes several screens show: a refused action (``attempt`` a core call), an import's summary."""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from core.errors import DomainError
from gui import crash
from gui.i18n import tr_args


def tr(text: str) -> str:
    return QCoreApplication.translate("messages", text)


def show_failure(parent: QWidget, exc: Exception, title: str | None = None) -> None:
    """One clear line: the core's own message; for the unexpected, a generic one, the traceback logged."""
    if isinstance(exc, DomainError):
        message = exc.message
    else:
        message = crash.unexpected_error_text(exc, crash.log_exception(exc, "operation failed"))
    QMessageBox.warning(parent, title or tr("操作未完成"), message)


def attempt(parent: QWidget, title: str | None, action: Callable[..., Any], *args: Any) -> bool:
    """``action(*args)``, a core call; True when done. A refusal (DomainError) is shown in the
    failure box under ``title`` and gives False; anything unexpected goes on up to the crash hook."""
    try:
        action(*args)
    except DomainError as exc:
        show_failure(parent, exc, title)
        return False
    return True


def show_import_summary(parent: QWidget, text: str, rejected: list[dict]) -> None:
    """What an import did, with the rejected rows (row number and reason) as details."""
    box = QMessageBox(QMessageBox.Icon.Information, tr("导入完成"), text, parent=parent)
    if rejected:
        box.setDetailedText("\n".join(tr_args(tr("第 %1 行：%2"), r["row"], r["reason"]) for r in rejected))
    box.exec()
