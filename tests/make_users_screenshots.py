"""Render docs/screenshots/users-*.png: user management, log-out, laptops and the hub in the sync panel.

    .venv/bin/python tests/make_users_screenshots.py

From a fresh demo station, offscreen, each window at most 1366×768 (the laptop screen the
station's users have). The hub is really started (on the loopback) for the station's panel.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"

from tests.support.screens import LAPTOP_SCREEN, save_window  # noqa: E402


def save(app, widget, name: str) -> None:
    save_window(app, widget, OUT / f"users-{name}.png")


def main() -> None:
    from core import sync
    from core.context import AppContext
    from core.demo import DEMO_ADMIN, DEMO_PASSWORD, OFFICERS, create_demo
    from core.sync.devices import new_enrolment_code
    from core.users import MAX_FAILURES, LoginFailed, list_users, log_in, set_active
    from gui.app import setup_application
    from gui.jobs import ImmediateRunner
    from gui.laptops import EnrolmentCodeDialog, RegisterLaptopDialog
    from gui.main_window import MainWindow
    from gui.sync_panel import SyncPanel
    from gui.users_dialog import UserForm, UsersDialog

    app = setup_application([])
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ctx = AppContext.open(tmp / "station.db")
        create_demo(ctx)
        for _ in range(MAX_FAILURES):  # an officer who forgot the password: locked
            try:
                log_in(ctx, OFFICERS[1].name, "wrong-password")
            except LoginFailed:
                pass
        log_in(ctx, DEMO_ADMIN, DEMO_PASSWORD)
        grid_workers = [u for u in list_users(ctx) if u.role == "grid_worker"]
        set_active(ctx, grid_workers[-1].id, False)  # someone who left

        window = MainWindow(ctx, runner=ImmediateRunner())
        window.resize(*LAPTOP_SCREEN)
        save(app, window, "main-window")

        users = UsersDialog(ctx, parent=window)
        users.status.setText("已停用 " + grid_workers[-1].name)
        save(app, users, "user-list")
        form = UserForm(ctx, parent=users)
        form.name.setText("赵敏")
        form.role.setCurrentIndex(form.role.findData("grid_worker"))
        form.grid.setText("西园社区")
        form.password.setText("secret-1")
        form.repeat.setText("secret-1")
        save(app, form, "add-user")
        form.close()
        users.close()

        # a machine not yet set up: the two ways to set up sync
        fresh = AppContext.open(tmp / "fresh.db")
        from gui.join_station import JoinStationDialog
        from gui.login_dialog import LoginDialog

        login = LoginDialog(fresh)
        save(app, login, "login-first-run")
        login.close()
        joining = AppContext.open(tmp / "joining.db")
        enrol_file = tmp / "登记文件-执法笔记本3.json"
        enrolment = sync.add_device(ctx, "执法笔记本3", enrol_file)
        join = JoinStationDialog(joining)
        join.file.setText(str(enrol_file))
        join.code.setText(enrolment["enrolment_code"])
        join.join_button.click()
        save(app, join, "join-station")
        join.close()
        joining.close()
        fresh_panel = SyncPanel(fresh, runner=ImmediateRunner())
        save(app, fresh_panel, "sync-not-set-up")
        fresh_panel.close()

        register = RegisterLaptopDialog(ctx)
        register.folder.setText("/media/U盘")
        save(app, register, "register-laptop")
        register.close()
        code = EnrolmentCodeDialog("执法笔记本1", 1, Path("/media/U盘/登记文件-执法笔记本1.json"),
                                   new_enrolment_code())
        save(app, code, "enrolment-code")
        code.close()

        # the station: two laptops, one has sent its work; the hub running
        laptops = []
        for name in ("执法笔记本1", "执法笔记本2"):
            laptop = AppContext.open(tmp / f"{name}.db")
            sync.enrol_device(laptop, sync.add_device(ctx, name))
            laptops.append(laptop)
        up = tmp / "up"
        up.mkdir()
        for path in sync.export_packages(laptops[0], up):
            sync.import_package(ctx, path)
        panel = SyncPanel(ctx, runner=ImmediateRunner(), parent=window)
        panel.device_box.hub_host = "127.0.0.1"
        panel.show()
        panel.device_box.hub_button.click()
        deadline = time.monotonic() + 60
        while not panel.device_box.hub.ready and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.05)
        panel.device_view.selectRow(0)
        save(app, panel, "sync-station")
        panel.device_box.hub.stop()

        # a laptop whose station hub is not running: the real failure, in Chinese
        from PySide6.QtWidgets import QInputDialog

        from tests.integration.pg import free_port

        QInputDialog.getText = staticmethod(lambda *a, **k: (f"http://127.0.0.1:{free_port()}", True))
        laptop_panel = SyncPanel(laptops[0], runner=ImmediateRunner())
        laptop_panel.hub_button.click()
        save(app, laptop_panel, "sync-laptop-offline")
        for context in (*laptops, fresh, ctx):
            context.close()
        window.close()


if __name__ == "__main__":
    main()
