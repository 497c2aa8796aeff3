"""Laptops in the sync panel through the real widgets: 登记笔记本 writes the enrolment file and shows
the code, 从文件加入所里 enrols a second database with it, the panels change without a restart; the
station's hub started and stopped from the panel; a failed connection in Chinese."""
from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QInputDialog

from core import sync
from core.context import AppContext
from core.users import add_user, log_in
from gui.jobs import ImmediateRunner
from gui.laptops import EnrolmentCodeDialog, RegisterLaptopDialog
from gui.sync_panel import SyncPanel
from tests.gui.helpers import LEFT
from tests.integration.pg import free_port
from tests.integration.test_sync import enrolled_laptop

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "station-pass-1"


def open_panel(qtbot, ctx) -> SyncPanel:
    panel = SyncPanel(ctx, runner=ImmediateRunner())
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def as_admin(ctx: AppContext, name: str = "张所长") -> AppContext:
    add_user(ctx, name=name, role="admin", password=PASSWORD)
    log_in(ctx, name, PASSWORD)
    return ctx


def column(panel: SyncPanel, col: int) -> list[str]:
    model = panel.device_model
    return [model.index(r, col).data() for r in range(model.rowCount())]


def test_register_a_laptop_by_file_and_enrol_it_from_the_file(ctx, qtbot, monkeypatch, tmp_path, type_text,
                                                              message_boxes):
    station = as_admin(ctx)
    panel = open_panel(qtbot, station)
    box = panel.device_box
    assert panel.role_label.text() == "尚未设置同步"
    assert box.isVisible() and box.title() == "设置同步" and box.enrol_button.isVisible()
    assert box.register_button.isEnabled()
    usb = tmp_path / "U盘"
    usb.mkdir()
    shown = []

    def fill(dialog: RegisterLaptopDialog) -> int:
        dialog.show()
        assert dialog.name.text() == "执法笔记本1"
        save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
        qtbot.mouseClick(save, LEFT)
        assert dialog.message.text() == "请选择保存登记文件的U盘或文件夹"  # nothing registered yet
        assert sync.list_devices(station) == []
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(usb))
        qtbot.mouseClick(dialog.choose_button, LEFT)
        dialog.name.clear()
        type_text(dialog.name, "王建国的笔记本")
        qtbot.mouseClick(save, LEFT)
        return dialog.result()

    def look(dialog: EnrolmentCodeDialog) -> int:
        dialog.show()
        shown.append(dialog.code.text())
        return 0

    monkeypatch.setattr(RegisterLaptopDialog, "exec", fill)
    monkeypatch.setattr(EnrolmentCodeDialog, "exec", look)
    with qtbot.waitSignal(panel.changed):
        qtbot.mouseClick(box.register_button, LEFT)
    [code] = shown
    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", code)
    [enrolment] = list(usb.iterdir())
    assert enrolment.name == "登记文件-王建国的笔记本.json" and code not in enrolment.read_text(encoding="utf-8")
    # the open panel is now the station's, without a restart
    assert "所里的电脑" in panel.role_label.text() and panel.peers_label.text() == "王建国的笔记本"
    assert box.title() == "登记的笔记本" and not box.enrol_button.isVisible() and box.hub_button.isVisible()
    assert column(panel, 1) == ["王建国的笔记本"] and column(panel, 3) == ["从未"]
    assert panel.result_label.text().startswith("已登记笔记本“王建国的笔记本”（设备号 1），登记文件：")
    assert panel.export_button.isEnabled()

    # the laptop: a fresh database whose first user is its admin
    laptop = as_admin(AppContext.open(tmp_path / "laptop" / "laptop.db"), "王建国")
    laptop_panel = open_panel(qtbot, laptop)
    assert not laptop_panel.export_button.isEnabled()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(enrolment), "登记文件 (*.json)"))
    codes = iter(["1234-5678-9012", code])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (next(codes), True))
    qtbot.mouseClick(laptop_panel.device_box.enrol_button, LEFT)
    assert message_boxes.texts("warning") == ["登记码不正确（或登记文件已被改动）"]
    assert laptop_panel.role_label.text() == "尚未设置同步"  # nothing changed
    with qtbot.waitSignal(laptop_panel.changed):
        qtbot.mouseClick(laptop_panel.device_box.enrol_button, LEFT)
    assert laptop_panel.role_label.text() == "执法笔记本　王建国的笔记本"
    assert laptop_panel.result_label.text() == "已加入 " + station.setting("station_name") + \
        "：本机为“王建国的笔记本”（设备号 1），现在可以与所里同步"
    assert not laptop_panel.device_box.isVisible() and laptop_panel.export_button.isEnabled()
    assert laptop_panel.hub_button.isEnabled()

    # its first package reaches the station: the list shows the laptop's last sync
    out = tmp_path / "up"
    out.mkdir()
    [package] = sync.export_packages(laptop, out)
    sync.import_package(station, package)
    qtbot.mouseClick(panel.refresh_button, LEFT)
    assert re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d", column(panel, 3)[0])
    laptop.close()


