"""The first start after installing a newer build: the database migrates behind a progress
dialog (on a worker thread), backed up first; its data is kept; a failure changes nothing."""
from __future__ import annotations

import sqlite3

import pytest
from alembic import command

from core.backup import list_backups
from core.schema import pending_upgrades
from db.engine import HEAD, _alembic_config, make_engine

pytestmark = pytest.mark.real_migrations  # new databases here walk every migration (no schema replay)


def _old_station(path, revision="0003"):
    """A station database as an older build left it, with one subject."""
    engine = make_engine(path)
    command.upgrade(_alembic_config(engine), revision)
    engine.dispose()
    raw = sqlite3.connect(path)
    raw.execute("INSERT INTO subjects (id, name, credit_code, category, licence_no, filing_no, legal_rep, address,"
                " phone, grid, status, created_at, updated_at, version, device_id) VALUES ('s1', '老店', NULL,"
                " 'other', '', '', '', '老街1号', '', '', 'active', '2026-01-01', '2026-01-01', 1, 'd')")
    raw.commit()
    raw.close()
    return path


def _revision(path) -> str:
    raw = sqlite3.connect(path)
    try:
        return raw.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        raw.close()


def test_pending_upgrades_lists_the_steps_of_an_old_database_only(tmp_path):
    old = _old_station(tmp_path / "old.db")
    steps = pending_upgrades(old)
    assert len(steps) >= 10 and steps[-1] == HEAD and "0003" not in steps
    assert pending_upgrades(tmp_path / "new.db") == []  # a new database: nothing to keep, no dialog
    (tmp_path / "other.db").write_bytes(b"not a database at all")
    assert pending_upgrades(tmp_path / "other.db") == []  # opening refuses it with its own message


def test_the_first_start_upgrades_behind_a_progress_dialog_and_keeps_the_data(monkeypatch, qapp, tmp_path,
                                                                             user_data):
    from gui import app as app_module
    from gui.login_dialog import LoginDialog
    from gui.startup import UpgradeDialog

    path = _old_station(tmp_path / "station.db")
    steps = pending_upgrades(path)
    seen = []
    original = UpgradeDialog.setValue

    def watch(dialog, value):  # what the user sees as each step is done
        from PySide6.QtWidgets import QProgressBar

        original(dialog, value)
        bar = dialog.findChild(QProgressBar)
        seen.append((value, dialog.maximum(), dialog.isVisible(), dialog.labelText(), bar.text(), bar.value()))

    monkeypatch.setattr(UpgradeDialog, "setValue", watch)
    monkeypatch.setattr(LoginDialog, "exec", lambda dialog: 0)  # reached the log-in; the user quits there
    assert app_module.run(str(path)) == 0
    # a modal QProgressDialog's setValue processes events, so on a busy machine the next steps'
    # values can arrive inside it (seen out of order): every step is shown once, whatever the order
    shown = sorted((s for s in seen if s[0] > 0), key=lambda s: s[0])
    assert [s[0] for s in shown] == list(range(1, len(steps) + 1))
    assert len(shown) == len(steps) and all(s[1] == len(steps) and s[2] for s in shown)
    assert "正在把数据库升级到" in shown[0][3] and "已自动备份" in shown[0][3]
    assert all(s[4] == f"第 {s[5]} 步，共 {len(steps)} 步" for s in shown)
    assert max(s[5] for s in shown) == len(steps)
    assert _revision(path) == HEAD
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT name FROM subjects").fetchall() == [("老店",)]
    raw.close()
    backups = list_backups(path)
    assert len(backups) == 1 and _revision(backups[0]) == "0003"  # the database as the older build had it
    log = (user_data / "logs" / "yxjc.log").read_text(encoding="utf-8")
    assert f"database upgraded to {HEAD} in {len(steps)} steps" in log


def test_a_failed_upgrade_says_why_and_leaves_the_database_as_it_was(monkeypatch, qapp, tmp_path, user_data,
                                                                    message_boxes):
    from core.errors import InvalidInput
    from gui import app as app_module
    from gui import startup

    path = _old_station(tmp_path / "station.db")

    def full_disk(_db):
        raise InvalidInput("磁盘已满：无法备份数据库")

    monkeypatch.setattr(startup, "back_up_before_upgrade", full_disk)
    assert app_module.run(str(path)) == 2
    assert message_boxes.texts("critical") == ["磁盘已满：无法备份数据库"]
    assert [w for w in qapp.topLevelWidgets() if isinstance(w, startup.UpgradeDialog) and w.isVisible()] == []
    assert _revision(path) == "0003"
