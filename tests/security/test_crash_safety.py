"""kill -9 at any moment leaves a database on the old schema or the new one, and a retry works.

Fault (issue 10, item 5): a first start killed while the schema was being created left ten
tables and an empty ``alembic_version``; every later command then exited 1 "table … already
exists". Now the whole upgrade runs in one SQLite transaction (DDL included), so a kill
rolls it back. Each scenario below is killed with SIGKILL at ``TRIES`` seeded random
moments within the time the same work takes when left alone, then: ``PRAGMA
integrity_check`` is ok, the database is on the old schema or the new one (nothing in
between), it reopens at head, and the same command run again succeeds.

The work runs in a forked child of the test process (no interpreter start-up per try,
which keeps each scenario to a few seconds); the kill is the real SIGKILL.
"""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import io
import os
import random
import shutil
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

import main
from core.context import AppContext
from db.engine import HEAD

# the first open is the migration walk itself (killed while it runs): walked, not replayed
pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL"), pytest.mark.real_migrations]

TRIES = 8
SEED = 20261201
SLOW = 0.003  # per SQL statement in the child, for the schema scenarios (~170 statements)


# --- running a piece of work in a child and killing it -------------------------------------------

def _fork(work: Callable[[], int], slow: float = 0.0) -> int:
    """Run ``work`` in a child; ``slow``: seconds added before each SQL statement (in the child
    only), so that a short piece of work such as a migration spans the window the kills fall in."""
    pid = os.fork()
    if pid == 0:  # the child: no output, no pytest machinery on the way out
        code = 99
        try:
            if slow:
                from sqlalchemy import event
                from sqlalchemy.engine import Engine

                event.listen(Engine, "before_cursor_execute", lambda *_a: time.sleep(slow))
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            sys.stdin, sys.stdout, sys.stderr = io.StringIO("secret-123\n"), open(os.devnull, "w"), open(os.devnull, "w")
            code = work()
        finally:
            os._exit(code if isinstance(code, int) else 0)
    return pid


