"""Render docs/screenshots/ship-*.png: 关于, the first start's upgrade dialog, the main window's toolbar.

    .venv/bin/python tests/make_ship_screenshots.py

Offscreen, from a fresh demo station (关于, the toolbar) and a database an older build left
(the upgrade dialog, caught half-way: a real migration, paused at its third step).
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"


def settle(app, widget) -> None:
    widget.show()
    for _ in range(5):
        app.processEvents()


def main() -> None:
    from PySide6.QtCore import QTimer

    from core.context import AppContext
    from core.demo import DEMO_ADMIN, DEMO_PASSWORD, create_demo
    from core.users import log_in
    from gui import startup
    from gui.about_dialog import AboutDialog
    from gui.app import setup_application
    from gui.jobs import ImmediateRunner
    from gui.main_window import MainWindow
    from tests.gui.test_upgrade_start import _old_station

    app = setup_application([])
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ctx = AppContext.open(tmp / "station.db")
        create_demo(ctx)
        log_in(ctx, DEMO_ADMIN, DEMO_PASSWORD)
        window = MainWindow(ctx, runner=ImmediateRunner())
        settle(app, window)
        window.findChildren(type(window.addToolBar("x")))[0].grab().save(str(OUT / "ship-toolbar.png"))
        about = AboutDialog(ctx, parent=window)
        settle(app, about)
        about.grab().save(str(OUT / "ship-about.png"))
        about.close()
        window.close()
        ctx.close()

        old = _old_station(tmp / "old.db")
        gate, grabbed = threading.Event(), threading.Event()
        real_open = AppContext.open

        def slow_open(db, **kwargs):  # pause the real migration at its third step for the picture
            progress = kwargs.pop("progress")

            def step(revision):
                progress(revision)
                if not gate.is_set() and revision == startup.pending_upgrades(old)[2]:
                    gate.set()
                    grabbed.wait(30)

            return real_open(db, progress=step, **kwargs)

        def grab() -> None:
            if not gate.is_set():
                QTimer.singleShot(50, grab)
                return
            for _ in range(5):
                app.processEvents()
            dialog = next(w for w in app.topLevelWidgets() if isinstance(w, startup.UpgradeDialog) and w.isVisible())
            dialog.grab().save(str(OUT / "ship-upgrade.png"))
            grabbed.set()

        startup.AppContext.open = slow_open
        QTimer.singleShot(50, grab)
        upgraded = startup.open_context(old)
        startup.AppContext.open = real_open
        upgraded.close()
    print("written:", *sorted(p.name for p in OUT.glob("ship-*.png")))


if __name__ == "__main__":
    main()
