"""A record's history from the audit trail: who changed which field, when, from what to what."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout

from core.audit import verify_chain
from core.context import AppContext
from core.history import readable_history
from gui.i18n import tr_args
from gui.models import RowTableModel, tr
from gui.widgets import dialog_buttons, make_table
from gui.windows import fit_to_screen


class HistoryModel(RowTableModel):
    columns = (
        ("序号", lambda r: str(r.seq)),
        ("时间", lambda r: r.at.strftime("%Y-%m-%d %H:%M:%S")),
        ("操作人", lambda r: r.actor),
        ("操作", lambda r: tr(r.action)),
        ("内容", lambda r: r.kind),
        ("项目", lambda r: r.field),
        ("修改前", lambda r: r.before),
        ("修改后", lambda r: r.after),
    )


class HistoryDialog(QDialog):
    def __init__(self, ctx: AppContext, record_id: str, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr_args(self.tr("修改记录 — %1"), title))
        fit_to_screen(self, 1200, 640)
        self.model = HistoryModel(self)
        self.model.set_rows(readable_history(ctx, record_id))
        check = verify_chain(ctx)
        state = QLabel(("✔ " if check.ok else "✘ ") + check.message)
        state.setStyleSheet("color: #1b7f3b" if check.ok else "color: #b00020")
        buttons = dialog_buttons(self, None)
        layout = QVBoxLayout(self)
        layout.addWidget(state)
        self.view = make_table(self.model, lambda _r: None)
        self.view.setWordWrap(True)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
