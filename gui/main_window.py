"""The main window: the register of subjects with search, the list of inspections, tools.

It only assembles the screens; each screen lives in its own module.
"""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QTabWidget, QToolBar, QWidget

from core.context import AppContext
from gui.i18n import tr_args
from gui.jobs import JobRunner
from gui.list_filters import InspectionList, SubjectList
from gui.widgets import number_tabs
from gui.windows import fit_to_screen

class MainWindow(QMainWindow):
    log_out_requested = Signal()  # 注销: back to the log-in dialog (gui.app.Session)

    def __init__(self, ctx: AppContext, runner=None):
        super().__init__()
        self.ctx = ctx
        self.runner = runner or JobRunner()
        self._windows: dict[str, QWidget] = {}
        self._set_title()
        fit_to_screen(self, 1180, 720)

        self.subject_list = SubjectList(ctx)
        self.subject_list.opened.connect(self.open_subject)
        # the parts tests and the toolbar reach
        self.search, self.subject_model = self.subject_list.search, self.subject_list.model
        self.subject_view, self.subject_count = self.subject_list.view, self.subject_list.count

        self.inspection_list = InspectionList(ctx)
        self.inspection_list.opened.connect(lambda r: self.open_inspection(r.id))
        self.inspection_model, self.inspection_view = self.inspection_list.model, self.inspection_list.view
        for listing, what in ((self.subject_list, "subjects"), (self.inspection_list, "inspections")):
            listing.filters.addWidget(self._export_button(what, listing.export_filter))

        from gui.task_queue import TaskQueue

        self.task_queue = TaskQueue(ctx, runner=self.runner, open_inspection=self.open_inspection, load=False)
        self.task_queue.changed.connect(self.refresh)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.subject_list, self.tr("监管对象"))
        self.tabs.addTab(self.inspection_list, self.tr("检查记录"))
        self.tabs.addTab(self.task_queue, self.tr("检查任务"))
        from gui.leads_view import LeadInbox

        self.lead_inbox = LeadInbox(ctx, load=False)
        self.lead_inbox.changed.connect(self.refresh)
        self.tabs.addTab(self.lead_inbox, self.tr("网格线索"))
        self.stats_view = None
        if ctx.user is None or ctx.user.role in ("admin", "inspector"):  # core.users: permission "stats"
            from gui.stats_view import StatsView

            self.stats_view = StatsView(ctx, runner=self.runner, open_inspection=self.open_inspection,
                                        open_subject=self.open_subject_id)
            self.tabs.addTab(self.stats_view, self.tr("统计"))
        number_tabs(self.tabs, self)
        self._loaded_tabs: list[QWidget] = []
        self.tabs.currentChanged.connect(self._tab_shown)
        self.setCentralWidget(self.tabs)

        toolbar = QToolBar(self.tr("工具栏"))
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(toolbar)
        self.add_action = self._action(toolbar, self.tr("新增对象"), QKeySequence.StandardKey.New, self.add_subject)
        self.open_action = self._action(toolbar, self.tr("打开"), QKeySequence("Ctrl+O"), self.open_selected)
        self.import_action = self._action(toolbar, self.tr("导入名册"), QKeySequence("Ctrl+I"), self.import_register)
        self.verify_action = self._action(toolbar, self.tr("验证文书"), QKeySequence("Ctrl+Shift+V"), self.verify_document)
        self.settings_action = self._action(toolbar, self.tr("站所设置"), QKeySequence("Ctrl+,"), self.edit_settings)
        self.sync_action = self._action(toolbar, self.tr("同步"), QKeySequence("Ctrl+Shift+Y"), self.open_sync)
        self.voided_action = self._action(toolbar, self.tr("作废登记"), QKeySequence("Ctrl+Shift+D"), self.show_voided)
        self.cases_action = self._action(toolbar, self.tr("立案审批"), QKeySequence("Ctrl+Shift+J"), self.show_cases)
        self.cases_action.setToolTip(self.tr("全站的立案审批表：承办人提交，所长审批 (Ctrl+Shift+J)"))
        self.users_action = self._action(toolbar, self.tr("用户管理"), QKeySequence("Ctrl+Shift+U"), self.manage_users)
        self.published_action = self._action(toolbar, self.tr("清单和规则"), QKeySequence("Ctrl+Shift+R"),
                                             self.show_published)
        self.published_action.setToolTip(self.tr("发布的检查表和规则：查看本库现行版本，向下级发布新版本 (Ctrl+Shift+R)"))
        self.log_out_action = self._action(toolbar, self.tr("注销"), QKeySequence("Ctrl+Shift+L"),
                                           self.log_out_requested.emit)
        self.log_out_action.setToolTip(self.tr("退出当前用户，回到登录界面（换人使用）"))
        self.about_action = self._action(toolbar, self.tr("关于"), QKeySequence("F1"), self.show_about)
        # the core refuses what a role may not do; the GUI does not offer it either
        if ctx.user is not None and ctx.user.role not in ("admin", "inspector"):  # core.users: "inspect"
            self.cases_action.setVisible(False)
        if ctx.user is not None and ctx.user.role != "admin":
            self.settings_action.setVisible(False)
            self.users_action.setVisible(False)
            self.published_action.setVisible(False)  # core.users: "manage_resources"
        self.statusBar().showMessage(tr_args(self.tr("数据库：%1"), ctx.where))  # a server: its URL, no password
        # editors save on every answer; the lists behind them catch up after a pause
        self._refresh_timer = QTimer(self, singleShot=True, interval=500)
        self._refresh_timer.timeout.connect(self.refresh)
        self.refresh()

    def _export_button(self, what: str, filters) -> QWidget:
        """导出Excel… for a list (gui/export_xlsx.py), as it is filtered; hidden from those who may not read it."""
        from core.users import PERMISSIONS
        from gui.export_xlsx import ExportButton

        button = ExportButton(self.ctx, what, filters, runner=self.runner)
        setattr(self, f"{what}_export_button", button)
        needs = {"subjects": "subjects", "inspections": "inspect"}[what]
        button.setVisible(self.ctx.user is None or needs in PERMISSIONS[self.ctx.user.role])
        return button

    def _set_title(self) -> None:
        user = self.ctx.user
        who = f"　{user.role_label} {user.name}" if user is not None else ""
        self.setWindowTitle(tr_args(self.tr("药械化现场检查 — %1"), self.ctx.setting("station_name")) + who)

    def _action(self, toolbar: QToolBar, text: str, shortcut, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcut(shortcut)
        action.setToolTip(f"{text} ({QKeySequence(shortcut).toString()})")
        action.triggered.connect(slot)
        toolbar.addAction(action)
        return action

    # --- data -------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the lists, and the subject pages that are open (their histories change too).

        The task queue and the lead inbox load when first shown, not at start-up.
        """
        self.refresh_subjects()
        self.inspection_list.refresh()
        for tab in self._loaded_tabs:
            tab.refresh()
        from gui.subject_page import SubjectPage

        for window in self._open_windows:
            if isinstance(window, SubjectPage):
                window.refresh()

    def _tab_shown(self, index: int) -> None:
        tab = self.tabs.widget(index)
        if tab in (self.task_queue, self.lead_inbox) and tab not in self._loaded_tabs:
            self._loaded_tabs.append(tab)
        self.refresh()

    def refresh_subjects(self) -> None:
        self.subject_list.refresh()

    # --- actions ----------------------------------------------------------------
    def _window(self, key: str, make) -> tuple[QWidget, bool]:
        """The open window for ``key`` brought to front, or a new one (freed when closed)."""
        window = self._windows.get(key)
        if window is not None:
            window.raise_()
            window.activateWindow()
            return window, False
        window = make()
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.destroyed.connect(partial(self._windows.pop, key, None))
        self._windows[key] = window
        return window, True

    @property
    def _open_windows(self) -> list[QWidget]:
        return list(self._windows.values())

    def add_subject(self) -> None:
        from gui.subject_dialog import SubjectDialog

        dialog = SubjectDialog(self.ctx, parent=self)
        if dialog.exec() and dialog.saved:
            self.refresh()
            self.open_subject(dialog.saved)

    def open_selected(self) -> None:
        views = (self.subject_view, self.inspection_view, self.task_queue.view, self.lead_inbox.view)
        if self.tabs.currentIndex() >= len(views):
            view = self.stats_view.drill_view
        else:
            view = views[self.tabs.currentIndex()]
        index = view.currentIndex()
        if index.isValid():
            view.activated.emit(index)

    def open_subject(self, subject) -> None:
        from gui.subject_page import SubjectPage

        page, new = self._window(f"subject:{subject.id}", lambda: SubjectPage(
            self.ctx, subject.id, open_inspection=self.open_inspection, parent=self))
        if new:
            page.changed.connect(self.refresh)
        page.show()

    def open_subject_id(self, subject_id: str) -> None:
        from types import SimpleNamespace

        self.open_subject(SimpleNamespace(id=subject_id))

    def open_inspection(self, inspection_id: str) -> None:
        from gui.inspection_editor import InspectionEditor

        editor, new = self._window(f"inspection:{inspection_id}", lambda: InspectionEditor(
            self.ctx, inspection_id, runner=self.runner, parent=self))
        if new:
            editor.changed.connect(self._refresh_timer.start)
            editor.open_requested.connect(self.open_inspection)
        editor.show()

    def import_register(self) -> None:
        """Pick the register file, preview what it holds, import from the preview dialog."""
        from gui.import_dialog import start_import

        start_import(self, self.ctx, runner=self.runner, after=self.refresh)

    def edit_settings(self) -> None:
        from gui.settings_dialog import SettingsDialog

        if SettingsDialog(self.ctx, parent=self).exec():
            self._set_title()

    def show_voided(self) -> None:
        from gui.record_actions import VoidRegisterDialog

        VoidRegisterDialog(self.ctx, runner=self.runner, parent=self).exec()

    def show_cases(self) -> None:
        from gui.case_filing import CaseFilingsDialog

        CaseFilingsDialog(self.ctx, runner=self.runner, parent=self).exec()

    def manage_users(self) -> None:
        from gui.users_dialog import UsersDialog

        UsersDialog(self.ctx, parent=self).exec()

    def show_published(self) -> None:
        from gui.published_dialog import PublishedDialog

        PublishedDialog(self.ctx, runner=self.runner, parent=self).exec()

    def open_sync(self) -> None:
        from gui.sync_panel import SyncPanel

        panel, new = self._window("sync", lambda: SyncPanel(self.ctx, runner=self.runner, parent=self))
        if new:
            panel.changed.connect(self.refresh)
        panel.show()

    def verify_document(self) -> None:
        from gui.verify_dialog import VerifyDialog

        VerifyDialog(self.ctx, parent=self).exec()

    def show_about(self) -> None:
        from gui.about_dialog import AboutDialog

        AboutDialog(self.ctx, parent=self).exec()
