"""Render the console (docs/screenshots/console-*.png): the log-in's 连接到县局服务器…, the register and
the inspection list of a county's PostgreSQL database filtered to one station, and the subject
page's 删除… with its confirmation.

    .venv/bin/python tests/make_console_screenshots.py

Starts a throw-away PostgreSQL (tests/integration/pg.py) with the three stations of the statistics
tests; a test service key is made for the encrypted SQLite database of the confirmation's shot.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"


def _show(widget, w: int, h: int):
    from PySide6.QtWidgets import QApplication

    widget.resize(w, h)
    widget.show()
    for _ in range(5):
        QApplication.processEvents()
    return widget


def main() -> int:
    from gui.app import setup_application

    app = setup_application([])
    work = Path(tempfile.mkdtemp(prefix="console-shots-"))
    key = work / "service.key"
    key.write_bytes(os.urandom(32))
    os.environ["YXJC_SERVICE_KEY_FILE"] = str(key)
    from tests.integration import pg

    server = pg.PgServer(pg.find_bin())
    server.start()
    try:
        from core.context import AppContext
        from gui.jobs import ImmediateRunner
        from gui.main_window import MainWindow
        from gui.server_dialog import ServerDialog
        from tests.integration.test_stats_stations import _fill

        url = server.create_database()
        ctx = AppContext.open(url)
        _fill(ctx)
        dialog = _show(ServerDialog(), 480, 300)
        dialog.host.setText("192.168.10.5")
        dialog.database.setText("county")
        dialog.user.setText("yxjc")
        dialog.password.setText("password")
        dialog.grab().save(str(OUT / "console-connect.png"))
        window = _show(MainWindow(ctx, runner=ImmediateRunner()), 1200, 620)
        window.subject_list.station.setCurrentIndex(window.subject_list.station.findData("乙所"))
        app.processEvents()
        window.grab().save(str(OUT / "console-subjects-by-station.png"))
        window.tabs.setCurrentWidget(window.inspection_list)
        window.inspection_list.station.setCurrentIndex(window.inspection_list.station.findData("乙所"))
        app.processEvents()
        window.grab().save(str(OUT / "console-inspections-by-station.png"))
        window.close()
        ctx.close()

        from PySide6.QtWidgets import QMessageBox

        from core.subjects import SubjectData, add_subject
        from gui.subject_page import SubjectPage

        station = AppContext.open(work / "station.db")
        mistaken = add_subject(station, SubjectData(name="重复录入的美妆店", category="cosmetics_operator",
                                                    address="示例县城关镇人民路 12 号", grid="城关社区"))
        page = _show(SubjectPage(station, mistaken.id, open_inspection=lambda _id: None), 900, 600)
        page.grab().save(str(OUT / "console-subject-delete.png"))
        shown = []
        QMessageBox.question = lambda parent, title, text, *a: shown.append((title, text)) or QMessageBox.StandardButton.No
        page.delete()
        box = QMessageBox(QMessageBox.Icon.Question, shown[0][0], shown[0][1],
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        _show(box, 460, 200).grab().save(str(OUT / "console-subject-delete-confirm.png"))
        page.close()
        station.close()
    finally:
        server.stop()
    print("\n".join(str(p) for p in sorted(OUT.glob("console-*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
