"""The sync panel: export and import through its buttons, and resolving a conflict."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox
from sqlalchemy import select

from core import inspections as svc
from core.errors import InvalidInput
from core.users import add_user
from db.models import Subject, SyncConflict
from gui.jobs import ImmediateRunner
from gui.sync_panel import SyncPanel
from tests.gui.helpers import LEFT, open_main_window
from tests.integration.helpers import register_officers
from tests.integration.test_sync import enrolled_laptop, inspect_offline
from tests.integration.test_sync_status import signed_record_conflict, two_laptop_conflict


def open_panel(qtbot, ctx) -> SyncPanel:
    panel = SyncPanel(ctx, runner=ImmediateRunner())
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def choose_folder(monkeypatch, folder) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))


def choose_files(monkeypatch, *paths) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(p) for p in paths], "同步包 (*.zip)"))


def test_export_and_import_through_the_buttons(ctx, subject, officers, qtbot, monkeypatch, tmp_path):
    station = ctx
    register_officers(station)  # signed inspections are accepted from officers on the station's list
    laptop, _ = enrolled_laptop(station, tmp_path, "笔记本1")
    # the station's side: opened from the main window's toolbar action
    window = open_main_window(qtbot, station)
    window.sync_action.trigger()
    station_panel = window._windows["sync"]
    assert station_panel.isVisible() and "所里的电脑" in station_panel.role_label.text()
    assert station_panel.peers_label.text() == "笔记本1"
    usb = tmp_path / "usb"
    usb.mkdir()
    choose_folder(monkeypatch, usb)
    qtbot.mouseClick(station_panel.export_button, LEFT)
    [package] = list(usb.glob("*.zip"))
    assert station_panel.result_label.text().startswith("已导出 1 个同步包到 ")
    assert package.name in station_panel.result_label.text()
    assert "发往 笔记本1" in station_panel.last_export_label.text()

    # the laptop's side
    panel = open_panel(qtbot, laptop)
    assert panel.last_import_label.text() == "从未"
    choose_files(monkeypatch, package)
    qtbot.mouseClick(panel.import_button, LEFT)
    text = panel.result_label.text()
    assert text.startswith("已导入 1 个同步包：更新 ") and "冲突 0 条" in text, text
    with laptop.sessions() as s:
        assert s.scalar(select(Subject.name).where(Subject.id == subject.id)) == subject.name
    assert "来自 " in panel.last_import_label.text()
    assert text in panel.last_result_label.text()

    qtbot.mouseClick(panel.import_button, LEFT)
    assert panel.result_label.text() == "已导入 1 个同步包：均已导入过，未作任何更改"

    broken = tmp_path / "broken.zip"
    broken.write_bytes(package.read_bytes()[:100])
    choose_files(monkeypatch, broken)
    qtbot.mouseClick(panel.import_button, LEFT)
    assert panel.result_label.text().startswith("未导入：同步包 broken.zip 已损坏或不完整")

    # work done offline is counted, exported by the laptop and imported at the station
    inspection_id = inspect_offline(laptop, subject.id, officers, tmp_path)
    qtbot.mouseClick(panel.refresh_button, LEFT)
    pending = {panel.pending_model.index(r, 0).data(): panel.pending_model.index(r, 1).data()
               for r in range(panel.pending_model.rowCount())}
    assert pending["检查记录"] == "1" and "签名" in pending
    assert panel.pending_label.text().startswith("下次导出将发送 ")
    up = tmp_path / "up"
    up.mkdir()
    choose_folder(monkeypatch, up)
    qtbot.mouseClick(panel.export_button, LEFT)
    [from_laptop] = list(up.glob("*.zip"))
    choose_files(monkeypatch, from_laptop)
    qtbot.mouseClick(station_panel.import_button, LEFT)
    assert "冲突 0 条" in station_panel.result_label.text()
    assert svc.load_inspection(station, inspection_id).status == "signed"
    window.close()
    laptop.close()


def test_not_set_up_for_sync(ctx, qtbot):
    panel = open_panel(qtbot, ctx)
    assert panel.role_label.text() == "尚未设置同步"
    for button in (panel.export_button, panel.import_button, panel.hub_button):
        assert not button.isEnabled()
    assert "尚未设置同步" in panel.export_button.toolTip()


def test_sync_with_the_station_through_the_hub(ctx, qtbot, monkeypatch, tmp_path):
    """The laptop's "与所里同步": push then pull through core.sync.client, the address remembered."""
    from core.sync import client as sync_client

    laptop, _ = enrolled_laptop(ctx, tmp_path, "笔记本1")
    calls = []

    def push(context, url):
        calls.append(("push", url))
        return sync_client.HubSummary(packages=1, applied=5)

    def pull(context, url):
        calls.append(("pull", url))
        return sync_client.HubSummary(packages=2, applied=7, unchanged=1, conflicts=1)

    monkeypatch.setattr(sync_client, "push", push)
    monkeypatch.setattr(sync_client, "pull", pull)
    asked = []

    def get_text(_parent, _title, _label, *args, text="", **kwargs):
        asked.append(text)
        return "http://10.0.0.5:8765", True

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    panel = open_panel(qtbot, laptop)
    assert panel.hub_button.isEnabled()
    with qtbot.waitSignal(panel.changed):
        qtbot.mouseClick(panel.hub_button, LEFT)
    assert calls == [("push", "http://10.0.0.5:8765"), ("pull", "http://10.0.0.5:8765")]
    assert panel.result_label.text() == ("已与所里同步：上传 1 个同步包（所里更新 5 条，冲突 0 条）；"
                                         "下载 2 个同步包：更新 7 条，未变 1 条，冲突 1 条（请在下方“同步冲突”中处理）")
    qtbot.mouseClick(panel.hub_button, LEFT)
    assert asked == ["http://192.168.1.10:8765", "http://10.0.0.5:8765"]  # the address is remembered

    def offline(context, url):
        raise InvalidInput("无法连接到所里的同步服务（地址 http://10.0.0.5:8765）：对方未开启或网络不通")

    monkeypatch.setattr(sync_client, "push", offline)
    qtbot.mouseClick(panel.hub_button, LEFT)
    assert panel.result_label.text().startswith("与所里同步失败：无法连接到所里的同步服务")
    # the station runs the hub: its panel does not offer the button
    station_panel = open_panel(qtbot, ctx)
    assert not station_panel.hub_button.isEnabled() and "开启同步服务" in station_panel.hub_button.toolTip()
    assert "main.py" not in station_panel.hub_button.toolTip()  # no command names inside the GUI
    laptop.close()


