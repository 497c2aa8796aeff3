"""The sync panel: status, export to / import from a folder (USB stick), devices, and conflicts.

Exports and imports run through the JobRunner (progress and cancel). Every outcome is
one line at the top of the panel, and remembered (``core.sync.record_result``).
Conflicts are shown side by side, field by field, differing fields highlighted; the
admin keeps the local version or takes the remote one. At the station the admin also sees
the registered laptops and revokes a lost or stolen one.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core import sync
from core.context import AppContext
from core.errors import DomainError
from core.sync import (
    HUB_URL,
    ConflictRow,
    DeviceRow,
    describe_hub,
    describe_import,
    list_conflicts,
    record_result,
    resolve_conflict,
    sync_status,
)
from core.sync import client as hub_client
from core.users import PERMISSIONS
from gui import crash
from gui.i18n import tr_args
from gui.jobs import JobRunner
from gui.laptops import LaptopsBox
from gui.messages import attempt
from gui.operations import run_op
from gui.models import RowTableModel, _Index
from gui.widgets import add_row, button_row, push_button

DIFF_BACKGROUND = QColor("#ffe8a3")
DEFAULT_HUB_URL = "http://192.168.1.10:8765"


def _when(at) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else ""


class PendingModel(RowTableModel):
    columns = (("数据类别", lambda r: r.label), ("待发送记录数", lambda r: str(r.count)))


class ConflictModel(RowTableModel):
    columns = (
        ("数据类别", lambda r: r.table_label),
        ("记录", lambda r: r.title),
        ("来自", lambda r: r.from_device),
        ("收到时间", lambda r: _when(r.created_at)),
        ("不同的字段", lambda r: "、".join(r.differing)),
        ("处理", lambda r: f"{_when(r.resolved_at)} {r.resolved_by}" if r.resolved_at else "待处理"),
    )


class DiffModel(RowTableModel):
    """One conflict's two versions, field by field; differing fields highlighted."""

    columns = (("字段", lambda f: f.label), ("本机版本", lambda f: f.local), ("对方版本", lambda f: f.remote))

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if index.isValid() and self.row_at(index.row()).differs:
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(DIFF_BACKGROUND)
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
        return super().data(index, role)