def _exit_code(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _calibrate(prepare: Callable[[Path], None], work: Callable[[Path], Callable[[], int]], where: Path,
               slow: float) -> float:
    """How long the work takes when nobody kills it (it must succeed): the window for the kills."""
    prepare(where)
    start = time.monotonic()
    code = _exit_code(_fork(work(where), slow))
    assert code == 0, f"the work itself fails (exit {code})"
    return time.monotonic() - start


def kill_at_random_moments(tmp_path: Path, prepare, work, check_after_kill, retry, *, tries: int = TRIES,
                           slow: float = 0.0) -> dict:
    """Run ``work`` at least ``tries`` times, each killed after a random delay; check, reopen and
    retry each time.

    The window comes from one unkilled run, which a loaded machine can make longer than the runs
    that follow (CI once saw 2 of 8 children done before their kill). So a child that finished
    before its kill shrinks the window to a fraction of that delay, and tries go on, at most
    ``3 * tries`` of them, until half of ``tries`` kills have landed while the work ran."""
    window = _calibrate(prepare, work, tmp_path / "calibration", slow)
    rng = random.Random(SEED)
    alive_at_kill, states, n = 0, [], 0
    while n < tries or (alive_at_kill < tries // 2 and n < 3 * tries):
        where = tmp_path / f"try{n}"
        prepare(where)
        pid = _fork(work(where), slow)
        delay = rng.uniform(0.0, window)
        time.sleep(delay)
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            alive_at_kill += 1
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        else:
            window = min(window, 0.8 * delay) if delay > 0.05 else window
        db = where / "station.db"
        assert _integrity(db) == "ok", f"try {n}"
        states.append(check_after_kill(where))
        _reopen_at_head(db)
        retry(where)
        n += 1
    # the kills must land while the work runs (else this test proves nothing)
    assert alive_at_kill >= tries // 2, (alive_at_kill, n, window)
    return {"alive_at_kill": alive_at_kill, "states": states, "window": window}


def _integrity(db: Path) -> str:
    if not db.exists() or db.stat().st_size == 0:
        return "ok"  # nothing was written yet: an empty database
    raw = rawdb.connect(db)
    try:
        return raw.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        raw.close()


def _schema(db: Path) -> tuple[str | None, frozenset[str]]:
    """(revision, tables) as found on disk."""
    if not db.exists() or db.stat().st_size == 0:
        return None, frozenset()
    raw = rawdb.connect(db)
    try:
        tables = frozenset(r[0] for r in raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
        revision = raw.execute("SELECT version_num FROM alembic_version").fetchone() if "alembic_version" in tables \
            else None
        return (revision[0] if revision else None), tables
    finally:
        raw.close()


def _reopen_at_head(db: Path) -> None:
    ctx = AppContext.open(db)
    try:
        with ctx.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def head_tables(tmp_path_factory) -> frozenset[str]:
    db = tmp_path_factory.mktemp("head") / "station.db"
    AppContext.open(db).close()
    return _schema(db)[1]


def _old_station(db: Path, revision: str) -> None:
    """A station at an older schema with a subject (and at 0005 a draft inspection with an item result)."""
    from alembic import command

    from db.engine import _alembic_config, make_engine

    engine = make_engine(db)
    command.upgrade(_alembic_config(engine), revision)
    engine.dispose()
    raw = rawdb.connect(db)
    raw.execute("INSERT INTO subjects (id, name, credit_code, category, licence_no, filing_no, legal_rep, address,"
                " phone, grid, status, created_at, updated_at, version, device_id) VALUES ('s1', '老店', NULL,"
                " 'other', '', '', '', '老街1号', '', '', 'active', '2026-01-01', '2026-01-01', 1, 'd')")
    if revision == "0005":
        raw.execute("INSERT INTO template_snapshots (sha256, code, version, json, created_at) VALUES ('t', 'x', 1,"
                    " '{}', '2026-01-01')")
        raw.execute("INSERT INTO inspections (id, number, subject_id, template_code, template_version, template_sha,"
                    " party_json, kind, purpose, status, place, notified_by, started_at, findings, party_statement,"
                    " party_present_name, party_refused, witness_name, created_at, updated_at, version, device_id)"
                    " VALUES ('i1', '旧〔2026〕1号', 's1', 'x', 1, 't', '{}', 'enforcement', 'regular', 'draft', '',"
                    " '', '2026-01-02 09:00:00', '', '', '', 0, '', '2026-01-02', '2026-01-02', 1, 'd')")
        raw.execute("INSERT INTO item_results (id, inspection_id, item_code, result, note, created_at, updated_at,"
                    " version, device_id) VALUES ('r1', 'i1', 'A1', 'pass', '', '2026-01-02', '2026-01-02', 1, 'd')")
    raw.commit()
    raw.close()


@pytest.fixture(scope="module")
def old_tables(tmp_path_factory) -> tuple[Path, frozenset[str]]:
    """A station at schema 0005 with a subject, a draft inspection and one of its item results."""
    db = tmp_path_factory.mktemp("old") / "station.db"
    _old_station(db, "0005")
    return db, _schema(db)[1]


def _count(db: Path, table: str) -> int:
    raw = rawdb.connect(db)
    try:
        return raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        raw.close()


def _cli_ok(*args) -> None:
    saved = sys.stdout
    sys.stdout = io.StringIO()
    try:
        assert main.main([str(a) for a in args]) == 0
    finally:
        sys.stdout = saved


def _open_work(where: Path) -> Callable[[], int]:
    def work() -> int:
        AppContext.open(where / "station.db").close()
        return 0
    return work


# --- the scenarios -------------------------------------------------------------------------------

def test_kill_during_first_open(tmp_path, head_tables):
    def prepare(where: Path) -> None:
        where.mkdir()

    def after_kill(where: Path) -> str:
        revision, tables = _schema(where / "station.db")
        assert (revision, tables) in ((None, frozenset()), (HEAD, head_tables)), (revision, sorted(tables))
        return "old" if revision is None else "new"

    result = kill_at_random_moments(tmp_path, prepare, _open_work, after_kill, lambda where: _reopen_at_head(
        where / "station.db"), slow=SLOW)
    assert "old" in result["states"], result  # at least one kill interrupted the schema's creation


@pytest.mark.parametrize("revision", ["0005", "0001"])
def test_kill_during_a_migration(revision, tmp_path, head_tables):
    """From 0005 (one migration) and from 0001 (five, rebuilding tables): old schema or new, data kept."""
    source = tmp_path / "source" / "station.db"
    source.parent.mkdir()
    _old_station(source, revision)
    old = _schema(source)
    rows = (1, 1, 1) if revision == "0005" else (1,)

    def prepare(where: Path) -> None:
        where.mkdir()
        rawdb.copy_db(source, where / "station.db")

    def after_kill(where: Path) -> str:
        db = where / "station.db"
        state = _schema(db)
        assert state in (old, (HEAD, head_tables)), (state[0], sorted(state[1]))
        assert tuple(_count(db, t) for t in ("subjects", "inspections", "item_results")[:len(rows)]) == rows
        return "old" if state == old else "new"

    result = kill_at_random_moments(tmp_path, prepare, _open_work, after_kill,
                                    lambda where: _reopen_at_head(where / "station.db"), slow=SLOW)
    assert "old" in result["states"], result  # at least one kill came before the commit


def test_kill_during_demo(tmp_path, head_tables):
    def prepare(where: Path) -> None:
        where.mkdir()

    def work(where: Path) -> Callable[[], int]:
        return lambda: main.main(["demo", "--db", str(where / "station.db")])

    def after_kill(where: Path) -> str:
        revision, tables = _schema(where / "station.db")
        assert (revision, tables) in ((None, frozenset()), (HEAD, head_tables)), (revision, sorted(tables))
        return "schema" if revision is None else str(_count(where / "station.db", "inspections"))

    def retry(where: Path) -> None:
        from core.audit import verify_chain
        from core.inspections import list_inspections

        db = where / "station.db"
        _cli_ok("demo", "--db", db)
        ctx = AppContext.open(db, create=False)
        try:
            assert len(list_inspections(ctx)) == 10 and _count(db, "subjects") == 12
            assert verify_chain(ctx).ok
        finally:
            ctx.close()

    # fewer tries: each retry builds the whole demo station again (about a second)
    result = kill_at_random_moments(tmp_path, prepare, work, after_kill, retry, tries=5)
    assert any(s != "4" for s in result["states"]), result  # at least one demo was cut short


@pytest.fixture(scope="module")
def register(tmp_path_factory) -> Path:
    from core.demo import demo_code

    path = tmp_path_factory.mktemp("register") / "名册.csv"
    rows = "".join(f"店{i},{demo_code(2000 + i)},化妆品经营者,路{i}号,某,1,一\n" for i in range(400))
    path.write_text("名称,统一社会信用代码,类别,地址,法定代表人,联系电话,网格\n" + rows, encoding="utf-8-sig")
    return path


def test_kill_during_a_register_import(tmp_path, register, head_tables):
    def prepare(where: Path) -> None:
        where.mkdir()

    def work(where: Path) -> Callable[[], int]:
        return lambda: main.main(["subjects", "import", "--db", str(where / "station.db"), str(register)])

    def after_kill(where: Path) -> str:
        db = where / "station.db"
        revision, tables = _schema(db)
        assert (revision, tables) in ((None, frozenset()), (HEAD, head_tables)), (revision, sorted(tables))
        count = _count(db, "subjects") if revision else 0
        assert count in (0, 400), count  # one transaction: all of the register or none of it
        return str(count)

    def retry(where: Path) -> None:
        _cli_ok("subjects", "import", "--db", where / "station.db", register)
        assert _count(where / "station.db", "subjects") == 400

    result = kill_at_random_moments(tmp_path, prepare, work, after_kill, retry)
    assert "0" in result["states"], result


@pytest.fixture(scope="module")
def sync_world(tmp_path_factory) -> dict:
    """A station (template folder) and a laptop's package with a signed inspection and a photo."""
    from core import sync
    from core.demo import OFFICERS
    from core.subjects import SubjectData, add_subject
    from tests.integration.helpers import register_officers
    from tests.integration.test_sync import enrolled_laptop, inspect_offline, pull_master_data, rows_of

    base = tmp_path_factory.mktemp("sync")
    template = base / "template"
    template.mkdir()
    station = AppContext.open(template / "station.db")
    subject = add_subject(station, SubjectData(name="驿城区测试化妆品店", category="cosmetics_operator",
                                               credit_code="91350100M000100Y43", address="测试路1号"))
    register_officers(station, [(o.name, o.cert_no) for o in OFFICERS])  # signed records need known officers
    laptop, _ = enrolled_laptop(station, base, "笔记本1")
    pull_master_data(station, laptop, base / "down")
    inspection_id = inspect_offline(laptop, subject.id, OFFICERS, base)
    [package] = sync.export_packages(laptop, base / "up")
    expected = {t: rows_of(laptop, t, inspection_id) for t in ("inspections", "item_results", "photos", "signatures")}
    laptop.close()
    station.close()
    return {"template": template, "package": package, "inspection_id": inspection_id, "expected": expected}


def test_kill_during_a_sync_import(tmp_path, sync_world):
    from tests.integration.test_sync import rows_of

    package, inspection_id = sync_world["package"], sync_world["inspection_id"]

    def prepare(where: Path) -> None:
        shutil.copytree(sync_world["template"], where)

    def work(where: Path) -> Callable[[], int]:
        return lambda: main.main(["sync", "import", "--db", str(where / "station.db"), str(package)])

    def after_kill(where: Path) -> str:
        db = where / "station.db"
        got = _count(db, "item_results"), _count(db, "sync_batches WHERE direction = 'in'")
        assert got in ((0, 0), (len(sync_world["expected"]["item_results"]), 1)), got  # all of it or none
        return "none" if got[1] == 0 else "all"

    def retry(where: Path) -> None:
        db = where / "station.db"
        _cli_ok("sync", "import", "--db", db, package)
        ctx = AppContext.open(db, create=False)
        try:
            for table, rows in sync_world["expected"].items():
                assert rows_of(ctx, table, inspection_id) == rows, table
            from core import sync

            assert sync.import_package(ctx, package).already_imported
        finally:
            ctx.close()

    result = kill_at_random_moments(tmp_path, prepare, work, after_kill, retry)
    assert "none" in result["states"], result


# --- databases left by an older build, and a migration that fails half-way ----------------------

def _bricked(db: Path, head_source: Path, tables: list[str]) -> None:
    """What a killed first start of an older build left: some tables, an empty alembic_version."""
    raw = rawdb.connect(head_source)
    ddl = {name: sql for name, sql in raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")}
    raw.close()
    brick = rawdb.connect(db)
    brick.execute(ddl["alembic_version"])
    for name in tables:
        brick.execute(ddl[name])
    brick.commit()
    brick.close()


@pytest.fixture
def head_db(tmp_path) -> Path:
    db = tmp_path / "head" / "station.db"
    AppContext.open(db).close()
    return db


FIRST_TABLES = ["subjects", "inspections", "inspection_officers", "item_results", "photos", "rectifications",
                "signatures", "settings", "document_counters"]


def test_a_database_bricked_by_an_older_build_is_rebuilt_by_a_setting_up_command(tmp_path, head_db, capsys):
    db = tmp_path / "station.db"
    _bricked(db, head_db, FIRST_TABLES)
    assert _schema(db) == (None, frozenset(FIRST_TABLES + ["alembic_version"]))
    # a reading command: nothing to read, and nothing is touched
    before = db.read_bytes()
    assert main.main(["inspections", "--db", str(db)]) == 2
    assert "数据库是空的" in capsys.readouterr().err and db.read_bytes() == before
    # a command that sets the station up builds the schema (the leftovers held nothing)
    assert main.main(["inspectors", "--db", str(db), "add", "--db", str(db), "--name", "王建国",
                      "--cert-no", "41170021001"]) == 0
    assert _schema(db)[0] == HEAD
    assert _count(db, "users") == 1


def test_leftover_tables_with_rows_are_never_dropped(tmp_path, head_db, capsys):
    from tests.security.digest import database_digest

    db = tmp_path / "station.db"
    _bricked(db, head_db, FIRST_TABLES)
    raw = rawdb.connect(db)
    raw.execute("INSERT INTO settings (key, value) VALUES ('station_name', '某所')")
    raw.commit()
    raw.close()
    before = database_digest(db)
    assert main.main(["demo", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "不是本软件的数据库" in err
    assert database_digest(db) == before


def test_a_migration_interrupted_by_an_older_build_is_refused_without_change(tmp_path, old_tables, capsys):
    """Schema 0005 plus a table of 0006 (an older build killed mid-migration): one clear line."""
    from tests.security.digest import database_digest

    db = tmp_path / "station.db"
    rawdb.copy_db(old_tables[0], db)
    raw = rawdb.connect(db)
    raw.execute("CREATE TABLE devices (id VARCHAR(36) NOT NULL PRIMARY KEY)")
    raw.commit()
    raw.close()
    before = database_digest(db)
    assert main.main(["inspections", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "数据库结构升级未能完成" in err and "restore" in err
    assert database_digest(db) == before


def test_a_failure_in_the_last_migration_rolls_back_all_of_them(tmp_path, old_tables):
    """The whole upgrade is one transaction: a new database stays empty, an old one stays on 0005."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def fail(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().startswith("CREATE TABLE sync_conflicts"):  # in 0006, the last migration
            raise RuntimeError("the power went")

    old = tmp_path / "old.db"
    rawdb.copy_db(old_tables[0], old)
    event.listen(Engine, "before_cursor_execute", fail)
    try:
        for db in (tmp_path / "new.db", old):
            with pytest.raises(RuntimeError):
                AppContext.open(db)
    finally:
        event.remove(Engine, "before_cursor_execute", fail)
    assert _schema(tmp_path / "new.db") == (None, frozenset())
    assert _schema(old) == ("0005", old_tables[1])
    for db in (tmp_path / "new.db", old):
        AppContext.open(db).close()
        assert _schema(db)[0] == HEAD