def test_a_registration_on_the_command_line_shows_after_refresh(ctx, qtbot, tmp_path, capsys):
    import main

    panel = open_panel(qtbot, as_admin(ctx))
    assert panel.role_label.text() == "尚未设置同步"
    assert main.main(["devices", "add", "--db", str(tmp_path / "station.db"), "--name", "笔记本9",
                      "--out", str(tmp_path / "e.json")]) == 0
    assert "已登记 笔记本9" in capsys.readouterr().out
    qtbot.mouseClick(panel.refresh_button, LEFT)
    assert "所里的电脑" in panel.role_label.text() and column(panel, 1) == ["笔记本9"]


def test_an_inspector_cannot_register_or_run_the_hub(ctx, qtbot, tmp_path):
    enrolled_laptop(ctx, tmp_path, "笔记本1")[0].close()
    add_user(ctx, name="王建国", role="inspector", password=PASSWORD, cert_no="41170021001")
    log_in(ctx, "王建国", PASSWORD)
    box = open_panel(qtbot, ctx).device_box
    assert not box.register_button.isEnabled() and not box.hub_button.isEnabled()
    assert box.hub_button.toolTip() == "仅站所管理员可以设置同步"


def wait_for_hub(qtbot, box, ready=True) -> None:
    qtbot.waitUntil(lambda: box.hub.ready is ready and (ready or not box.hub.running), timeout=60000)


def test_the_station_runs_its_hub_from_the_panel(ctx, qtbot, monkeypatch, tmp_path):
    station = as_admin(ctx)
    laptop, _ = enrolled_laptop(station, tmp_path, "笔记本1")
    panel = open_panel(qtbot, station)
    box = panel.device_box
    box.hub_host, box.hub_port = "127.0.0.1", free_port()
    url = f"http://127.0.0.1:{box.hub_port}"
    assert box.hub_button.text() == "开启同步服务(&S)" and box.hub_label.text().startswith("同步服务未开启。")
    laptop_panel = open_panel(qtbot, laptop)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (url, True))
    try:
        qtbot.mouseClick(box.hub_button, LEFT)
        wait_for_hub(qtbot, box)
        assert box.hub_label.text() == f"同步服务已开启。笔记本在“与所里同步”中填写地址：{url}"
        assert box.hub_button.text() == "停止同步服务(&S)"
        qtbot.waitUntil(lambda: _listening(box.hub_port), timeout=30000)
        qtbot.mouseClick(laptop_panel.hub_button, LEFT)
        assert laptop_panel.result_label.text().startswith("已与所里同步：上传 1 个同步包"), \
            laptop_panel.result_label.text()
    finally:
        qtbot.mouseClick(box.hub_button, LEFT)  # 停止同步服务
        wait_for_hub(qtbot, box, ready=False)
    assert box.hub_button.text() == "开启同步服务(&S)" and not _listening(box.hub_port)

    qtbot.mouseClick(laptop_panel.hub_button, LEFT)
    text = laptop_panel.result_label.text()
    assert text.startswith(f"与所里同步失败：无法连接到所里的同步服务（地址 {url}）：对方未开启或网络不通"), text
    assert "Errno" not in text and "refused" not in text and "sync export" not in text
    laptop.close()