def _table(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    view.setWordWrap(False)
    return view


class SyncPanel(QWidget):
    """Sync status, packages in and out, and the conflicts to resolve."""

    changed = Signal()  # the database changed (an import, a resolution): lists elsewhere reload

    def __init__(self, ctx: AppContext, *, runner=None, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.ctx = ctx
        self.runner = runner or JobRunner()
        self.setWindowTitle(self.tr("数据同步"))
        self.resize(980, 720)

        # --- status ---
        form = QFormLayout()
        self.role_label = add_row(form, self.tr("本机："), QLabel())
        self.peers_label = add_row(form, self.tr("同步对象："), QLabel())
        self.peers_label.setWordWrap(True)
        self.last_export_label = add_row(form, self.tr("上次导出："), QLabel())
        self.last_import_label = add_row(form, self.tr("上次导入："), QLabel())
        self.last_result_label = add_row(form, self.tr("上次结果："), QLabel())
        self.last_result_label.setWordWrap(True)
        self.pending_model = PendingModel(self)
        self.pending_view = _table(self.pending_model)
        self.pending_label = QLabel()
        pending_box = QVBoxLayout()
        pending_box.addWidget(self.pending_label)
        pending_box.addWidget(self.pending_view)
        status_row = QHBoxLayout()
        status_row.addLayout(form, 3)
        status_row.addLayout(pending_box, 2)
        status_box = QGroupBox(self.tr("同步状态"))
        status_box.setLayout(status_row)

        # --- actions ---
        self.export_button = push_button(self.tr("导出到文件夹(&E)…"), self.export_to_folder)
        self.import_button = push_button(self.tr("从文件夹导入(&I)…"), self.import_from_folder)
        self.hub_button = push_button(self.tr("与所里同步(&H)"), self.sync_with_hub)
        self.refresh_button = push_button(self.tr("刷新(&R)"), self.refresh)
        buttons = button_row((self.export_button, self.import_button, self.hub_button), (self.refresh_button,))
        self.result_label = QLabel()  # the outcome of what was just done, one line
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # --- laptops (the station) or setting up (a machine not yet set up) ---
        user = ctx.user
        self.may_manage_devices = user is None or "manage_devices" in PERMISSIONS[user.role]
        self.device_box = LaptopsBox(ctx, may_manage=self.may_manage_devices)
        self.device_box.changed.connect(self._laptops_changed)
        self.device_model, self.device_view = self.device_box.model, self.device_box.view
        self.revoke_button = self.device_box.revoke_button

        # --- conflicts ---
        self.conflict_model = ConflictModel(self)
        self.conflict_view = _table(self.conflict_model)
        self.conflict_view.selectionModel().currentRowChanged.connect(self._conflict_chosen)
        self.diff_model = DiffModel(self)
        self.diff_view = _table(self.diff_model)  # long values are elided; the tooltip has them whole
        self.diff_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.diff_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.diff_view.horizontalHeader().setStretchLastSection(True)
        self.keep_button = push_button(self.tr("保留本机版本(&L)"), lambda: self.resolve("local"))
        self.take_button = push_button(self.tr("采用对方版本(&T)"), lambda: self.resolve("remote"))
        self.only_differing = QLabel(self.tr("黄色底色为两个版本不同的字段"))
        self.show_resolved = QCheckBox(self.tr("显示已处理的冲突(&D)"))
        self.show_resolved.toggled.connect(lambda _on: self.refresh_conflicts())
        resolve_row = button_row((self.only_differing, self.show_resolved), (self.keep_button, self.take_button))
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.conflict_view)
        diff_box = QWidget()
        diff_layout = QVBoxLayout(diff_box)
        diff_layout.setContentsMargins(0, 0, 0, 0)
        diff_layout.addWidget(self.diff_view)
        diff_layout.addLayout(resolve_row)
        split.addWidget(diff_box)
        split.setSizes([140, 300])
        self.conflict_box = QGroupBox()
        QVBoxLayout(self.conflict_box).addWidget(split)

        layout = QVBoxLayout(self)
        layout.addWidget(status_box)
        layout.addLayout(buttons)
        layout.addWidget(self.result_label)
        layout.addWidget(self.device_box)
        layout.addWidget(self.conflict_box, 1)

        self.may_resolve = user is None or "resolve_conflicts" in PERMISSIONS[user.role]
        self.refresh()

    # --- status -----------------------------------------------------------------
    def refresh(self) -> None:
        self.ctx.reload_settings()  # set up from another process (the command line) shows without a restart
        status = sync_status(self.ctx)
        self.status = status
        who = f"{status.role_label}　{status.device_name}" if status.role else status.role_label
        self.role_label.setText(who)
        self.peers_label.setText("、".join(name for _id, name in status.peers) or self.tr("（无）"))
        for label, exchange, word in ((self.last_export_label, status.last_export, self.tr("发往")),
                                      (self.last_import_label, status.last_import, self.tr("来自"))):
            label.setText(self.tr("从未") if exchange is None else
                          f"{_when(exchange.at)}　{word} {exchange.peer}　{self.tr('批次')} {exchange.seq}")
        self.last_result_label.setText(
            f"{_when(status.last_result_at)}　{status.last_result}" if status.last_result else self.tr("（无）"))
        self.pending_model.set_rows(status.pending)
        self.pending_label.setText(tr_args(self.tr("下次导出将发送 %1 条记录："), status.pending_total)
                                   if status.pending else self.tr("没有待发送的记录"))
        set_up = status.role is not None
        hint = "" if set_up else self.tr("本机尚未设置同步：所里的电脑请先登记笔记本，笔记本请先从登记文件加入所里")
        for button in (self.export_button, self.import_button):
            button.setEnabled(set_up)
            button.setToolTip(hint)
        self.hub_button.setEnabled(status.role == "device")
        if status.role != "device":
            self.hub_button.setToolTip(self.tr("笔记本在这里与所里同步；所里的电脑在下方“登记的笔记本”中开启同步服务"))
        else:
            self.hub_button.setToolTip(self.tr("上传本机的修改，再下载所里发来的同步包（需连接所里的网络）"))
        self.refresh_devices()
        self.refresh_conflicts()

    def refresh_devices(self) -> None:
        """The station's laptops and hub; the ways to set up on a machine not yet set up; hidden on a laptop."""
        self.device_box.refresh(self.status.role)

    def current_device(self) -> DeviceRow | None:
        return self.device_box.current()

    def _laptops_changed(self, text: str) -> None:
        self._show_result(text)
        self.changed.emit()

    def refresh_conflicts(self) -> None:
        current = self.current_conflict()
        rows = list_conflicts(self.ctx, include_resolved=self.show_resolved.isChecked())
        self.conflict_model.set_rows(rows)
        waiting = sum(1 for r in rows if r.resolved_at is None)
        self.conflict_box.setTitle(tr_args(self.tr("同步冲突（%1 条待处理）"), waiting))
        keep = next((i for i, r in enumerate(rows) if current is not None and r.id == current.id), 0 if rows else None)
        if keep is not None:
            self.conflict_view.selectRow(keep)
        self._conflict_chosen(self.conflict_view.currentIndex())

    def current_conflict(self) -> ConflictRow | None:
        index = self.conflict_view.currentIndex()
        return self.conflict_model.row_at(index.row()) if index.isValid() else None

    def _conflict_chosen(self, index: QModelIndex, _previous: QModelIndex | None = None) -> None:
        row = self.conflict_model.row_at(index.row()) if index.isValid() else None
        self.diff_model.set_rows(row.fields if row is not None else [])
        if row is not None:
            self.diff_view.setColumnWidth(0, 130)
            self.diff_view.setColumnWidth(1, max(200, (self.diff_view.viewport().width() - 130) // 2))
        for button in (self.keep_button, self.take_button):
            button.setEnabled(row is not None and row.resolved_at is None and self.may_resolve)
            button.setToolTip("" if self.may_resolve else self.tr("仅站所管理员可以处理同步冲突"))

    def _show_result(self, text: str, *, error: bool = False) -> None:
        self.result_label.setStyleSheet("color: #b00020;" if error else "color: #1b5e20;")
        self.result_label.setText(text)
        try:
            record_result(self.ctx, text)
        except Exception:  # noqa: BLE001 - remembering the line must not hide the outcome
            pass
        self.refresh()

    @staticmethod
    def _message(exc: Exception) -> str:
        """A refusal's own message; anything else the generic one (run_op has logged it)."""
        return exc.message if isinstance(exc, DomainError) else crash.unexpected_error_text(exc, crash.log_file())

    # --- export / import ------------------------------------------------------------
    def export_to_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("选择导出文件夹（U盘或共享文件夹）"), str(Path.home()))
        if not folder:
            return

        peers = [peer for peer, _name in self.status.peers]

        def job(progress, cancelled):
            # one peer at a time (the station: one per laptop), so progress moves and cancel can stop between them
            paths: list[Path] = []
            for done, peer in enumerate(peers):
                progress(done, len(peers))
                if cancelled():
                    return paths, True
                paths.extend(sync.export_packages(self.ctx, Path(folder), peer=peer))
            progress(len(peers), len(peers))
            return paths, False

        def done(result) -> None:
            paths, cancelled = result
            names = "、".join(p.name for p in paths)
            text = tr_args(self.tr("已导出 %1 个同步包到 %2：%3"), len(paths), folder, names) if paths else ""
            if cancelled:
                text = (text + "；" if text else "") + self.tr("已取消，其余设备的同步包未导出")
            elif not paths:
                text = self.tr("没有导出任何同步包：本机没有登记的同步对象")
            self._show_result(text, error=cancelled)

        run_op(self, self.tr("正在导出同步包…"), job, on_done=done, runner=self.runner,
               on_error=lambda exc: self._show_result(self.tr("导出失败：") + self._message(exc), error=True))

    def import_from_folder(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("选择要导入的同步包"), str(Path.home()),
                                                self.tr("同步包 (*.zip)"))
        if not files:
            return
        paths = sorted((Path(f) for f in files), key=lambda p: p.name)  # batch numbers in order

        def job(progress, cancelled):
            total, done, error = sync.ImportSummary(already_imported=True), 0, ""
            for path in paths:
                if cancelled():
                    error = self.tr("已取消，其余同步包未导入")
                    break
                progress(done, len(paths))
                try:
                    one = sync.import_package(self.ctx, path)
                except DomainError as exc:
                    error = exc.message  # later packages may need this one: stop here
                    break
                total.applied += one.applied
                total.unchanged += one.unchanged
                total.conflicts += one.conflicts
                total.already_imported = total.already_imported and one.already_imported
                done += 1
            progress(done, len(paths))
            return total, done, error

        def finished(result) -> None:
            total, done, error = result
            parts = [describe_import(total, done)] if done else []
            if error:
                parts.append(self.tr("未导入：") + error)
            self._show_result("；".join(parts), error=bool(error))
            if done:
                self.changed.emit()

        run_op(self, self.tr("正在导入同步包…"), job, on_done=finished, runner=self.runner,
               on_error=lambda exc: self._show_result(self.tr("导入失败：") + self._message(exc), error=True))

    def sync_with_hub(self) -> None:
        """Push this laptop's changes to the station's hub, then pull what the station sent."""
        url, ok = QInputDialog.getText(self, self.tr("与所里同步"), self.tr("所里同步服务的地址："),
                                       text=self.ctx.setting_or(HUB_URL, DEFAULT_HUB_URL))
        url = url.strip()
        if not ok or not url:
            return
        if url != self.ctx.setting_or(HUB_URL, ""):
            self.ctx.set_setting(HUB_URL, url)

        def job(progress, cancelled):
            progress(0, 2)
            pushed = hub_client.push(self.ctx, url)
            progress(1, 2)
            if cancelled():
                return pushed, None
            pulled = hub_client.pull(self.ctx, url)
            progress(2, 2)
            return pushed, pulled

        def done(result) -> None:
            pushed, pulled = result
            if pulled is None:
                self._show_result(tr_args(self.tr("已上传 %1 个同步包；已取消，未下载所里的同步包"), pushed.packages),
                                  error=True)
            else:
                self._show_result(describe_hub(pushed, pulled))
            self.changed.emit()

        run_op(self, self.tr("正在与所里同步…"), job, on_done=done, runner=self.runner,
               on_error=lambda exc: self._show_result(self.tr("与所里同步失败：") + self._message(exc), error=True))

    # --- devices --------------------------------------------------------------------------
    def revoke_selected_device(self) -> None:
        self.device_box.revoke_selected()

    # --- conflicts ----------------------------------------------------------------------
    def resolve(self, choice: str) -> None:
        row = self.current_conflict()
        if row is None:
            return
        question = tr_args(self.tr("用 %1 的版本替换本机的%2“%3”？本机版本仍保存在审计记录中。") if choice == "remote"
                           else self.tr("保留本机的%2“%3”，不采用 %1 的版本？"), row.from_device, row.table_label, row.title)
        answer = QMessageBox.question(self, self.tr("处理同步冲突"), question)
        if answer != QMessageBox.StandardButton.Yes:
            return
        if not attempt(self, self.tr("未能处理冲突"), resolve_conflict, self.ctx, row.id, choice):
            return
        done = tr_args(self.tr("已采用 %1 的版本：") if choice == "remote" else self.tr("已保留本机版本（将发往 %1）："),
                       row.from_device)
        self._show_result(done + f"{row.table_label}“{row.title}”")
        self.changed.emit()