@pytest.mark.parametrize("choice, findings", [("remote", "B：未发现问题"), ("local", "A：现场发现过期产品")])
def test_conflict_resolved_by_the_buttons(ctx, subject, officers, qtbot, tmp_path, message_boxes, choice, findings):
    station = ctx
    draft, laptop_a, laptop_b = two_laptop_conflict(station, subject, officers, tmp_path)
    panel = open_panel(qtbot, station)
    assert panel.conflict_model.rowCount() == 1
    assert panel.conflict_box.title() == "同步冲突（1 条待处理）"
    assert panel.conflict_model.index(0, 2).data() == "笔记本B"
    assert "检查情况" in panel.conflict_model.index(0, 4).data()
    rows = {panel.diff_model.index(r, 0).data(): r for r in range(panel.diff_model.rowCount())}
    row = rows["检查情况"]
    assert panel.diff_model.index(row, 1).data() == "A：现场发现过期产品"
    assert panel.diff_model.index(row, 2).data() == "B：未发现问题"
    assert panel.diff_model.index(row, 1).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert panel.diff_model.index(rows["文书编号"], 1).data(Qt.ItemDataRole.BackgroundRole) is None

    message_boxes.answer = QMessageBox.StandardButton.No
    qtbot.mouseClick(panel.take_button if choice == "remote" else panel.keep_button, LEFT)
    assert panel.conflict_model.rowCount() == 1  # declined: nothing changed

    message_boxes.answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(panel.changed):
        qtbot.mouseClick(panel.take_button if choice == "remote" else panel.keep_button, LEFT)
    assert svc.load_inspection(station, draft).findings == findings
    with station.sessions() as s:
        assert s.scalars(select(SyncConflict)).one().resolved_at is not None
    assert panel.conflict_model.rowCount() == 0 and panel.diff_model.rowCount() == 0
    assert panel.conflict_box.title() == "同步冲突（0 条待处理）"
    assert not panel.take_button.isEnabled()
    assert ("已采用 笔记本B 的版本" if choice == "remote" else "已保留本机版本") in panel.result_label.text()
    panel.show_resolved.setChecked(True)  # the resolved conflict, with who resolved it and when
    assert panel.conflict_model.rowCount() == 1 and panel.conflict_model.index(0, 5).data().endswith(" 系统")
    assert panel.conflict_box.title() == "同步冲突（0 条待处理）" and panel.diff_model.rowCount() > 0
    assert not panel.take_button.isEnabled() and not panel.keep_button.isEnabled()
    laptop_a.close()
    laptop_b.close()


