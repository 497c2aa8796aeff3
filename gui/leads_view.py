"""Leads: the grid worker's screen (report a finding, see its status) and the station's inbox."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from core import leads as svc
from core.context import AppContext
from core.deletions import remove_lead_photo
from core.errors import DomainError, InvalidInput
from core.inspections import image_format
from core.subjects import search_subjects
from core.users import PERMISSIONS, list_users
from gui.i18n import tr_args
from gui.list_filters import station_choice
from gui.messages import attempt
from gui.models import ROW_ROLE, RowTableModel, tr
from gui.widgets import add_row, button_row, make_table, push_button
from gui.windows import fit_to_screen


class LeadTableModel(RowTableModel):
    columns = (
        ("上报时间", lambda r: r.reported_at.strftime("%Y-%m-%d %H:%M")),
        ("类别", lambda r: tr(r.category_label)),
        ("对象", lambda r: r.subject),
        ("状态", lambda r: tr(r.status_label)),
        ("核查期限", lambda r: (r.due.isoformat() if r.due else "") + (tr("（逾期）") if r.overdue else "")),
        ("上报人", lambda r: r.reporter),
        ("承办人", lambda r: r.assigned_to),
        ("反馈", lambda r: r.feedback),
    )

    def foreground(self, row):
        from PySide6.QtGui import QBrush, QColor

        return QBrush(QColor("#c00000")) if row.overdue else None


class GridWorkerWindow(QMainWindow):
    """Large targets, few fields: report what you saw, then follow what became of it."""

    log_out_requested = Signal()  # 注销: back to the log-in dialog (gui.app.Session)

    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.photos: list[Path] = []
        self.setWindowTitle(tr_args(self.tr("网格员 — %1"), ctx.user.name))
        fit_to_screen(self, 1280, 720)
        # large targets for a small laptop screen, used standing up in a shop or a market
        self.setStyleSheet("QWidget { font-size: 15px; } QPushButton { padding: 6px 14px; }")

        form = QFormLayout()
        self.category = add_row(form, self.tr("类别(&C)："), QComboBox())
        for code, label in svc.CATEGORIES.items():
            self.category.addItem(self.tr(label), code)
        self.subject = add_row(form, self.tr("对象(&O)："), QLineEdit())
        self.subject.setPlaceholderText(self.tr("输入名称选择已登记的对象；未登记的直接写名称"))
        # shops can share a name: the completion says which one (name（address）)
        self._subjects = {self._label(s): s for s in search_subjects(ctx, "", limit=5000)}
        completer = QCompleter(sorted(self._subjects), self.subject)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.subject.setCompleter(completer)
        self.address = add_row(form, self.tr("地址："), QLineEdit())
        self.address.setPlaceholderText(self.tr("未登记经营者的地址"))
        self.place = add_row(form, self.tr("发现地点(&L)："), QLineEdit())
        self.description = add_row(form, self.tr("情况描述(&D)："), QPlainTextEdit())
        self.description.setTabChangesFocus(True)
        self.description.setPlaceholderText(self.tr("看到了什么：例如 集市上有人摆摊卖血压计，无证照"))
        self.description.setMaximumHeight(180)
        self.photo_button = push_button(self.tr("添加照片(&F)…"), self.add_photos)
        self.photo_label = QLabel(self.tr("未添加照片"))
        self.clear_photos_button = push_button(self.tr("清除照片"), self.clear_photos)
        self.clear_photos_button.setEnabled(False)
        photos = add_row(form, self.tr("照片："), QHBoxLayout())
        photos.addWidget(self.photo_button)
        photos.addWidget(self.clear_photos_button)
        photos.addWidget(self.photo_label, 1)
        self.refresh_button = push_button(self.tr("刷新处理情况(&R)"), self.refresh)
        self.sync_button = push_button(self.tr("同步(&Y)…"), self.open_sync)
        self.log_out_button = push_button(self.tr("注销(&Q)"), self.log_out_requested.emit)
        self.submit_button = push_button(self.tr("上报线索(&S)"), self.submit)
        self.submit_button.setMinimumHeight(56)
        self.message = QLabel()
        self.message.setWordWrap(True)
        for button in (self.photo_button, self.submit_button):
            button.setMinimumHeight(48)

        report = QGroupBox(self.tr("上报发现"))
        report_layout = QVBoxLayout(report)
        report_layout.addLayout(form)
        report_layout.addStretch(1)
        report_layout.addWidget(self.submit_button)
        report_layout.addWidget(self.message)

        self.model = LeadTableModel(self)
        self.view = make_table(self.model, lambda _r: None)
        self._wrap_feedback()
        mine = QGroupBox(self.tr("我上报的线索及处理情况"))
        mine_layout = QVBoxLayout(mine)
        mine_layout.addWidget(self.view)
        mine_layout.addLayout(button_row((self.sync_button, self.log_out_button), (self.refresh_button,)))

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(report, 2)
        layout.addWidget(mine, 3)
        self.setCentralWidget(central)
        self.refresh()

    def _wrap_feedback(self) -> None:
        """The reporter is the grid worker: hidden; the feedback takes the room left and wraps,
        rows grow to show it, so the list never needs horizontal scrolling."""
        columns = [header for header, _get in LeadTableModel.columns]
        self.view.setColumnHidden(columns.index("上报人"), True)
        header = self.view.horizontalHeader()
        metrics = self.view.fontMetrics()
        # the other columns get the width of a typical value (longer text wraps), at the font in use
        typical = {"上报时间": "2026-12-01 09:30", "类别": "无证经营药品", "对象": "驿城区某某化妆品店",
                   "状态": "已反馈", "核查期限": "2026-12-01（逾期）", "承办人": "王建国王"}
        for name, sample in typical.items():
            header.setSectionResizeMode(columns.index(name), QHeaderView.ResizeMode.Interactive)
            header.resizeSection(columns.index(name), metrics.horizontalAdvance(sample) + 16)
        header.setSectionResizeMode(columns.index("反馈"), QHeaderView.ResizeMode.Stretch)
        self.view.setWordWrap(True)
        # the stretched column fits the width; a pixel of rounding must not bring a scroll bar
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    @staticmethod
    def _label(subject) -> str:
        return f"{subject.name}（{subject.address}）" if subject.address else subject.name

    def refresh(self) -> None:
        self.model.set_rows(svc.list_leads(self.ctx))

    def open_sync(self) -> None:
        """The grid worker's laptop sends its leads to the station like any other device."""
        from gui.sync_panel import SyncPanel

        panel = SyncPanel(self.ctx, parent=self)
        panel.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        panel.changed.connect(self.refresh)
        panel.show()

    def changeEvent(self, event) -> None:
        # coming back to the window shows the station's latest handling of the leads
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.refresh()
        super().changeEvent(event)

    def add_photos(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, self.tr("选择照片"), str(Path.home()), self.tr("图片 (*.jpg *.jpeg *.png *.bmp *.webp)"))
        refused = []
        for path in map(Path, paths):
            try:
                ok = image_format(path.read_bytes()) is not None
            except OSError:
                ok = False
            if ok:
                self.photos.append(path)
            else:
                refused.append(path.name)
        self._show_photos()
        if refused:
            self.message.setStyleSheet("color: #b00020")
            self.message.setText(tr_args(self.tr("不是可识别的图片，未添加：%1"), "、".join(refused)))

    def clear_photos(self) -> None:
        self.photos = []
        self._show_photos()

    def _show_photos(self) -> None:
        self.photo_label.setText(self.tr("已添加 %n 张照片", "", len(self.photos)) if self.photos else self.tr("未添加照片"))
        self.clear_photos_button.setEnabled(bool(self.photos))

    def _registered(self, text: str):
        """The subject the text names: its completion label, or a name only one subject has."""
        if text in self._subjects:
            return self._subjects[text]
        same = [s for s in self._subjects.values() if s.name == text]
        if len(same) > 1:
            raise InvalidInput(tr_args(self.tr("有 %1 个名为“%2”的监管对象，请从下拉列表中选择（名称后附地址）"), len(same), text))
        return same[0] if same else None

    def submit(self) -> None:
        name = self.subject.text().strip()
        try:
            known = self._registered(name)
        except DomainError as exc:
            self.message.setStyleSheet("color: #b00020")
            self.message.setText(exc.message)
            return
        try:
            svc.report_lead(
                self.ctx, category=self.category.currentData(), description=self.description.toPlainText(),
                subject_id=known.id if known else None, party_name="" if known else name,
                party_address="" if known else self.address.text(), place=self.place.text(), photos=self.photos,
            )
        except DomainError as exc:
            self.message.setStyleSheet("color: #b00020")
            self.message.setText(exc.message)
            return
        for widget in (self.subject, self.address, self.place):
            widget.clear()
        self.description.clear()
        self.clear_photos()
        self.message.setStyleSheet("color: #1b7f3b")
        self.message.setText(self.tr("已上报，所里接收后会在右侧显示处理进度。"))
        self.refresh()


