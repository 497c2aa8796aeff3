"""A record's history from the audit trail: who changed what, when, before and after."""
from __future__ import annotations

import json

from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout

from core.audit import ACTION_LABELS, record_history, verify_chain
from core.context import AppContext
from gui.i18n import tr_args
from gui.models import RowTableModel, tr
from gui.widgets import dialog_buttons, make_table


def _short(data: dict) -> str:
    shown = {k: v for k, v in data.items() if k not in ("id", "device_id", "created_at", "updated_at", "version")
             and not k.endswith("_id") and k not in ("template_json", "party_json")}
    return json.dumps(shown, ensure_ascii=False)[:200]


class HistoryModel(RowTableModel):
    columns = (
        ("序号", lambda r: str(r.seq)),
        ("时间", lambda r: r.at.strftime("%Y-%m-%d %H:%M:%S")),
        ("操作人", lambda r: r.actor),
        ("操作", lambda r: tr(ACTION_LABELS[r.action])),
        ("数据表", lambda r: r.table),
        ("修改前", lambda r: _short(r.before)),
        ("修改后", lambda r: _short(r.after)),
    )


class HistoryDialog(QDialog):
    def __init__(self, ctx: AppContext, record_id: str, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr_args(self.tr("修改记录 — %1"), title))
        self.resize(1100, 600)
        self.model = HistoryModel(self)
        self.model.set_rows(record_history(ctx, record_id))
        check = verify_chain(ctx)
        state = QLabel(("✔ " if check.ok else "✘ ") + check.message)
        state.setStyleSheet("color: #1b7f3b" if check.ok else "color: #b00020")
        buttons = dialog_buttons(self, None)
        layout = QVBoxLayout(self)
        layout.addWidget(state)
        layout.addWidget(make_table(self.model, lambda _r: None), 1)
        layout.addWidget(buttons)