def test_a_hub_that_cannot_start_says_why_in_chinese(ctx, qtbot, tmp_path):
    station = as_admin(ctx)
    enrolled_laptop(station, tmp_path, "笔记本1")[0].close()
    box = open_panel(qtbot, station).device_box
    with socket.create_server(("127.0.0.1", 0)) as taken:
        box.hub_host, box.hub_port = "127.0.0.1", taken.getsockname()[1]
        qtbot.mouseClick(box.hub_button, LEFT)
        qtbot.waitUntil(lambda: not box.hub.running, timeout=60000)
    assert box.hub_label.text() == (f"同步服务未开启：无法在 127.0.0.1:{box.hub_port} 开启同步服务："
                                    "端口已被占用（同步服务可能已在运行）或地址不属于本机")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_no_command_names_inside_the_gui():
    sources = sorted((ROOT / "gui").glob("*.py"))
    assert len(sources) > 20
    offending = [p.name for p in sources
                 if re.search(r"main\.py|devices (add|enrol)|(?<![.\w])sync (export|import)", p.read_text(encoding="utf-8"))]
    assert offending == []


def test_a_fresh_laptop_joins_before_anyone_logs_in_then_the_inspector_logs_in(ctx, qtbot, monkeypatch, tmp_path,
                                                                               type_text):
    """On a laptop's first start: 从所里的登记文件加入, the station's first package from the stick, then the
    inspector the station added logs in with the password set at the station — no local admin needed."""
    from gui.app import Session
    from gui.join_station import JoinStationDialog
    from gui.login_dialog import LoginDialog
    from gui.main_window import MainWindow

    station = ctx
    add_user(station, name="张所长", role="admin", password=PASSWORD)
    add_user(station, name="王建国", role="inspector", password="inspector-1", cert_no="41170021001")
    enrolment = sync.add_device(station, "执法笔记本1", tmp_path / "登记文件.json")
    usb = tmp_path / "usb"
    usb.mkdir()
    [package] = sync.export_packages(station, usb)
    laptop = AppContext.open(tmp_path / "laptop" / "laptop.db")
    seen = []

    def join(dialog: JoinStationDialog) -> int:
        dialog.show()
        assert not dialog.import_button.isEnabled()  # first the enrolment
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tmp_path / "登记文件.json"), ""))
        qtbot.mouseClick(dialog.choose_button, LEFT)
        qtbot.keyClicks(dialog.code, "0000-0000-0000")
        qtbot.mouseClick(dialog.join_button, LEFT)
        seen.append(dialog.message.text())
        dialog.code.clear()
        qtbot.keyClicks(dialog.code, enrolment["enrolment_code"])
        qtbot.mouseClick(dialog.join_button, LEFT)
        seen.append(dialog.status.text())
        go = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert dialog.import_button.isEnabled() and not go.isEnabled()  # nobody can log in yet
        monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(package)], ""))
        qtbot.mouseClick(dialog.import_button, LEFT)  # on a worker thread, with its progress dialog
        qtbot.waitUntil(lambda: dialog.status.text().startswith("已导入") or dialog.message.text() != "", timeout=30000)
        seen.append(dialog.status.text() or dialog.message.text())
        assert go.isEnabled()
        qtbot.mouseClick(go, LEFT)
        return dialog.result()

    def log_in_dialog(dialog: LoginDialog) -> int:
        dialog.show()
        if dialog.join_button.isVisible():
            assert dialog.first_run  # a fresh database: create the admin, or join the station
            qtbot.mouseClick(dialog.join_button, LEFT)
            return dialog.result()
        assert not dialog.first_run and "演示" not in dialog.windowTitle()
        type_text(dialog.name, "王建国")
        qtbot.keyClicks(dialog.password, "inspector-1")
        qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok), LEFT)
        return dialog.result()

    monkeypatch.setattr(JoinStationDialog, "exec", join)
    monkeypatch.setattr(LoginDialog, "exec", log_in_dialog)
    session = Session(laptop)
    assert session.log_in()
    qtbot.addWidget(session.window)
    assert seen[0] == "登记码不正确（或登记文件已被改动）"
    assert seen[1].startswith("已加入 ") and "“执法笔记本1”（设备号 1）" in seen[1]
    assert seen[2].startswith("已导入 1 个同步包：更新 "), seen[2]
    assert isinstance(session.window, MainWindow) and laptop.user.name == "王建国"
    assert sync.role(laptop) == "device"
    laptop.close()
