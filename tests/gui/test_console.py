"""The console: the same GUI on a county's PostgreSQL database with three stations' records — the
log-in connects to the server (its password never shown), and the 站所 filter narrows the register,
the inspection list, the task queue and the statistics to one station's records."""
from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest
from PySide6.QtCore import Qt
from sqlalchemy.engine import make_url

from core.context import AppContext
from core.subjects import search_subjects
from core.tasks import list_tasks, record_event
from gui.jobs import ImmediateRunner
from gui.models import ROW_ROLE
from gui.server_dialog import ServerDialog
from tests.gui.helpers import LEFT, click_tab, open_main_window
from tests.integration.test_stats_stations import HOME, _fill


@pytest.fixture(scope="module")
def county(pg_server):
    url = pg_server.create_database()
    ctx = AppContext.open(url)
    devices = _fill(ctx)  # 示例市场监督管理所 (this database's own), 乙所 and 丙所, each on its own device
    home = ctx.device_id
    for station, name in ((HOME, "甲化妆品店"), ("乙所", "乙美容院")):
        ctx._settings["device_id"] = devices[station]  # a task made at that station, as sync brings it
        [subject] = search_subjects(ctx, name)
        record_event(ctx, subject.id, "complaint", date(2026, 11, 20), details="投诉")
    ctx._settings["device_id"] = home
    ctx.clock = lambda: datetime(2026, 12, 1, 9, 0)
    yield ctx, url
    ctx.close()


def _choose(qtbot, combo, text: str) -> None:
    """Pick ``text`` in a combo box with the keyboard, as a user would."""
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if combo.currentText() == text:
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentText() == text, [combo.itemText(i) for i in range(combo.count())]


def _names(model, column: int = 0) -> list[str]:
    return [model.index(r, column).data() for r in range(model.rowCount())]


def test_the_station_filter_narrows_every_list_to_one_stations_records(qtbot, county):
    ctx, _url = county
    window = open_main_window(qtbot, ctx)
    subjects = window.subject_list
    assert subjects.station.isVisible()
    assert [subjects.station.itemText(i) for i in range(subjects.station.count())] == ["全部站所", HOME, "丙所", "乙所"]
    assert subjects.model.rowCount() == 5
    _choose(qtbot, subjects.station, "乙所")
    assert sorted(_names(subjects.model)) == ["乙化妆品店", "乙美容院"]
    assert subjects.count.text() == "找到 2 个（共 5 个）"
    _choose(qtbot, subjects.station, HOME)  # its own: the devices not listed as another station's
    assert sorted(_names(subjects.model)) == ["甲化妆品店", "甲药房"]

    records = click_tab(qtbot, window, window.inspection_list)
    assert records.model.rowCount() == 7
    _choose(qtbot, records.station, "丙所")
    assert records.model.rowCount() == 1 and records.count.text() == "找到 1 个（共 7 个）"
    _choose(qtbot, records.station, "乙所")
    assert records.model.rowCount() == 4

    queue = click_tab(qtbot, window, window.task_queue)
    everyone = list_tasks(ctx, status="open")  # the complaints' and the re-inspections of failed items
    assert queue.station.isVisible() and queue.proxy.rowCount() == len(everyone) == 4
    _choose(qtbot, queue.station, "乙所")
    shown = {queue.proxy.index(r, 0).data(ROW_ROLE).subject_name for r in range(queue.proxy.rowCount())}
    assert shown == {t.subject_name for t in everyone if t.subject_name.startswith("乙")} and "乙美容院" in shown
    assert queue.proxy.rowCount() == len(list_tasks(ctx, status="open", station="乙所")) < len(everyone)

    stats = click_tab(qtbot, window, window.stats_view)
    stats.set_period("quarter", 2026, 4)
    qtbot.mouseClick(stats.compute_button, LEFT)
    assert "检查 7 家次、4 户" in stats.summary.text()
    _choose(qtbot, stats.station_box, "乙所")
    qtbot.mouseClick(stats.compute_button, LEFT)
    assert stats.summary.text().startswith("乙所") and "检查 4 家次、2 户" in stats.summary.text()


def test_the_log_in_connects_to_the_county_server_without_showing_its_password(qtbot, county, pg_server, type_text,
                                                                              tmp_path):
    _ctx, url = county
    parts = make_url(url)
    dialog = ServerDialog(runner=ImmediateRunner(), folder=tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(dialog.host, "127.0.0.1")
    dialog.port.setValue(parts.port)
    dialog.database.clear()
    type_text(dialog.database, f"no_such_{uuid.uuid4().hex[:6]}")
    type_text(dialog.user, parts.username)
    type_text(dialog.password, "县局口令-s3cret")
    qtbot.mouseClick(dialog.buttons.buttons()[0], LEFT)
    assert dialog.ctx is None and dialog.isVisible()
    assert dialog.message.text().startswith("无法连接数据库服务器") and "s3cret" not in dialog.message.text()
    assert dialog.password.text() == ""
    dialog.database.clear()
    type_text(dialog.database, parts.database)
    type_text(dialog.password, "县局口令-s3cret")
    qtbot.mouseClick(dialog.buttons.buttons()[0], LEFT)
    assert dialog.ctx is not None and dialog.result() == dialog.DialogCode.Accepted
    try:
        assert dialog.ctx.engine.dialect.name == "postgresql" and dialog.ctx.encrypted_file is None
        assert "s3cret" not in dialog.ctx.where and parts.database in dialog.ctx.where
        assert dialog.ctx.setting("station_name") == HOME
    finally:
        dialog.ctx.close()
    again = ServerDialog(runner=ImmediateRunner(), folder=tmp_path)  # the next time: only the password
    qtbot.addWidget(again)
    assert (again.host.text(), again.port.value(), again.database.text(), again.user.text()) == (
        "127.0.0.1", parts.port, parts.database, parts.username)
    assert again.password.text() == "" and "s3cret" not in "".join(p.read_text() for p in tmp_path.iterdir())


def test_main_py_db_url_opens_the_console_and_logs_no_password(monkeypatch, qapp, county, user_data):
    """``main.py --db postgresql+psycopg://…``: no unlock step, the county's log-in, its main window."""
    from PySide6.QtWidgets import QApplication

    from core.users import log_in
    from gui import app as app_module
    from gui import crash
    from gui.login_dialog import LoginDialog
    from tests.integration.stats_station import PASSWORD

    _ctx, url = county
    with_password = make_url(url).set(password="url-s3cret").render_as_string(hide_password=False)
    seen = []

    def fake_exec(dialog):  # the county's log-in: a user of the county's database
        seen.append(dialog.ctx.engine.dialect.name)
        log_in(dialog.ctx, "王建国", PASSWORD)
        return 1

    shown = []
    monkeypatch.setattr(LoginDialog, "exec", fake_exec)
    monkeypatch.setattr(QApplication, "exec", lambda _app: shown.extend(
        w for w in QApplication.topLevelWidgets() if w.isVisible()) or 0)
    assert app_module.run(with_password) == 0
    assert seen == ["postgresql"]
    [window] = [w for w in shown if type(w).__name__ == "MainWindow"]
    try:
        assert window.subject_list.station.isVisible()
        assert "url-s3cret" not in window.statusBar().currentMessage() and "***" in window.statusBar().currentMessage()
        log = crash.log_file().read_text(encoding="utf-8")
        assert "postgresql+psycopg://" in log and "url-s3cret" not in log
    finally:
        window.close()
        window.ctx.close()
