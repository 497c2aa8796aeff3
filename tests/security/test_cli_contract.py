"""The CLI contract on every command: a wrong --db is one Chinese line and exit 2, nothing made.

Attack/fault (issue 10, items 5 and 8): ``audit verify`` on a mistyped path used to create an
empty database and answer 完整; a folder or a non-SQLite file as ``--db`` exited 1 with a
driver message; a database of a newer schema was opened anyway. Now commands that read,
verify, export or import refuse a missing database (exit 2, "数据库不存在：…") and create
nothing; the commands that set a station or laptop up create it (0600); for every command a
folder, a non-SQLite file, another program's SQLite file or a newer schema is exit 2 with one
Chinese line, the file as it was; a full disk is exit 2 with nothing recorded; output
folders are created as needed.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import io
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

import main
from core.context import AppContext
from db.engine import HEAD
from tests.security.digest import database_digest, folder_digest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "secret-123\n"


def cli(capsys, monkeypatch, *args, stdin: str = PASSWORD) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = main.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_chinese_line(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("错误："), err
    assert any(n in lines[0] for n in needles), err
    for driver in ("Traceback", "sqlite3", "OperationalError", "DatabaseError", "unexpected error"):
        assert driver not in err, err


@pytest.fixture(scope="module")
def enrolment(tmp_path_factory) -> dict:
    """A real enrolment file from a station (``devices add``), and what ``devices enrol`` reads
    from stdin with it (the one-time code, where the file is sealed with one)."""
    from core import sync

    base = tmp_path_factory.mktemp("enrolment")
    station = AppContext.open(base / "station.db")
    data = sync.add_device(station, "笔记本1", base / "enrol.json")
    station.close()
    code = data.get("enrolment_code")
    return {"file": base / "enrol.json", "args": ["--code-stdin"] if code else [],
            "stdin": f"{code}\n" if code else ""}


# Commands that read, verify, export or import: a missing database is refused.
@pytest.fixture
def files(tmp_path, enrolment) -> dict:
    """Input files that exist and are good, so that only the database is wrong."""
    tmp = tmp_path / "in"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "p.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (tmp / "e.csv").write_text("统一社会信用代码,事件类型,发生日期\n", encoding="utf-8")
    (tmp / "s.csv").write_text("名称,统一社会信用代码,类别,地址\n甲店,,化妆品经营者,甲路1号\n", encoding="utf-8")
    shutil.copy(enrolment["file"], tmp / "enrol.json")
    (tmp / "backup.db").write_bytes(b"")
    return {"pkg": tmp / "p.zip", "events": tmp / "e.csv", "subjects": tmp / "s.csv",
            "enrol": tmp / "enrol.json", "enrol_args": enrolment["args"], "out": tmp / "out",
            "stdin": {"devices enrol": enrolment["stdin"]}}


def run(capsys, monkeypatch, command: str, table: dict, db: Path, files: dict) -> tuple[int, str, str]:
    return cli(capsys, monkeypatch, *table[command](db, files), stdin=files["stdin"].get(command, PASSWORD))


READERS = {
    "verify": lambda db, f: ["verify", "--db", db, "payload"],
    "audit verify": lambda db, f: ["audit", "verify", "--db", db],
    "inspections": lambda db, f: ["inspections", "--db", db],
    "tasks": lambda db, f: ["tasks", "--db", db],
    "leads": lambda db, f: ["leads", "--db", db],
    "print": lambda db, f: ["print", "--db", db, "--inspection", "1", "--form", "record", "--out", f["out"] / "r.pdf"],
    "plan": lambda db, f: ["plan", "--db", db, "--year", "2026", "--seed", "1"],
    "inspectors": lambda db, f: ["inspectors", "--db", db],
    "devices list": lambda db, f: ["devices", "list", "--db", db],
    "events import": lambda db, f: ["events", "import", "--db", db, f["events"]],
    "sync export": lambda db, f: ["sync", "export", "--db", db, "--out", f["out"]],
    "sync import": lambda db, f: ["sync", "import", "--db", db, f["pkg"]],
    "sync push": lambda db, f: ["sync", "push", "--db", db, "--url", "http://127.0.0.1:9"],
    "sync pull": lambda db, f: ["sync", "pull", "--db", db, "--url", "http://127.0.0.1:9"],
    "backup": lambda db, f: ["backup", "--db", db],
    "numbers voided": lambda db, f: ["numbers", "voided", "--db", db],
    "numbers print": lambda db, f: ["numbers", "print", "--db", db, "--out", f["out"] / "v.pdf"],
    "numbers void": lambda db, f: ["numbers", "void", "--db", db, "--inspection", "1", "--reason", "误开"],
    "correct": lambda db, f: ["correct", "--db", db, "--of", "1", "--statement", "更正", "--reason", "笔误"],
    "approve-correction": lambda db, f: ["approve-correction", "--db", db, "--inspection", "1"],
    "attachments status": lambda db, f: ["attachments", "status", "--db", db],
    "attachments encrypt": lambda db, f: ["attachments", "encrypt", "--db", db],
    "users keys": lambda db, f: ["users", "keys", "--db", db, "--name", "王建国"],
    "users revoke-key": lambda db, f: ["users", "revoke-key", "--db", db, "--name", "王建国"],
}
# Commands that set a database up: they create it.
SETTERS = {
    "demo": lambda db, f: ["demo", "--db", db],
    "subjects import": lambda db, f: ["subjects", "import", "--db", db, f["subjects"]],
    "users add": lambda db, f: ["users", "add", "--db", db, "--role", "inspector", "--name", "王建国",
                                "--cert-no", "41170021001", "--password-stdin"],
    "devices add": lambda db, f: ["devices", "add", "--db", db, "--name", "笔记本1", "--out", f["out"] / "e.json"],
    "devices enrol": lambda db, f: ["devices", "enrol", "--db", db, f["enrol"], *f["enrol_args"]],
    "inspectors add": lambda db, f: ["inspectors", "--db", db, "add", "--db", db, "--name", "李四", "--cert-no", "4117"],
}
EVERY = {**READERS, **SETTERS, "restore": lambda db, f: ["restore", "--db", db, f["pkg"].parent / "backup.db"]}


@pytest.mark.parametrize("command", sorted(READERS))
def test_reading_commands_refuse_a_missing_database_and_create_nothing(command, tmp_path, capsys, monkeypatch, files):
    db = tmp_path / "typo" / "station.db"
    code, _, err = run(capsys, monkeypatch, command, READERS, db, files)
    assert code == 2, err
    assert_one_chinese_line(err, f"数据库不存在：{db}")
    assert not db.parent.exists()  # not the database, nor its folder, nor an attachments folder
    assert not files["out"].exists()


@pytest.mark.parametrize("command", sorted(SETTERS))
def test_setting_up_commands_create_the_database(command, tmp_path, capsys, monkeypatch, files):
    db = tmp_path / "new" / "laptop.db"
    code, out, err = run(capsys, monkeypatch, command, SETTERS, db, files)
    assert code == 0, err
    assert db.is_file()
    raw = rawdb.connect(db)
    assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    raw.close()


def test_subjects_import_of_a_missing_file_creates_no_database(tmp_path, capsys, monkeypatch):
    db = tmp_path / "new.db"
    code, _, err = cli(capsys, monkeypatch, "subjects", "import", "--db", db, tmp_path / "名册.csv")
    assert code == 2 and "找不到文件" in err and len(err.strip().splitlines()) == 1
    assert not db.exists()


# --- a wrong database, every command -----------------------------------------------------------

@pytest.fixture(scope="module")
def app_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("app") / "station.db"
    AppContext.open(path).close()
    return path


def _wrong(kind: str, tmp: Path, app_db: Path) -> Path:
    if kind == "directory":
        path = tmp / "station.db"
        path.mkdir()
        (path / "keep.txt").write_text("x", encoding="utf-8")
    elif kind == "not_sqlite":
        path = tmp / "station.db"
        path.write_bytes("这不是数据库\n".encode("utf-8") * 100)
    elif kind == "foreign":
        path = tmp / "places.sqlite"
        raw = rawdb.connect(path)
        raw.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        raw.execute("INSERT INTO moz_places (url) VALUES ('https://example.org')")
        raw.commit()
        raw.close()
    else:  # newer: a database of this app, written by a later version of it
        path = tmp / "station.db"
        rawdb.copy_db(app_db, path)
        raw = rawdb.connect(path)
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
        raw.commit()
        raw.close()
    return path


def _fingerprint(path: Path) -> tuple:
    attachments = path.parent / f"{path.stem}-attachments"
    if path.is_dir():
        return ("dir", folder_digest(path), attachments.exists())
    if path.read_bytes().startswith(b"SQLite format 3\x00"):
        return ("db", database_digest(path), folder_digest(attachments), attachments.exists())
    return ("file", path.read_bytes(), attachments.exists())


EXPECTED = {"directory": "是一个文件夹", "not_sqlite": "不是 SQLite 数据库", "foreign": "不是本软件的数据库",
            "newer": "更新版本的软件创建（结构版本 9999）"}
CASES = [(c, k) for c in sorted(EVERY) for k in EXPECTED
         if c != "restore" or k == "directory"]  # restore replaces a damaged or newer database: see test_restore.py


@pytest.mark.parametrize("command, kind", CASES)
def test_a_folder_a_stranger_or_a_newer_schema_is_one_line_and_exit_2(command, kind, tmp_path, capsys, monkeypatch,
                                                                     app_db, files):
    db = _wrong(kind, tmp_path, app_db)
    before = _fingerprint(db)
    code, _, err = run(capsys, monkeypatch, command, EVERY, db, files)
    assert code == 2, err
    assert_one_chinese_line(err, EXPECTED[kind])
    assert _fingerprint(db) == before
    assert not files["out"].exists()


@pytest.mark.parametrize("kind", ["directory", "not_sqlite", "newer"])
def test_the_hub_refuses_a_wrong_database_before_serving(kind, tmp_path, app_db):
    db = _wrong(kind, tmp_path, app_db)
    before = _fingerprint(db)
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "hub", "--db", str(db), "--port", "1"],
                            capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=60)
    assert result.returncode == 2, result.stderr
    assert_one_chinese_line(result.stderr, EXPECTED[kind])
    assert _fingerprint(db) == before


# --- a full disk ---------------------------------------------------------------------------------

@pytest.fixture
def full_disk(monkeypatch):
    """The disk fills as SQLite commits: every write transaction fails with SQLITE_FULL.

    The commit rolls the transaction back and raises what SQLite raises on a full disk
    ("database or disk is full", result code 13), in every connection, the schema's too.
    """
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    def commit(self, dbapi_connection) -> None:
        if not dbapi_connection.in_transaction:
            return
        dbapi_connection.rollback()
        error = self.dbapi.OperationalError("database or disk is full")  # the driver's: sqlite3's or SQLCipher's
        error.sqlite_errorcode, error.sqlite_errorname = 13, "SQLITE_FULL"
        raise error

    monkeypatch.setattr(SQLiteDialect_pysqlite, "do_commit", commit)


@pytest.fixture
def no_room_to_grow():
    """A real SQLITE_FULL from SQLite itself: no connection may grow its database by a page."""
    def cap(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        cursor.close()

    event.listen(Engine, "connect", cap)
    yield
    event.remove(Engine, "connect", cap)


@pytest.fixture(scope="module")
def sync_world(tmp_path_factory, demo_template) -> dict:
    """A station with a laptop's package of one signed inspection (no photos), and register files."""
    from core import inspections as svc
    from core import sync
    from core.demo import OFFICERS, demo_code
    from core.subjects import search_subjects
    from tests.integration.helpers import signed_inspection
    from tests.integration.test_sync import enrolled_laptop, pull_master_data
    from tests.support.stations import copy_station

    base = tmp_path_factory.mktemp("full")
    station = AppContext.open(copy_station(demo_template, base))  # the demo station
    laptop, _ = enrolled_laptop(station, base, "笔记本1")
    pull_master_data(station, laptop, base / "down")
    subject = search_subjects(laptop, "")[0]
    signed_inspection(laptop, subject.id, OFFICERS)
    [package] = sync.export_packages(laptop, base / "up")
    assert svc.list_inspections(laptop)
    laptop.close()
    station.close()
    rows = "".join(f"店{i},{demo_code(300 + i)},化妆品经营者,路{i}号,某,1,一\n" for i in range(200))
    register = base / "名册.csv"
    register.write_text("名称,统一社会信用代码,类别,地址,法定代表人,联系电话,网格\n" + rows, encoding="utf-8-sig")
    events = base / "事件.csv"
    events.write_text("名称,事件类型,发生日期,来源编号\n" + "".join(
        f"{subject.name},complaint,2026-01-0{1 + i % 9},FULL-{i}\n" for i in range(50)), encoding="utf-8-sig")
    return {"base": base, "package": package, "register": register, "events": events}


