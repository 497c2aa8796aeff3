"""``restore`` checks the backup before it replaces anything.

Attack/fault (issue 10, item 5): ``restore`` of a backup of a newer schema exited 0 and
left the database unusable. Now a backup must pass SQLite's integrity check, be a database
of this app (a known schema version and its core tables) and be no newer than the app;
otherwise exit 2 with one Chinese line, the current database, its attachments and its
backups exactly as they were.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

import main
from core.context import AppContext
from db.engine import HEAD
from tests.security.digest import database_digest, folder_digest


@pytest.fixture(scope="module")
def demo_station(tmp_path_factory, demo_template) -> Path:
    from tests.support.stations import copy_station

    db = copy_station(demo_template, tmp_path_factory.mktemp("restore"))  # the demo station
    ctx = AppContext.open(db)
    from core import inspections as svc
    from tests.integration.test_sync import photo_file

    [draft] = [r for r in svc.list_inspections(ctx) if r.status == "draft"]
    svc.add_photo(ctx, draft.id, svc.load_inspection(ctx, draft.id).template.items[0].code, photo_file(db.parent))
    ctx.close()
    assert len(list((db.parent / "station-attachments").rglob("*.jpg"))) == 1
    return db


@pytest.fixture
def station(demo_station, tmp_path) -> Path:
    """A copy of the demo station with one backup, and that backup as good-backup.db beside it."""
    from core.backup import make_backup

    db = tmp_path / "station.db"
    rawdb.copy_db(demo_station, db)
    shutil.copytree(demo_station.parent / "station-attachments", tmp_path / "station-attachments")
    rawdb.copy_db(make_backup(db), tmp_path / "good-backup.db")
    return db


def _cli(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _state(db: Path) -> tuple:
    folder = db.parent / f"{db.stem}-backups"
    leftovers = sorted(p.name for p in db.parent.iterdir() if ".restore" in p.name)
    return database_digest(db), folder_digest(db.parent / f"{db.stem}-attachments"), folder_digest(folder), leftovers


def _edited_copy(source: Path, target: Path, *statements: str) -> Path:
    if source != target:
        rawdb.copy_db(source, target)
    raw = rawdb.connect(target)
    for statement in statements:
        raw.execute(statement)
    raw.commit()
    raw.close()
    return target


def _corrupted(source: Path, target: Path) -> Path:
    """A backup with a valid header whose pages are garbage in the middle."""
    data = bytearray(source.read_bytes())
    page = 4096
    assert len(data) >= 8 * page
    for offset in range(3 * page, len(data) - page, 2 * page):
        data[offset:offset + 512] = b"\xa5" * 512
    target.write_bytes(bytes(data))
    if (source.parent / f"{source.name}.keys").is_file():  # an encrypted backup: with its wraps
        shutil.copy(source.parent / f"{source.name}.keys", target.parent / f"{target.name}.keys")
    return target


def _bad_backup(kind: str, good: Path, tmp: Path) -> Path:
    if kind == "newer schema":
        return _edited_copy(good, tmp / "newer.db", "UPDATE alembic_version SET version_num = '9999'")
    if kind == "random file":
        path = tmp / "random.db"
        path.write_bytes(bytes(range(256)) * 64)
        return path
    if kind == "empty file":
        path = tmp / "empty.db"
        path.write_bytes(b"")
        return path
    if kind == "empty SQLite database":
        path = tmp / "blank.db"
        raw = rawdb.connect(path)
        raw.execute("PRAGMA user_version = 1")  # writes the header: a valid database with no tables
        raw.commit()
        raw.close()
        assert path.read_bytes()[:16] == b"SQLite format 3\x00"
        return path
    if kind == "another program's database":
        path = tmp / "other.db"
        raw = rawdb.connect(path)
        raw.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        raw.execute(f"INSERT INTO alembic_version VALUES ('{HEAD}')")
        raw.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        raw.commit()
        raw.close()
        return path
    if kind == "no schema version":
        return _edited_copy(good, tmp / "unversioned.db", "DROP TABLE alembic_version")
    assert kind == "corrupted"
    return _corrupted(good, tmp / "corrupt.db")


EXPECTED = {
    "newer schema": "更新版本的软件创建（结构版本 9999）",
    "random file": "不是本软件的数据库备份",
    "empty file": "不是本软件的数据库备份",
    "empty SQLite database": "不是本软件的数据库备份",
    "another program's database": "不是本软件的数据库备份",
    "no schema version": "不是本软件的数据库备份",
    "corrupted": "已损坏",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_a_bad_backup_is_refused_and_the_database_left_as_it_was(kind, station, capsys):
    backup = _bad_backup(kind, station.parent / "good-backup.db", station.parent)
    before = _state(station)
    code, out, err = _cli(capsys, "restore", "--db", station, backup)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：") and EXPECTED[kind] in lines[0], err
    assert "sqlite3" not in err and "Error" not in err
    assert _state(station) == before
    ctx = AppContext.open(station, create=False)  # still usable
    assert len(__import__("core.inspections", fromlist=["x"]).list_inspections(ctx)) == 10
    ctx.close()


def test_a_good_backup_is_restored_and_the_current_database_kept(station, capsys):
    from core.backup import list_backups
    from core.subjects import SubjectData, add_subject, count_subjects

    ctx = AppContext.open(station, create=False)
    before = count_subjects(ctx)
    add_subject(ctx, SubjectData(name="恢复前新增的店", category="other", address="新路1号"))
    ctx.close()
    backups_before = len(list_backups(station))
    code, out, err = _cli(capsys, "restore", "--db", station, station.parent / "good-backup.db")
    assert code == 0, err
    ctx = AppContext.open(station, create=False)
    assert count_subjects(ctx) == before
    ctx.close()
    assert len(list_backups(station)) == backups_before + 1  # the database as it was, kept first
    assert sorted(p.name for p in station.parent.iterdir() if ".restore" in p.name) == []


def test_a_backup_of_an_older_schema_is_brought_to_the_current_one(tmp_path, capsys):
    from alembic import command

    from db.engine import _alembic_config, make_engine

    old = tmp_path / "old-backup.db"
    engine = make_engine(old)
    command.upgrade(_alembic_config(engine), "0005")
    engine.dispose()
    _edited_copy(old, old, "INSERT INTO subjects (id, name, credit_code, category, licence_no, filing_no, legal_rep,"
                           " address, phone, grid, status, created_at, updated_at, version, device_id) VALUES ('s1',"
                           " '老店', NULL, 'other', '', '', '', '老街1号', '', '', 'active', '2026-01-01',"
                           " '2026-01-01', 1, 'd')")
    db = tmp_path / "station.db"
    AppContext.open(db).close()
    code, _, err = _cli(capsys, "restore", "--db", db, old)
    assert code == 0, err
    raw = rawdb.connect(db)
    assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    assert raw.execute("SELECT name FROM subjects").fetchall() == [("老店",)]
    assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    raw.close()
    assert rawdb.connect(old).execute("SELECT version_num FROM alembic_version").fetchone() == ("0005",)


def test_a_damaged_database_is_replaced_and_its_bytes_kept_aside(station, capsys):
    from core.backup import backup_dir

    station.with_name(station.name + "-wal").unlink(missing_ok=True)
    station.with_name(station.name + "-shm").unlink(missing_ok=True)
    station.write_bytes(b"garbage " * 1000)
    code, _, err = _cli(capsys, "restore", "--db", station, station.parent / "good-backup.db")
    assert code == 0, err
    [kept] = list(backup_dir(station).glob("*.damaged"))
    assert kept.read_bytes() == b"garbage " * 1000
    ctx = AppContext.open(station, create=False)
    assert len(__import__("core.inspections", fromlist=["x"]).list_inspections(ctx)) == 10
    ctx.close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_restoring_into_a_new_place_creates_it_0600(station, tmp_path, capsys):
    target = tmp_path / "elsewhere" / "restored.db"
    target.parent.mkdir()
    code, _, err = _cli(capsys, "restore", "--db", target, station.parent / "good-backup.db")
    assert code == 0, err
    assert target.stat().st_mode & 0o777 == 0o600