class LeadInbox(QWidget):
    """The station's inbox: overdue first; receive, assign, handle, feed back, close."""

    changed = Signal()

    def __init__(self, ctx: AppContext, parent=None, *, load: bool = True):
        super().__init__(parent)
        self.ctx = ctx
        self.model = LeadTableModel(self)
        self.view = make_table(self.model, lambda _r: self.show_detail())
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self.show_detail())
        self.buttons = {key: push_button(label, slot) for key, label, slot in (
            ("receive", self.tr("接收"), self.receive), ("assign", self.tr("分办…"), self.assign),
            ("handle", self.tr("处置…"), self.handle), ("feedback", self.tr("反馈…"), self.feedback),
            ("close", self.tr("办结"), self.close_lead),
        )}
        self.photos_button = push_button(self.tr("查看照片(&P)"), self.show_photos)
        self.case_button = push_button(self.tr("拟立案审批表…"), self.draft_case)
        self.case_button.setToolTip(self.tr("并入案件办理的线索：拟制案件来源登记表和立案审批表，报所长审批"))
        self.station = station_choice(ctx, self.tr("全部站所"))  # a county's database only
        self.station.currentIndexChanged.connect(lambda _i: self.refresh())
        layout = QVBoxLayout(self)
        layout.addWidget(self.station)
        layout.addWidget(self.view, 2)
        layout.addWidget(self.detail, 1)
        layout.addLayout(button_row([*self.buttons.values(), self.case_button],
                                    (self.photos_button, self._export_button())))
        if load:
            self.refresh()
        else:
            self.show_detail()

    def _export_button(self):
        """导出Excel… of the leads this user may see (gui/export_xlsx.py)."""
        from gui.export_xlsx import ExportButton

        self.export_button = ExportButton(self.ctx, "leads", parent=self)
        return self.export_button

    def refresh(self) -> None:
        current = self._current()
        self.model.set_rows(svc.list_leads(self.ctx, station=self.station.currentData() or None))
        if current is not None:
            for r in range(self.model.rowCount()):
                if self.model.row_at(r).id == current.id:
                    self.view.selectRow(r)
        self.show_detail()

    def _current(self):
        index = self.view.currentIndex()
        return index.data(ROW_ROLE) if index.isValid() else None

    def _may(self, key: str, lead) -> bool:
        """Offer only what the user's role may do (the core refuses the rest anyway)."""
        user = self.ctx.user
        if user is None:
            return True
        if key in ("receive", "assign", "close"):
            return "manage_leads" in PERMISSIONS[user.role]
        if "handle_lead" not in PERMISSIONS[user.role]:
            return False
        return user.role == "admin" or lead.assigned_to == user.name

    def show_detail(self) -> None:
        lead = self._current()
        allowed = {"reported": {"receive"}, "received": {"assign"}, "assigned": {"assign", "handle"},
                   "handled": {"feedback"}, "fed_back": {"close"}, "closed": set()}
        for key, button in self.buttons.items():
            button.setEnabled(lead is not None and key in allowed[lead.status] and self._may(key, lead))
        self.photos_button.setEnabled(lead is not None and bool(lead.photos))
        inspects = self.ctx.user is None or "inspect" in PERMISSIONS[self.ctx.user.role]
        self.case_button.setVisible(inspects)
        self.case_button.setEnabled(lead is not None and lead.handling == "case" and inspects)
        if lead is None:
            self.detail.setText(self.tr("选择一条线索查看详情"))
            return
        e = html.escape  # what people typed is text, never markup
        steps = "　".join(f"{label} {at:%m-%d %H:%M} {e(who)}" for label, at, who in lead.steps)
        handling = svc.HANDLINGS.get(lead.handling, "")
        place = tr_args(self.tr("发现地点：%1　照片 %2 张"), e(lead.place), len(lead.photos))
        self.detail.setText(
            f"<b>{e(lead.category_label)}</b>　{e(lead.subject)}　{e(lead.address)}<br>{e(lead.description)}<br>"
            + place + f"<br>{steps}" + (f"<br>{e(handling)}：{e(lead.handling_note)}" if handling else "")
        )

    def show_photos(self) -> None:
        """The lead's photos, in the app (not modal to the inbox's window)."""
        from gui.photo_viewer import PhotoViewer

        lead = self._current()
        if lead is None or not lead.photos:
            return
        open_lead = lead.status in ("reported", "received", "assigned")  # (core.deletions: a handled one keeps them)
        viewer = PhotoViewer(tr_args(self.tr("线索照片 — %1"), lead.subject), self.ctx, lead.photos, parent=self,
                             photo_ids=lead.photo_ids if open_lead else (), remove=self._remove_photo)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.open()

    def _remove_photo(self, photo_id: str) -> bool:
        if attempt(self, self.tr("不能删除"), remove_lead_photo, self.ctx, photo_id):
            self.refresh()
            self.changed.emit()
            return True
        return False

    def _run(self, action, *args) -> None:
        lead = self._current()
        if lead is None:
            return
        if attempt(self, None, action, self.ctx, lead.id, *args):
            self.refresh()
            self.changed.emit()

    def receive(self) -> None:
        self._run(svc.receive_lead)

    def assign(self) -> None:
        inspectors = [u for u in list_users(self.ctx, role="inspector")]
        names = [f"{u.name}（{u.cert_no}）" for u in inspectors]
        choice, ok = QInputDialog.getItem(self, self.tr("分办线索"), self.tr("承办人："), names, 0, False)
        if ok and choice in names:
            self._run(svc.assign_lead, inspectors[names.index(choice)].id)

    def handle(self) -> None:
        labels = list(svc.HANDLINGS.values())
        choice, ok = QInputDialog.getItem(self, self.tr("处置线索"), self.tr("处置方式："), labels, 0, False)
        if not ok:
            return
        handling = list(svc.HANDLINGS)[labels.index(choice)]
        note, ok = QInputDialog.getMultiLineText(self, self.tr("处置线索"), self.tr("核查情况（不属实时必填）："))
        if ok:
            self._run(svc.handle_lead, handling, note)

    def feedback(self) -> None:
        text, ok = QInputDialog.getMultiLineText(self, self.tr("反馈上报人"), self.tr("反馈内容："))
        if ok:
            self._run(svc.feed_back, text)

    def draft_case(self) -> None:
        """A lead handled as a case: the two 承办人, the papers drafted, the filing opened."""
        from gui.case_filing import CaseFilingDialog, LeadCaseDialog

        lead = self._current()
        if lead is None:
            return
        dialog = LeadCaseDialog(self.ctx, lead.id, lead.subject, parent=self)
        if dialog.exec() and dialog.filing is not None:
            CaseFilingDialog(self.ctx, dialog.filing.id, parent=self).exec()

    def close_lead(self) -> None:
        self._run(svc.close_lead)
