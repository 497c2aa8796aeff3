"""Start the GUI: Qt application, bundled CJK font, Chinese Qt dialogs, the error log, the database."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, Qt, QTimer, QTranslator
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from core.paths import cjk_font_path, default_db_path, icon_path, user_data_dir
from core.version import app_banner, app_version


def setup_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with the bundled font and Qt's own Chinese translations."""
    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("药械化现场检查")
    app.setApplicationVersion(app_version())
    app.setDesktopFileName("yaoxiehua-inspect")  # the .deb's menu entry: the window groups under its icon
    app.setWindowIcon(QIcon(str(icon_path())))
    # dates, calendars (Monday first, 十二月) and Qt's own dialogs in Chinese whatever the system locale
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    if sys.platform != "win32":
        # a Linux desktop's native (GTK/portal) file dialog follows the system language, not
        # ours; Qt's own dialog speaks Chinese through the translation loaded below
        app.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs)
    font_id = QFontDatabase.addApplicationFont(str(cjk_font_path()))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if families:
        app.setFont(QFont(families[0], 10))
    translator = QTranslator(app)
    if translator.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_",
                       QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(translator)
    return app


def _announce_shown(dialog) -> None:
    """Log that a log-in window is on screen (the bundle's start-up check reads this line)."""
    from gui.crash import logger

    QTimer.singleShot(0, lambda: logger.info("log-in window shown: %s", dialog.windowTitle()))


def run(db: str | None) -> int:
    from core.dbkeys import KeyRequired
    from core.demo import create_demo, demo_needed
    from core.errors import DomainError
    from gui import crash
    from gui.startup import open_context

    from core.servers import is_server, open_server, without_password

    app = setup_application()
    crash.install(user_data_dir() / "logs")  # a windowed build has no console: tracebacks go to the log
    server = is_server(db)  # the console: a county's PostgreSQL (--db postgresql+psycopg://…)
    path = db if server else Path(db or default_db_path())
    crash.logger.info("start: %s, database %s", app_banner(), without_password(path))
    # the first run on the default database makes the demo laptop, encrypted like any laptop's
    first_run = db is None and not path.exists()
    try:
        try:  # the first start after an upgrade: behind a progress dialog
            ctx = open_server(db) if server else open_context(path, encrypt=True if first_run else None)
        except KeyRequired:  # encrypted: the log-in unwraps its key before it opens
            from gui.unlock_dialog import UnlockDialog

            dialog = UnlockDialog(path)
            _announce_shown(dialog)
            if not dialog.exec():
                return 0
            ctx = dialog.ctx
        if db is None and ctx.encrypted_file is not None and demo_needed(ctx):  # (not a county's server)
            create_demo(ctx)  # first run on the default database: a demo station to try
    except DomainError as exc:
        QMessageBox.critical(None, app.tr("无法打开数据库"), exc.message)
        return 2
    session = Session(ctx)
    if not session.log_in():
        return 0
    start_background_work(session.ctx)  # (the county's, when the log-in connected to its server)
    return app.exec()


class Session:
    """Who is logged in, and their window: log-out returns to the log-in dialog without quitting.

    The window is built anew for the next user's role (an admin's main window, a grid
    worker's own); cancelling the log-in dialog then quits.
    """

    def __init__(self, ctx, runner=None):
        self.ctx = ctx
        self.window = None
        self.runner = runner  # None: a JobRunner (tests pass ImmediateRunner)

    def log_in(self) -> bool:
        from gui.leads_view import GridWorkerWindow
        from gui.login_dialog import LoginDialog
        from gui.main_window import MainWindow

        from core.unlock import needs_encryption

        if self.ctx.user is None:  # (an encrypted database's log-in came before it opened)
            result = LoginDialog.RELOAD
            while result in (LoginDialog.RELOAD, LoginDialog.SERVER):  # joined the station: a laptop's log-in
                dialog = LoginDialog(self.ctx)
                _announce_shown(dialog)
                result = dialog.exec()
                if result == LoginDialog.SERVER:  # 连接到县局服务器…: the county's log-in now
                    self.ctx.close()
                    self.ctx = dialog.server_ctx
            if not result:
                return False
            if needs_encryption(self.ctx):  # a plain laptop database: encrypted at this log-in
                from gui.unlock_dialog import encrypt_after_log_in

                encrypt_after_log_in(self.ctx, dialog.name.text().strip(), dialog.password.text(), self.runner)
        self.window = GridWorkerWindow(self.ctx) if self.ctx.user.role == "grid_worker" else MainWindow(self.ctx)
        self.window.log_out_requested.connect(self.switch_user)
        self.window.show()
        return True

    def switch_user(self) -> None:
        from core.users import log_out

        app = QApplication.instance()
        window, self.window = self.window, None
        quits = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)  # closing the window must not end the application here
        try:
            if window is not None:
                window.close()
                window.deleteLater()  # its open pages and editors go with it (they save as they go)
            log_out(self.ctx)
            logged_in = self.log_in()
        finally:
            app.setQuitOnLastWindowClosed(quits)
        if not logged_in:
            app.quit()


def start_background_work(ctx) -> None:
    """After the window shows: the daily backup and loading the printing code, off the UI thread.

    Neither touches a widget; a failed backup is retried at the next start.
    """
    import threading

    from core.backup import backup_if_due
    from core.errors import DomainError
    from core.printing import warm_up

    def backup() -> None:
        if ctx.engine.dialect.name == "sqlite":
            try:
                backup_if_due(Path(ctx.engine.url.database))
            except DomainError:
                pass

    for job in (warm_up, backup):
        threading.Thread(target=job, daemon=True).start()