FULL = {
    "subjects import": lambda db, w, t: ["subjects", "import", "--db", db, w["register"]],
    "events import": lambda db, w, t: ["events", "import", "--db", db, w["events"]],
    "sync import": lambda db, w, t: ["sync", "import", "--db", db, w["package"]],
    "sync export": lambda db, w, t: ["sync", "export", "--db", db, "--out", t / "out"],
    "users add": lambda db, w, t: ["users", "add", "--db", db, "--role", "grid_worker", "--name", "新网格员",
                                   "--grid", "东园", "--password-stdin"],
    "devices add": lambda db, w, t: ["devices", "add", "--db", db, "--name", "笔记本2", "--out", t / "out" / "e.json"],
    "plan": lambda db, w, t: ["plan", "--db", db, "--year", "2027", "--seed", "3"],
    "demo": lambda db, w, t: ["demo", "--db", t / "new.db"],
    "inspectors add": lambda db, w, t: ["inspectors", "--db", db, "add", "--db", db, "--name", "新执法员",
                                        "--cert-no", "41170029998"],
}


@pytest.mark.parametrize("command", sorted(FULL))
def test_a_full_disk_is_exit_2_and_nothing_recorded(command, sync_world, tmp_path, capsys, monkeypatch, full_disk):
    rawdb.copy_db(sync_world["base"] / "station.db", tmp_path / "station.db")
    db = tmp_path / "station.db"
    attachments = tmp_path / "station-attachments"
    if (sync_world["base"] / "station-attachments").is_dir():  # its signature images (and photos) are files
        import shutil

        shutil.copytree(sync_world["base"] / "station-attachments", attachments)
    before = database_digest(db), folder_digest(attachments)
    code, _, err = cli(capsys, monkeypatch, *FULL[command](db, sync_world, tmp_path))
    assert code == 2, err
    assert_one_chinese_line(err, "磁盘空间不足")
    assert (database_digest(db), folder_digest(attachments)) == before
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []  # no package, no key file
    assert not (tmp_path / "new.db").exists()


