"""发布的清单和规则: what this database publishes for the levels below, or received from above
(core.published), and 发布… a new version from a JSON file.

A checklist is named ``<code>.v<N>.json``, the rules ``triggers.v<N>.json``, ``grades.v<N>.json``,
``register-synonyms.v<N>.json``. The core checks the file (schema, name, a version above the
current one, the permission ``manage_resources``, not on a laptop) and refuses a bad one with one
Chinese message; nothing is written then. The check runs on a worker (gui.operations.run_op).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QDialog, QFileDialog, QHeaderView, QLabel, QVBoxLayout

from core import published
from core.context import AppContext
from core.errors import DomainError
from gui.i18n import tr_args
from gui.models import RowTableModel
from gui.operations import run_op
from gui.widgets import ERROR_STYLE, button_row, dialog_buttons, make_table, push_button


def tr(text: str) -> str:
    return QCoreApplication.translate("models", text)


# the words the model shows, as literal calls pyside6-lupdate finds
KIND_TEXT = {"checklist": lambda: tr("检查表"), "triggers": lambda: tr("触发规则"),
             "grades": lambda: tr("风险分级表"), "register-synonyms": lambda: tr("名册导入同义词")}
STATE_TEXT = {"current": lambda: tr("现行"), "superseded": lambda: tr("已被新版本取代"),
              "ignored": lambda: tr("已忽略（内容无效，或与已有的同版本内容不同）"),
              "pending": lambda: tr("未生效（引用了本库没有的检查表，收到后生效）")}


def _kind(row: published.PublishedRow) -> str:
    return KIND_TEXT[row.kind]() if row.kind in KIND_TEXT else row.kind


def _state(row: published.PublishedRow) -> str:
    return STATE_TEXT[row.state]() if row.state in STATE_TEXT else row.state


class PublishedModel(RowTableModel):
    """One row of ``published_resources``; the ignored ones are drawn in red."""

    columns = (
        ("类型", _kind),
        ("名称", lambda r: r.name),
        ("版本", lambda r: tr_args(tr("第 %1 版"), r.version)),
        ("状态", _state),
        ("发布人", lambda r: r.published_by),
        ("发布时间", lambda r: r.published_at[:19]),
        ("SHA-256", lambda r: r.sha256[:12] + "…"),
        ("标题或说明", lambda r: r.title),  # last: it takes the rest of the width, elided (the tool tip has it all)
    )

    def foreground(self, row: published.PublishedRow) -> QBrush | None:
        return QBrush(QColor(self.marked_color)) if row.state == "ignored" else None


class PublishedDialog(QDialog):
    """The list of published checklists and rules, and 发布… for the station's, county's or city's admin."""

    def __init__(self, ctx: AppContext, *, runner, parent=None):
        super().__init__(parent)
        self.ctx, self.runner = ctx, runner
        self.setWindowTitle(self.tr("发布的清单和规则"))
        self.resize(1000, 460)
        self.model = PublishedModel(self)
        self.view = make_table(self.model, lambda _row: None)
        self.view.horizontalHeader().setSectionResizeMode(len(PublishedModel.columns) - 1,
                                                          QHeaderView.ResizeMode.Stretch)
        self.publish_button = push_button(self.tr("发布(&P)…"), self.choose_and_publish)
        self.empty = QLabel(self.tr("尚未发布或收到任何检查表和规则：使用随软件发布的版本。"))
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setObjectName("publishResult")
        laptop = ctx.setting_or("sync.role", "") == "device"
        if laptop:  # the core refuses it too; the screen says why before anyone tries
            self.publish_button.setEnabled(False)
            self.publish_button.setToolTip(self.tr("笔记本不能发布：只有所、县局、市局可以发布"))
        note = QLabel(self.tr(
            "发布的新版本随同步下发到下级和笔记本，新建检查、任务、事件、年度计划、统计和风险分级都按现行版本执行；"
            "已签名的记录保留其当时的检查表。文件名：检查表为 <编码>.v<版本>.json，"
            "规则为 triggers.v<版本>.json、grades.v<版本>.json 或 register-synonyms.v<版本>.json；"
            "版本号须大于现行版本。发布后不能修改或撤回，只能再发布更高的版本。"))
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)
        layout.addLayout(button_row((self.publish_button,)))
        layout.addWidget(self.result)
        layout.addWidget(note)
        layout.addWidget(dialog_buttons(self, None))
        self.refresh()

    def refresh(self) -> None:
        rows = published.list_published(self.ctx)
        self.model.set_rows(rows)
        self.empty.setVisible(not rows)

    def choose_and_publish(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("选择要发布的检查表或规则文件"), str(Path.home()),
                                              self.tr("检查表或规则 (*.json)"))
        if path:
            self.publish(Path(path))

    def publish(self, path: Path) -> None:
        """Check and publish ``path`` on a worker; what happened goes in the line under the buttons."""
        self.result.clear()

        def job(_progress, _cancelled):
            return published.publish(self.ctx, path)

        def done(resource: published.Resource) -> None:
            self.result.setStyleSheet("color: #1b7f3b")
            self.result.setText(tr_args(self.tr("已发布：%1 %2 第 %3 版，下次同步时下发到下级。"),
                                        KIND_TEXT[resource.kind](), resource.name, resource.version))
            self.refresh()

        def failed(exc: Exception) -> None:
            self.result.setStyleSheet(ERROR_STYLE)
            self.result.setText(exc.message if isinstance(exc, DomainError)
                                else self.tr("未能发布：发生意外错误，详情已记入日志。"))

        run_op(self, self.tr("正在检查并发布…"), job, on_done=done, on_error=failed, runner=self.runner)

