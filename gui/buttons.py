"""The dialogs' button rows, labelled in Chinese, in one place."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox

SB = QDialogButtonBox.StandardButton


def dialog_buttons(dialog: QDialog, ok_text: str | None, on_ok: Callable[[], None] | None = None, *,
                   cancel_text: str | None = None, save: bool = False) -> QDialogButtonBox:
    """OK (or Save) and Cancel; with ``ok_text=None`` a single Close button."""
    tr = lambda text: QCoreApplication.translate("buttons", text)  # noqa: E731
    if ok_text is None:
        box = QDialogButtonBox(SB.Close)
        box.button(SB.Close).setText(tr("关闭"))
        box.rejected.connect(dialog.reject)
        return box
    ok = SB.Save if save else SB.Ok
    box = QDialogButtonBox(ok | SB.Cancel)
    box.button(ok).setText(ok_text)
    box.button(SB.Cancel).setText(cancel_text or tr("取消"))
    box.accepted.connect(on_ok)
    box.rejected.connect(dialog.reject)
    return box