def test_a_full_disk_while_creating_the_database_leaves_no_file(tmp_path, capsys, monkeypatch, full_disk):
    db = tmp_path / "new.db"
    code, _, err = cli(capsys, monkeypatch, "demo", "--db", db)
    assert code == 2, err
    assert_one_chinese_line(err, "磁盘空间不足")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["subjects import", "first creation"])
def test_a_database_that_cannot_grow_is_exit_2_and_nothing_recorded(command, sync_world, tmp_path, capsys,
                                                                    monkeypatch, no_room_to_grow):
    """SQLite's own SQLITE_FULL (max_page_count): a 200-row register, or a new database's schema."""
    if command == "first creation":
        code, _, err = cli(capsys, monkeypatch, "subjects", "import", "--db", tmp_path / "new.db", sync_world["register"])
        assert code == 2, err
        assert_one_chinese_line(err, "磁盘空间不足")
        assert list(tmp_path.iterdir()) == []
        return
    rawdb.copy_db(sync_world["base"] / "station.db", tmp_path / "station.db")
    db = tmp_path / "station.db"
    before = database_digest(db)
    code, _, err = cli(capsys, monkeypatch, "subjects", "import", "--db", db, sync_world["register"])
    assert code == 2, err
    assert_one_chinese_line(err, "磁盘空间不足")
    assert database_digest(db) == before


