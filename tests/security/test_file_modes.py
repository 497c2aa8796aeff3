"""Files that hold the station's data or keys are readable by their owner only (POSIX).

Attack (d) of issue 10, item 7: the database and its backups were created 0644, readable by
every account on the machine. Now the database, its -wal and -shm, each backup (and its
folder) and each enrolment file are created 0600 (folders 0700) whatever the umask.
"""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from core.context import AppContext

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_database_wal_shm_backups_and_enrolment_files_are_0600(umask, tmp_path):
    from core import sync
    from core.backup import backup_dir, make_backup, restore_backup

    db = tmp_path / "data" / "station.db"
    ctx = AppContext.open(db)
    enrolment = tmp_path / "usb" / "笔记本1.json"
    sync.add_device(ctx, "笔记本1", enrolment)  # a write: the WAL is in use while ctx is open
    files = {p.name: mode(p) for p in db.parent.iterdir() if p.is_file()}
    keys = ["station.db.keys"] if ctx.encrypted_file is not None else []  # an encrypted database's wraps
    assert sorted(files) == ["station.db", "station.db-shm", "station.db-wal", "station.db.anchors", *keys]
    assert set(files.values()) == {0o600}, {k: oct(v) for k, v in files.items()}
    assert mode(enrolment) == 0o600

    backup = make_backup(db)
    assert mode(backup) == 0o600 and mode(backup_dir(db)) == 0o700
    ctx.close()
    restore_backup(backup, db)
    backups = sorted(p for p in backup_dir(db).iterdir() if p.suffix == ".db")
    assert len(backups) == 2 and {mode(p) for p in backup_dir(db).iterdir()} == {0o600}
    assert len(list(backup_dir(db).iterdir())) == 2 * (1 + len(keys))  # each backup with its wraps
    assert mode(db) == 0o600

    laptop = tmp_path / "laptop.db"
    station, lctx = AppContext.open(db, create=False), AppContext.open(laptop)
    sync.enrol_device(lctx, sync.add_device(station, "笔记本2"))
    assert mode(laptop) == 0o600
    lctx.close()
    station.close()


def test_the_cli_creates_the_database_0600(umask, tmp_path, capsys):
    import main

    db = tmp_path / "cli.db"
    assert main.main(["inspectors", "--db", str(db), "add", "--db", str(db), "--name", "王建国",
                      "--cert-no", "41170021001"]) == 0
    assert mode(db) == 0o600
