"""Secrets in the open (issue: trust, attack 7): keys sealed at rest, a sealed enrolment file,
no admin verifier on a laptop, and a log-in that tells nobody which names exist."""
from __future__ import annotations

from tests.support import rawdb  # noqa: E402  (encrypted or plain test databases)

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core import keystore, signing, sync
from core.context import AppContext
from core.errors import InvalidInput
from core.users import LoginFailed, add_user, log_in
from tests.integration.test_sync import pull_master_data

ROOT = Path(__file__).resolve().parents[2]


def _settings(db: Path) -> dict[str, str]:
    with rawdb.connect(db) as conn:
        return dict(conn.execute("SELECT key, value FROM settings"))


def test_private_keys_are_sealed_and_a_copied_database_gives_none(ctx, tmp_path):
    data = sync.add_device(ctx, "执法笔记本1")
    laptop = AppContext.open(tmp_path / "laptop.db")
    sync.enrol_device(laptop, data)
    for db, context in ((Path(ctx.engine.url.database), ctx), (tmp_path / "laptop.db", laptop)):
        stored = _settings(db)[sync.S_PRIVATE]
        assert keystore.is_sealed(stored)
        private = sync.private_key(context)
        raw = db.read_bytes() + Path(f"{db}-wal").read_bytes() if Path(f"{db}-wal").exists() else db.read_bytes()
        assert len(private) == 64 and private.encode() not in raw and bytes.fromhex(private) not in raw
        assert keystore.key_file(context.device_id).stat().st_mode & 0o777 == 0o600
    laptop.close()

    # the laptop's database copied off the machine: without its key file it signs nothing
    stolen = tmp_path / "stolen"
    stolen.mkdir()
    for suffix in ("", "-wal", "-shm", ".keys"):  # everything an attacker copying the files gets
        if (tmp_path / f"laptop.db{suffix}").exists():
            shutil.copy(tmp_path / f"laptop.db{suffix}", stolen / f"laptop.db{suffix}")
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, keystore.KEY_DIR_ENV: str(tmp_path / "elsewhere-keys")}
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "sync", "export", "--db",
                             str(stolen / "laptop.db"), "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("错误：本机的密钥文件") and len(result.stderr.strip().splitlines()) == 1
    assert list(out.iterdir()) == []


def test_a_key_stored_in_the_clear_by_an_older_version_is_sealed_on_first_use(ctx):
    private, _public = signing.new_key_pair()
    ctx.set_settings({sync.S_ROLE: "station", sync.S_STATION_ID: "s-1", sync.S_PRIVATE: private})
    assert sync.private_key(ctx) == private
    assert keystore.is_sealed(_settings(Path(ctx.engine.url.database))[sync.S_PRIVATE])
    assert sync.private_key(ctx) == private


def test_a_sealed_value_moved_to_another_database_does_not_open(ctx, tmp_path):
    sync.add_device(ctx, "执法笔记本1")
    other = AppContext.open(tmp_path / "other.db")
    other.set_setting(sync.S_PRIVATE, ctx.setting(sync.S_PRIVATE))  # same bytes, other device id
    with pytest.raises(InvalidInput, match="密钥文件"):
        sync.private_key(other)
    other.close()


def test_the_enrolment_file_is_sealed_with_the_one_time_code(ctx, tmp_path):
    path = tmp_path / "laptop.json"
    data = sync.add_device(ctx, "执法笔记本1", path)
    code = data["enrolment_code"]
    text = path.read_text(encoding="utf-8")
    assert data["device_private_key"] not in text and "device_private_key" not in text
    assert path.stat().st_mode & 0o777 == 0o600
    opened = sync.open_enrolment(path.read_bytes(), code)
    assert opened["device_private_key"] == data["device_private_key"]
    assert sync.open_enrolment(path.read_bytes(), code.replace("-", ""))["device_id"] == data["device_id"]

    wrong = "".join("1" if ch != "1" else "2" for ch in code.replace("-", ""))
    with pytest.raises(InvalidInput, match="^登记码不正确（或登记文件已被改动）$"):
        sync.open_enrolment(path.read_bytes(), wrong)
    envelope = json.loads(text)
    tampered = dict(envelope, ciphertext=envelope["ciphertext"][:-8] + "AAAAAAA=")
    with pytest.raises(InvalidInput, match="登记码不正确"):
        sync.open_enrolment(json.dumps(tampered).encode(), code)
    cheap = dict(envelope, kdf={**envelope["kdf"], "scrypt": {"n": 2, "r": 1, "p": 1}})
    with pytest.raises(InvalidInput, match="登记文件无效"):
        sync.open_enrolment(json.dumps(cheap).encode(), code)
    with pytest.raises(InvalidInput, match="登记文件无效"):
        sync.open_enrolment(b"{" * 100_000, code)
    with pytest.raises(InvalidInput, match="12 位数字"):
        sync.open_enrolment(path.read_bytes(), "1234")


def test_a_laptop_receives_no_verifier_of_the_admin(ctx, subject, tmp_path):
    add_user(ctx, name="张所长", role="admin", password="admin-secret")
    add_user(ctx, name="王建国", role="inspector", password="inspect-1", cert_no="41170021001")
    add_user(ctx, name="马红", role="grid_worker", password="grid-1234", grid="西园社区")
    data = sync.add_device(ctx, "执法笔记本1")
    laptop = AppContext.open(tmp_path / "laptop.db")
    sync.enrol_device(laptop, data)
    pull_master_data(ctx, laptop, tmp_path / "down")
    with rawdb.connect(tmp_path / "laptop.db") as conn:
        hashes = dict(conn.execute("SELECT name, password_hash FROM users"))
    assert sorted(hashes) == ["张所长", "王建国", "马红"]
    assert hashes["张所长"] is None
    assert hashes["王建国"].startswith("scrypt$") and hashes["马红"].startswith("scrypt$")
    with pytest.raises(LoginFailed, match="^用户名或密码错误$"):
        log_in(laptop, "张所长", "admin-secret")
    assert log_in(laptop, "王建国", "inspect-1").name == "王建国"
    laptop.close()


def test_an_unknown_name_and_a_wrong_password_cost_and_answer_the_same(ctx, monkeypatch):
    add_user(ctx, name="王建国", role="inspector", password="inspect-1", cert_no="41170021001")
    log_in(ctx, "王建国", "inspect-1")  # warm: the decoy verifier is made once per process
    ctx.user = None
    calls: list[tuple] = []
    real = hashlib.scrypt

    def counting(password, *, salt, n, r, p, maxmem=0, dklen=64):
        calls.append((n, r, p, dklen))
        return real(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    answers = {}
    for name in ("王建国", "没有这个人"):
        calls.clear()
        with pytest.raises(LoginFailed) as refused:
            log_in(ctx, name, "wrong-password")
        answers[name] = (refused.value.message, list(calls))
    assert len(answers["王建国"][1]) == 1
    assert answers["王建国"] == answers["没有这个人"]

    # an unknown name is locked out like a real one: the lock tells nothing either
    for _ in range(3):
        with pytest.raises(LoginFailed, match="^用户名或密码错误$"):
            log_in(ctx, "没有这个人", "wrong-password")
    with pytest.raises(LoginFailed, match="锁定"):
        log_in(ctx, "没有这个人", "wrong-password")
    with pytest.raises(LoginFailed, match="锁定"):
        log_in(ctx, "没有这个人", "wrong-password")
