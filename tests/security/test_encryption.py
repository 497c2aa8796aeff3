"""The database encrypted at rest (SQLCipher, core.dbkeys, core.unlock): what a stolen laptop's files give away.

Most tests here run WITHOUT the suite's service key (``no_service_key``): a laptop as it is
in the field, opened only by its users' passwords (or the station's recovery key).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import dbkeys
from core.context import AppContext
from core.demo import DEMO_PASSWORD, DEMO_SUBJECTS
from db import cipher
from tests.support import rawdb
from tests.support.stations import copy_station

ROOT = Path(__file__).resolve().parents[2]
PARTY, PHONE = DEMO_SUBJECTS[1].name, DEMO_SUBJECTS[1].phone


@pytest.fixture
def no_service_key(monkeypatch):
    monkeypatch.delenv(dbkeys.SERVICE_KEY_ENV, raising=False)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != dbkeys.SERVICE_KEY_ENV}
    return {**env, **extra}


def _cli(*args, env=None, input_text=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True, text=True,
                          env=env if env is not None else _env(), input=input_text, timeout=300)


def _password_file(tmp_path: Path, password: str, name: str = "pw.txt") -> Path:
    path = tmp_path / name
    path.write_text(password + "\n", encoding="utf-8")
    return path


def _one_line(err: str, needle: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：") and needle in lines[0], err
    assert "sqlcipher" not in err.lower() and "Traceback" not in err


@pytest.fixture(scope="module")
def _demo_laptop_made(tmp_path_factory) -> Path:
    """``demo`` as a user runs it (a subprocess without the service key), once for this module."""
    db = tmp_path_factory.mktemp("demo-laptop") / "demo.db"
    done = _cli("demo", "--db", db)
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def demo_laptop(_demo_laptop_made, tmp_path, no_service_key) -> Path:
    """A new, encrypted demo database unlocked by the demo accounts' passwords: a fresh copy of
    what ``demo`` made (its key sidecar, anchors and attachments with it) in ``tmp_path``."""
    return copy_station(_demo_laptop_made, tmp_path)


@pytest.fixture(scope="module")
def _plain_demo_made(tmp_path_factory) -> Path:
    """A plain (unencrypted) demo station, as an older build left it, once for this module."""
    from core.demo import create_demo

    db = tmp_path_factory.mktemp("plain-demo") / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(dbkeys.SERVICE_KEY_ENV, raising=False)
        ctx = AppContext.open(db, encrypt=False)
        create_demo(ctx)
        ctx.close()
    return db


@pytest.fixture
def plain_demo(_plain_demo_made, tmp_path, no_service_key) -> Path:
    """A fresh copy of the plain demo station in ``tmp_path``."""
    return copy_station(_plain_demo_made, tmp_path)


def test_the_demo_database_wal_and_backups_hold_no_party_name_or_phone(demo_laptop, tmp_path):
    pw = _password_file(tmp_path, DEMO_PASSWORD)
    done = _cli("backup", "--db", demo_laptop, "--as", "张所长", "--password-file", pw)
    assert done.returncode == 0, done.stderr
    backups = sorted((tmp_path / "demo-backups").glob("*.db"))
    files = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".anchors")]
    assert len(backups) == 1 and demo_laptop in files and cipher.keys_file(backups[0]) in files
    for path in files:
        data = path.read_bytes()
        for secret in (PARTY, PHONE, "张丽", "驻马店市驿城区解放路128号"):
            assert secret.encode("utf-8") not in data, f"{secret} in {path.name}"
    assert demo_laptop.read_bytes()[:16] != cipher.SQLITE_HEADER
    # and the key that opens them is there for the demo's users only
    assert dbkeys.read(demo_laptop).device is None and dbkeys.read(demo_laptop).service is None
    assert set(dbkeys.user_names(demo_laptop)) >= {"张所长", "马红"}


def test_a_wal_with_pending_writes_is_encrypted_too(tmp_path, no_service_key):
    from core.subjects import SubjectData, add_subject

    db = tmp_path / "laptop.db"
    ctx = AppContext.open(db, encrypt=True)
    add_subject(ctx, SubjectData(name=PARTY, category="cosmetics_operator", phone=PHONE, address="某路1号"))
    wal = Path(f"{db}-wal")
    assert wal.is_file() and wal.stat().st_size > 0  # the app still has it open: the write is in the WAL
    for path in (db, wal):
        assert PARTY.encode("utf-8") not in path.read_bytes() and PHONE.encode() not in path.read_bytes()
    assert ctx.file_key == dbkeys.file_key(cipher.key_of(db)) and len(ctx.file_key) == 32
    ctx.close()


def test_without_a_key_or_with_a_wrong_one_one_message(demo_laptop, tmp_path):
    before = demo_laptop.read_bytes()
    done = _cli("users", "list", "--db", demo_laptop)
    if done.returncode == 2 and "无效" in done.stderr:  # no `users list` command: any reading one
        done = _cli("audit", "verify", "--db", demo_laptop)
    assert done.returncode == 2
    _one_line(done.stderr, "数据库已加密，需要用户名和密码")
    wrong = _cli("audit", "verify", "--db", demo_laptop, "--as", "张所长", "--password-file",
                 _password_file(tmp_path, "not-the-password"))
    assert wrong.returncode == 2
    _one_line(wrong.stderr, "用户名或密码错误")
    unknown = _cli("audit", "verify", "--db", demo_laptop, "--as", "无此人", "--password-file",
                   _password_file(tmp_path, DEMO_PASSWORD, "p2.txt"))
    assert unknown.returncode == 2 and unknown.stderr == wrong.stderr  # an unknown name: the same answer
    half = _cli("audit", "verify", "--db", demo_laptop, "--as", "张所长")
    assert half.returncode == 2
    _one_line(half.stderr, "--password-file")
    # a service key file that is not this database's: the same one line, nothing printed by SQLCipher
    other = tmp_path / "other.key"
    other.write_bytes(os.urandom(32))
    done = _cli("audit", "verify", "--db", demo_laptop, env=_env(**{dbkeys.SERVICE_KEY_ENV: str(other)}))
    assert done.returncode == 2
    _one_line(done.stderr, "数据库已加密")
    assert demo_laptop.read_bytes() == before


def test_a_wrong_raw_key_is_one_line(tmp_path):
    db = tmp_path / "x.db"
    AppContext.open(db, encrypt=True).close()
    cipher.remember(db, os.urandom(32))  # what a tampered sidecar or a wrong key would give
    with pytest.raises(Exception) as refused:
        AppContext.open(db, create=False)
    assert getattr(refused.value, "message", "").startswith("数据库的密钥不正确"), refused.value


def test_two_users_unlock_the_same_laptop(demo_laptop, tmp_path):
    pw = _password_file(tmp_path, DEMO_PASSWORD)
    for name in ("张所长", "马红"):
        done = _cli("audit", "verify", "--db", demo_laptop, "--as", name, "--password-file", pw)
        assert done.returncode == 0, (name, done.stderr)


def test_the_cli_acts_as_the_user_it_logged_in(demo_laptop, tmp_path):
    pw = _password_file(tmp_path, DEMO_PASSWORD)
    done = _cli("users", "add", "--db", demo_laptop, "--name", "新人", "--role", "inspector", "--as", "马红",
                "--password-file", pw, "--password-stdin", input_text="abcdef123\n")
    assert done.returncode == 2, done.stderr
    _one_line(done.stderr, "无权")  # a grid worker is not an admin, whoever's password opened the file


def test_a_new_user_gets_a_wrap_at_their_first_log_in_while_unlocked(tmp_path, no_service_key):
    from core.users import add_user, log_in, log_out

    db = tmp_path / "station.db"
    ctx = AppContext.open(db, encrypt=True)
    add_user(ctx, name="所长", role="admin", password="secret123")
    log_in(ctx, "所长", "secret123")  # the first log-in: the transitional device wrap goes
    assert dbkeys.user_names(db) == ["所长"] and dbkeys.read(db).device is None
    add_user(ctx, name="王建国", role="inspector", password="wang12345", cert_no="41170021001")
    assert dbkeys.user_names(db) == ["所长"]  # added: no wrap until they log in here
    log_out(ctx)
    log_in(ctx, "王建国", "wang12345")
    assert dbkeys.user_names(db) == ["所长", "王建国"]
    ctx.close()
    cipher.forget(db)
    from core.unlock import open_as

    again = open_as(db, login=("王建国", "wang12345"))
    assert again.user.name == "王建国"
    again.close()


def test_password_change_rewraps_and_deactivation_removes_the_wrap(tmp_path, no_service_key):
    from core.users import add_user, list_users, log_in, set_active, set_password
    from core.unlock import open_as

    db = tmp_path / "station.db"
    ctx = AppContext.open(db, encrypt=True)
    add_user(ctx, name="所长", role="admin", password="secret123")
    add_user(ctx, name="王建国", role="inspector", password="wang12345", cert_no="41170021001")
    log_in(ctx, "王建国", "wang12345")
    log_in(ctx, "所长", "secret123")
    size = db.stat().st_size
    wang = next(u for u in list_users(ctx) if u.name == "王建国")
    set_password(ctx, wang.id, "newpass678")
    assert db.stat().st_size == size  # rewrapped, nothing re-encrypted
    ctx.close()
    cipher.forget(db)
    with pytest.raises(Exception, match="用户名或密码错误"):
        open_as(db, login=("王建国", "wang12345"))
    ctx = open_as(db, login=("王建国", "newpass678"))
    ctx.close()
    cipher.forget(db)
    ctx = open_as(db, login=("所长", "secret123"))
    set_active(ctx, wang.id, False)
    assert dbkeys.user_names(db) == ["所长"]
    ctx.close()
    cipher.forget(db)
    with pytest.raises(Exception, match="用户名或密码错误"):
        open_as(db, login=("王建国", "newpass678"))


def test_the_station_recovers_a_laptop_nobody_can_open(tmp_path, no_service_key):
    from core import sync
    from core.users import add_user, log_in

    station = AppContext.open(tmp_path / "station.db")  # the station stays plain (its own setting)
    assert station.encrypted_file is None
    enrolment = tmp_path / "enrol.json"
    code = sync.add_device(station, "笔记本1", enrolment)["enrolment_code"]
    station.close()
    laptop = tmp_path / "laptop.db"
    done = _cli("devices", "enrol", "--db", laptop, enrolment, "--code-stdin", input_text=code + "\n")
    assert done.returncode == 0, done.stderr
    assert cipher.is_encrypted(laptop) and dbkeys.read(laptop).recovery is not None
    # the first sync works (the device wrap); then a user logs in and the device wrap goes
    ctx = AppContext.open(laptop, create=False)
    add_user(ctx, name="王建国", role="inspector", password="wang12345", cert_no="41170021001")
    log_in(ctx, "王建国", "wang12345")
    ctx.close()
    cipher.forget(laptop)
    assert dbkeys.read(laptop).device is None
    # the password is forgotten: the admin reopens it with the station's recovery key
    done = _cli("audit", "verify", "--db", laptop)
    assert done.returncode == 2
    new_pw = _password_file(tmp_path, "fresh-pass-1")
    done = _cli("recover", "--db", laptop, "--station-db", tmp_path / "station.db", "--user", "王建国",
                "--new-password-file", new_pw)
    assert done.returncode == 0, done.stderr
    done = _cli("audit", "verify", "--db", laptop, "--as", "王建国", "--password-file", new_pw)
    assert done.returncode == 0, done.stderr
    # another station's recovery key opens nothing
    other = AppContext.open(tmp_path / "other.db")
    sync.add_device(other, "x")
    other.close()
    done = _cli("recover", "--db", laptop, "--station-db", tmp_path / "other.db")
    assert done.returncode == 2
    _one_line(done.stderr, "恢复密钥打不开")


@pytest.mark.parametrize("content", [b"{not json", b"[]", json.dumps({"format": "x"}).encode(), b"{" * 300_000,
                                     json.dumps({"format": dbkeys.FORMAT, "version": 1, "db_id": "../../etc",
                                                 "users": {}}).encode()])
def test_a_hostile_sidecar_is_one_line(tmp_path, content):
    from core.errors import InvalidInput

    db = tmp_path / "x.db"
    AppContext.open(db, encrypt=True).close()
    cipher.forget(db)
    cipher.keys_file(db).write_bytes(content)
    with pytest.raises(InvalidInput, match="密钥文件已损坏"):
        AppContext.open(db, create=False, login=("张所长", DEMO_PASSWORD))


def test_restore_from_an_encrypted_backup(tmp_path):
    from core.backup import make_backup, restore_backup
    from core.subjects import SubjectData, add_subject, search_subjects

    db = tmp_path / "station.db"
    ctx = AppContext.open(db, encrypt=True)
    assert ctx.encrypted_file == db
    add_subject(ctx, SubjectData(name=PARTY, category="cosmetics_operator", phone=PHONE, address="某路1号"))
    backup = make_backup(db)
    add_subject(ctx, SubjectData(name="后来的店", category="cosmetics_operator", address="某路2号"))
    ctx.close()
    assert PARTY.encode() not in backup.read_bytes() and cipher.keys_file(backup).is_file()
    for known in (db, backup):
        cipher.forget(known)
    restore_backup(backup, db)
    ctx = AppContext.open(db, create=False)
    assert [s.name for s in search_subjects(ctx)] == [PARTY]
    ctx.close()
    assert rawdb.connect(db).execute("PRAGMA integrity_check").fetchone() == ("ok",)


# --- migration of a plain database, kill -9 at every step -----------------------------------------

STEPS = ["keys-written", "exported", "wal-removed", "swapped"]


def _count(db: Path, pw: Path | None) -> int:
    ctx_env = _env()
    probe = subprocess.run([sys.executable, "-c", (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from core.unlock import open_as; from core.subjects import count_subjects;"
        "login = (sys.argv[3], open(sys.argv[4]).read().strip()) if len(sys.argv) > 4 else None;"
        "ctx = open_as(sys.argv[2], login=login); print(count_subjects(ctx))"),
        str(ROOT), str(db), *(["张所长", str(pw)] if pw else [])], capture_output=True, text=True, env=ctx_env,
        timeout=300)
    assert probe.returncode == 0, probe.stderr
    return int(probe.stdout.strip())


def test_migration_of_a_plain_demo_database_survives_kill_9_at_every_step(plain_demo, tmp_path):
    db = plain_demo
    assert cipher.is_plain(db) and PARTY.encode() in db.read_bytes()
    pw = _password_file(tmp_path, DEMO_PASSWORD)
    subjects = _count(db, None)
    assert subjects == len(DEMO_SUBJECTS)
    for step in STEPS:
        done = _cli("encrypt", "--db", db, "--as", "张所长", "--password-file", pw, env=_env(YXJC_CRASH_AT=step))
        assert done.returncode == 9, (step, done.stderr)
        encrypted = not cipher.is_plain(db)
        assert encrypted == (step == "swapped"), step
        assert _count(db, pw if encrypted else None) == subjects, step
        if encrypted:
            break
    assert not cipher.is_plain(db)
    for suffix in ("", "-wal", ".encrypting"):
        path = Path(f"{db}{suffix}")
        assert not path.exists() or PARTY.encode() not in path.read_bytes(), suffix
    done = _cli("encrypt", "--db", db, "--as", "张所长", "--password-file", pw)
    assert done.returncode == 2
    _one_line(done.stderr, "已经加密")


def test_migration_needs_a_password_and_checks_it(plain_demo, tmp_path):
    db = plain_demo
    done = _cli("encrypt", "--db", db)
    assert done.returncode == 2
    _one_line(done.stderr, "需要一位用户的姓名和密码")
    done = _cli("encrypt", "--db", db, "--as", "张所长", "--password-file", _password_file(tmp_path, "wrong-one"))
    assert done.returncode == 2
    _one_line(done.stderr, "用户名或密码错误")
    assert cipher.is_plain(db)