# --- output folders ------------------------------------------------------------------------------

def test_output_folders_are_created_as_needed(demo_copy, tmp_path, capsys, monkeypatch):
    from core import sync

    db = demo_copy  # what ``demo`` makes (tests/conftest.py), then the commands' output folders
    ctx = AppContext.open(db, create=False)
    sync.add_device(ctx, "笔记本1")
    [signed] = [r for r in __import__("core.inspections", fromlist=["x"]).list_inspections(ctx)
                if r.status == "signed"][:1]
    ctx.close()
    pdf = tmp_path / "a" / "b" / "记录.pdf"
    code, out, err = cli(capsys, monkeypatch, "print", "--db", db, "--inspection", signed.number, "--form", "record",
                         "--out", pdf)
    assert code == 0, err
    assert pdf.read_bytes().startswith(b"%PDF")
    folder = tmp_path / "u" / "盘" / "sync"
    code, out, err = cli(capsys, monkeypatch, "sync", "export", "--db", db, "--out", folder)
    assert code == 0, err
    packages = sorted(folder.iterdir())
    assert len(packages) == 1 and packages[0].suffix == ".zip" and out.strip() == str(packages[0])


def test_a_database_path_that_cannot_be_created_is_one_line(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = cli(capsys, monkeypatch, "demo", "--db", blocker / "sub" / "station.db")
    assert code == 2, err
    assert_one_chinese_line(err, "无法打开数据库文件")
    assert blocker.read_text(encoding="utf-8") == "x"