def test_only_the_admin_gets_the_resolution_buttons(ctx, subject, officers, qtbot, tmp_path):
    _draft, laptop_a, laptop_b = two_laptop_conflict(ctx, subject, officers, tmp_path)
    ctx.user = add_user(ctx, name="管理员", role="admin", password="secret1")
    ctx.user = add_user(ctx, name="王建国", role="inspector", password="secret1", cert_no="41170029999")
    panel = open_panel(qtbot, ctx)
    assert panel.conflict_model.rowCount() == 1  # sees the conflict and can sync
    assert panel.export_button.isEnabled()
    assert not panel.take_button.isEnabled() and not panel.keep_button.isEnabled()
    assert "仅站所管理员" in panel.take_button.toolTip()
    ctx.user = None
    laptop_a.close()
    laptop_b.close()


def test_panel_models_pass_the_model_tester(ctx, subject, officers, qtbot, qtmodeltester, tmp_path):
    _draft, laptop_a, laptop_b = two_laptop_conflict(ctx, subject, officers, tmp_path)
    svc.update_details(ctx, _draft, place="所里补充的地点")  # something pending at the station
    panel = open_panel(qtbot, ctx)
    assert panel.pending_model.rowCount() > 0 and panel.diff_model.rowCount() > 0
    for model in (panel.pending_model, panel.conflict_model, panel.diff_model):
        qtmodeltester.check(model)
    laptop_a.close()
    laptop_b.close()


def test_sync_with_a_real_hub(qtbot, monkeypatch, tmp_path):
    """The button against ``main.py hub`` in a subprocess: master data comes down, the result is one line."""
    from core.subjects import SubjectData, add_subject
    from tests.integration.test_hub import HubProcess, Station, laptop_of

    station = Station(str(tmp_path / "station.db"), tmp_path / "hub-data")
    add_subject(station.ctx, SubjectData(
        name="驿城区测试化妆品店", category="cosmetics_operator", credit_code="91350100M000100Y43",
        legal_rep="张三", address="驻马店市驿城区测试路1号", phone="13800000000", grid="测试社区"))
    laptop, _ = laptop_of(station, tmp_path)
    hub = HubProcess(station)
    try:
        monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (hub.url, True))
        panel = open_panel(qtbot, laptop)
        qtbot.mouseClick(panel.hub_button, LEFT)
        text = panel.result_label.text()
        assert text.startswith("已与所里同步：上传 1 个同步包") and "下载 1 个同步包：更新 " in text, text
        with laptop.sessions() as s:
            assert s.scalar(select(Subject.name)) == "驿城区测试化妆品店"
        assert "来自 " in panel.last_import_label.text() and "发往 " in panel.last_export_label.text()
    finally:
        hub.stop()
        laptop.close()
        station.ctx.close()


def test_export_runs_in_the_background_with_the_real_runner(ctx, qtbot, monkeypatch, tmp_path):
    from gui.jobs import JobRunner

    laptop, _ = enrolled_laptop(ctx, tmp_path, "笔记本1")
    panel = SyncPanel(laptop, runner=JobRunner())
    qtbot.addWidget(panel)
    panel.show()
    usb = tmp_path / "usb"
    usb.mkdir()
    choose_folder(monkeypatch, usb)
    qtbot.mouseClick(panel.export_button, LEFT)
    qtbot.waitUntil(lambda: panel.result_label.text().startswith("已导出 1 个同步包"), timeout=20000)
    assert len(list(usb.glob("*.zip"))) == 1
    laptop.close()


def test_taking_the_remote_version_of_a_signed_record_is_refused(ctx, subject, officers, qtbot, message_boxes,
                                                                  tmp_path):
    draft, laptop = signed_record_conflict(ctx, subject, officers, tmp_path)
    panel = open_panel(qtbot, ctx)
    row = next(r for r in range(panel.conflict_model.rowCount())
               if panel.conflict_model.row_at(r).table == "inspections")
    panel.conflict_view.selectRow(row)
    message_boxes.answer = QMessageBox.StandardButton.Yes
    qtbot.mouseClick(panel.take_button, LEFT)
    [warning] = message_boxes.texts("warning")
    assert "已签名锁定" in warning and "保留本机版本" in warning
    assert svc.load_inspection(ctx, draft).findings != "笔记本上补充的情况"
    assert panel.conflict_model.rowCount() >= 1
    laptop.close()


class CancelAfter:
    """A runner that runs at once and presses Cancel after ``steps`` progress reports."""

    def __init__(self, steps: int):
        self.steps, self.reports = steps, []

    def run(self, parent, label, job, on_done, on_error):
        def progress(done, total):
            self.reports.append((done, total))

        try:
            result = job(progress, lambda: len(self.reports) > self.steps)
        except Exception as exc:  # noqa: BLE001 - as the real runner
            on_error(exc)
        else:
            on_done(result)


def test_station_export_reports_progress_and_can_be_cancelled(ctx, qtbot, monkeypatch, tmp_path):
    laptops = [enrolled_laptop(ctx, tmp_path, name)[0] for name in ("笔记本1", "笔记本2", "笔记本3")]
    usb = tmp_path / "usb"
    usb.mkdir()
    choose_folder(monkeypatch, usb)
    panel = open_panel(qtbot, ctx)
    runner = panel.runner = CancelAfter(2)
    qtbot.mouseClick(panel.export_button, LEFT)
    assert runner.reports == [(0, 3), (1, 3), (2, 3)]
    assert len(list(usb.glob("*.zip"))) == 2
    assert panel.result_label.text().startswith("已导出 2 个同步包到 ")
    assert panel.result_label.text().endswith("；已取消，其余设备的同步包未导出")

    panel.runner = ImmediateRunner()
    qtbot.mouseClick(panel.export_button, LEFT)
    assert len(list(usb.glob("*.zip"))) == 5
    for laptop in laptops:
        laptop.close()


def test_the_admin_revokes_a_laptop_with_the_button(ctx, qtbot, tmp_path, message_boxes):
    """The station's panel lists the laptops; the admin revokes one, which is then refused."""
    from core import sync
    from core.users import log_in

    laptop, data = enrolled_laptop(ctx, tmp_path, "笔记本1")
    other, _ = enrolled_laptop(ctx, tmp_path, "笔记本2")
    add_user(ctx, name="管理员", role="admin", password="secret123")
    log_in(ctx, "管理员", "secret123")
    panel = open_panel(qtbot, ctx)
    assert panel.device_box.isVisible()
    assert panel.device_model.rowCount() == 2
    assert [panel.device_model.index(r, 2).data() for r in range(2)] == ["正常", "正常"]
    assert not panel.revoke_button.isEnabled()  # nothing chosen yet
    panel.device_view.selectRow(0)
    assert panel.revoke_button.isEnabled()

    message_boxes.answer = QMessageBox.StandardButton.No
    qtbot.mouseClick(panel.revoke_button, LEFT)
    assert sync.find_device(ctx, data["device_id"]).revoked is False

    message_boxes.answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(panel.changed):
        qtbot.mouseClick(panel.revoke_button, LEFT)
    assert len(message_boxes.texts("question")) == 2
    assert "笔记本1" in message_boxes.texts("question")[-1]
    assert sync.find_device(ctx, data["device_id"]).revoked is True
    assert panel.result_label.text() == "已吊销笔记本“笔记本1”（设备号 1）：此后它的同步包和同步请求一律拒绝"
    assert panel.device_model.index(0, 2).data().startswith("已吊销（20")
    assert panel.device_model.index(1, 2).data() == "正常"
    assert not panel.revoke_button.isEnabled()  # the revoked one stays chosen: nothing more to do
    assert panel.peers_label.text() == "笔记本2"  # no more exports for it

    # its packages are refused at the station
    out = tmp_path / "from-laptop"
    out.mkdir()
    (package,) = sync.export_packages(laptop, out)
    with pytest.raises(InvalidInput, match="已吊销"):
        sync.import_package(ctx, package)
    laptop.close()
    other.close()


def test_only_the_admin_may_revoke(ctx, qtbot, tmp_path):
    from core import sync
    from core.users import PermissionDenied, log_in

    laptop, data = enrolled_laptop(ctx, tmp_path, "笔记本1")
    add_user(ctx, name="管理员", role="admin", password="secret123")
    add_user(ctx, name="王建国", role="inspector", password="secret123", cert_no="41170021001")
    log_in(ctx, "王建国", "secret123")
    panel = open_panel(qtbot, ctx)
    panel.device_view.selectRow(0)
    assert panel.device_model.rowCount() == 1
    assert not panel.revoke_button.isEnabled()
    assert panel.revoke_button.toolTip() == "仅站所管理员可以吊销设备"
    with pytest.raises(PermissionDenied, match="无权登记或吊销同步设备"):
        sync.revoke_device(ctx, data["device_id"])
    assert sync.find_device(ctx, data["device_id"]).revoked is False
    laptop.close()


def test_the_devices_box_is_only_at_the_station(ctx, qtbot, tmp_path):
    laptop, _ = enrolled_laptop(ctx, tmp_path, "笔记本1")
    panel = open_panel(qtbot, laptop)
    assert not panel.device_box.isVisible() and panel.device_model.rowCount() == 0
    laptop.close()
